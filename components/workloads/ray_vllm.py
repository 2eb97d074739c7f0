"""vLLM across several GPU nodes on a Ray cluster: the KubeRay operator and a RayCluster whose head
starts `vllm serve --distributed-executor-backend ray` once every worker has joined, with a Service
for the OpenAI API on the head.

Sources:
- KubeRay: the official chart `kuberay-operator` from https://ray-project.github.io/kuberay-helm/
  (Ray docs, "KubeRay Operator Installation"); the RayCluster schema is
  ../shared/crds/ray.io_rayclusters.yaml (workerGroupSpecs require groupName, minReplicas,
  maxReplicas and template; rayStartParams values are strings).
- Container commands: with the annotation `ray.io/overwrite-container-cmd: "true"` (KubeRay >= 1.1.0)
  KubeRay runs the container's command as written and hands the `ray start` it generated in
  $KUBERAY_GEN_RAY_START_CMD (Ray docs, "Specify container commands for Ray head/worker Pods",
  https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/pod-command.html). The head backgrounds
  the serve script, then runs `ray start --head --block`.
- Wait-then-serve and the vLLM flags follow vllm-project/production-stack
  helm/templates/ray-cluster.yaml (wait_for_ray.py, vllm-entrypoint.sh) and vLLM's parallelism guide
  (https://docs.vllm.ai/en/latest/serving/parallelism_scaling/): tensor parallel = GPUs per node,
  pipeline parallel = nodes, `--distributed-executor-backend ray`; VLLM_HOST_IP from the pod IP
  (vllm/envs.py: "If you are using multi-node inference, you should set this differently on each node").
- RDMA in a pod (optional, `rdma`): hostNetwork + ClusterFirstWithHostNet, /dev/infiniband from the
  host, IPC_LOCK, a memory-backed /dev/shm: oracle-quickstart/oci-hpc-oke
  docs/using-rdma-network-interfaces-in-manifests.md and its host-network NCCL test manifests. Too
  small a /dev/shm breaks NCCL (vllm-project/production-stack#276).
  Without `rdma` the same cluster talks NCCL over TCP sockets in the pod network, non-root with all
  capabilities dropped (e.g. OpenShift's restricted SCC).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, GPU_RESOURCE, LABEL_PREFIX
from components.workloads.api_service import openai_api_service
from components.workloads.namespace import API_KEY_SECRET_KEY
from components.workloads.types import GpuPlacement, ModelSource
from components.workloads.vllm import PORT, vllm_args

RAY_PORTS = [("gcs-server", 6379), ("dashboard", 8265), ("client", 10001)]
ROLE_LABEL = f"{LABEL_PREFIX}/ray-node"

# Started in the background on the head: wait until Ray sees every GPU of every node, then serve.
# (production-stack's wait_for_ray.py counts alive nodes; counting GPUs also waits for each worker's
# GPUs to register.)
_SERVE_SCRIPT = """\
#!/bin/bash
set -u
echo "waiting for $EXPECTED_GPUS GPUs on $EXPECTED_NODES Ray nodes"
until python3 - <<'PY'
import os, sys
import ray
ray.init(address="auto")
gpus = int(ray.cluster_resources().get("GPU", 0))
nodes = len([n for n in ray.nodes() if n["Alive"]])
print(f"ray cluster: {{nodes}}/{{os.environ['EXPECTED_NODES']}} nodes, {{gpus}}/{{os.environ['EXPECTED_GPUS']}} GPUs", flush=True)
sys.exit(0 if gpus >= int(os.environ["EXPECTED_GPUS"]) and nodes >= int(os.environ["EXPECTED_NODES"]) else 1)
PY
do
  sleep 10
done
exec vllm serve {args}
"""


@dataclass(frozen=True)
class KubeRayOperatorArgs:
    chart: str
    version: str
    repo: str
    namespace: str = "kuberay-system"
    node_selector: dict[str, str] = field(default_factory=dict)
    """Where the operator runs (a system pool)."""


class KubeRayOperator(pulumi.ComponentResource):
    """The KubeRay operator and its CRDs, from the official Helm chart at a pinned version."""

    release_name: pulumi.Output[str]
    namespace: str
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KubeRayOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:KubeRayOperator", name, None, opts)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="kuberay-operator",
            chart=args.chart,
            version=args.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.repo),
            namespace=args.namespace,
            create_namespace=True,
            values={"nodeSelector": args.node_selector} if args.node_selector else {},
            # The RayCluster waits for the operator and its CRD.
            wait_for_jobs=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release_name = self.release.name.apply(lambda n: n or "kuberay-operator")
        self.namespace = args.namespace
        self.register_outputs({"releaseName": self.release_name})


@dataclass(frozen=True)
class RdmaPodAccess:
    """Give every Ray pod the node's RDMA NICs (one pod per node, on the host network)."""

    devices_path: str = "/dev/infiniband"
    privileged: bool = True
    """The device nodes of a hostPath mount are not in a container's device allow-list; oci-hpc-oke
    runs every RDMA pod privileged (docs/using-rdma-network-interfaces-in-manifests.md). False only with
    an RDMA device plugin that grants the devices."""


@dataclass(frozen=True)
class RayVllmArgs:
    namespace: pulumi.Input[str]
    image: str
    """A vLLM image (it ships Ray): the same image for head and workers."""
    served_model_name: str
    source: ModelSource
    placement: GpuPlacement
    api_key_secret_name: pulumi.Input[str]
    nodes: int
    """GPU nodes, one Ray pod each: the head plus nodes - 1 workers."""
    gpus_per_node: int
    tensor_parallel_size: int
    pipeline_parallel_size: int
    ray_version: str | None = None
    """`spec.rayVersion`: the Ray version inside `image`; None leaves it unset."""
    max_model_len: int = 8192
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    quantization: str | None = None
    extra_args: list[str] = field(default_factory=list)
    cpu: str = "32"
    memory: str = "256Gi"
    shm_size_gi: int = 32
    startup_timeout_seconds: int = 3600
    """Workers joining plus weight loading, before the startup probe restarts the head."""
    termination_grace_period_seconds: int = 120
    nccl_env: dict[str, str] = field(default_factory=dict)
    """NCCL_* (and other) variables for every GPU container, e.g. a per-shape table."""
    rdma: RdmaPodAccess | None = None
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    service_port: int = PORT
    service_annotations: dict[str, str] = field(default_factory=dict)
    load_balancer_source_ranges: list[str] = field(default_factory=list)
    operator: pulumi.Resource | None = None
    """The KubeRay operator release (its CRD must exist first); None when KubeRay is already installed."""
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID of non-RDMA pods; None lets the platform assign one (OpenShift's restricted SCC)."""
    dashboard_host: str = "127.0.0.1"
    """Where the head's Ray dashboard binds. Its job API runs arbitrary code and Ray has no auth, so
    loopback by default; KubeRay would otherwise inject 0.0.0.0 (ray-operator/controllers/ray/common/
    pod.go, "dashboard-host" default, v1.7.0). KubeRay's own probes call it on localhost
    (utils/constant.go BaseWgetHealthCommand), so they keep working."""
    wait_for: list[pulumi.Resource] = field(default_factory=list)
    name: str = "vllm"


def camel(value: Any) -> Any:
    """snake_case keys (as the typed Kubernetes resources accept them) -> the wire's camelCase, for
    ModelSource parts placed in an untyped custom resource."""
    if isinstance(value, dict):
        return {_camel_key(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def serve_flags(args: RayVllmArgs) -> list[pulumi.Input[str]]:
    """`vllm serve` on the head: tensor parallel inside each node, pipeline parallel across nodes, on Ray."""
    parallel = ("--pipeline-parallel-size", str(args.pipeline_parallel_size), "--distributed-executor-backend", "ray")
    return vllm_args(args, parallel)


def socket_env(nccl_env: dict[str, str]) -> dict[str, str]:
    """The NCCL variables plus GLOO_SOCKET_IFNAME on the same interface as NCCL_SOCKET_IFNAME.

    vLLM also opens gloo process groups (vllm/distributed/parallel_state.py, backend="gloo"), and gloo
    picks its interface from GLOO_SOCKET_IFNAME, not NCCL's variable (PyTorch "Distributed communication
    package", Common environment variables: https://docs.pytorch.org/docs/stable/distributed.html); on a
    host with many interfaces it may otherwise bind to one the other nodes cannot reach.
    """
    env = dict(nccl_env)
    if "NCCL_SOCKET_IFNAME" in env:
        env.setdefault("GLOO_SOCKET_IFNAME", env["NCCL_SOCKET_IFNAME"])
    return env


class RayVllmServer(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_port: int
    load_balancer_address: pulumi.Output[str] | None
    pod_labels: dict[str, str]
    ray_selector: k8s.meta.v1.LabelSelectorArgsDict

    def __init__(self, name: str, args: RayVllmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:RayVllmServer", name, None, opts)
        total = args.nodes * args.gpus_per_node
        if args.tensor_parallel_size * args.pipeline_parallel_size != total:
            raise ValueError(
                f"RayVllmArgs: tensor_parallel_size {args.tensor_parallel_size} x pipeline_parallel_size "
                f"{args.pipeline_parallel_size} must equal nodes {args.nodes} x gpus_per_node {args.gpus_per_node}"
            )
        labels = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": args.name}
        head_labels = {**labels, ROLE_LABEL: "head"}
        rdma = args.rdma
        gpus = str(args.gpus_per_node)

        script = k8s.core.v1.ConfigMap(
            f"{name}-scripts",
            metadata={"name": f"{args.name}-ray-scripts", "namespace": args.namespace, "labels": labels},
            data={
                "serve.sh": pulumi.Output.all(*serve_flags(args)).apply(
                    lambda flags: _SERVE_SCRIPT.format(args=" ".join(shlex.quote(str(f)) for f in flags))
                )
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

        def container(role: Literal["head", "worker"]) -> dict[str, Any]:
            env: list[dict[str, Any]] = [
                {"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "HOME", "value": "/tmp"},
                # An arbitrary UID has no /etc/passwd entry; getpass.getuser() (vllm/config/vllm.py) reads USER first.
                {"name": "USER", "value": "vllm"},
                # Weights come from the model store only; never reach out to the Hub at start.
                {"name": "HF_HUB_OFFLINE", "value": "1"},
                {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
                *({"name": k, "value": v} for k, v in sorted(socket_env(args.nccl_env).items())),
                *camel(list(args.source.env)),
            ]
            mounts: list[dict[str, Any]] = [
                {"name": "shm", "mountPath": "/dev/shm"},
                *camel(list(args.source.volume_mounts)),
            ]
            if rdma is not None:
                mounts.append({"name": "infiniband", "mountPath": rdma.devices_path})
            ports = [{"name": n, "containerPort": p} for n, p in RAY_PORTS] if role == "head" else []
            # ulimit as Ray's generated command has it; the head starts vLLM in the background first.
            start = "ulimit -n 65536; "
            if role == "head":
                start += "bash /scripts/serve.sh & "
            spec: dict[str, Any] = {
                "name": f"ray-{role}",
                "image": args.image,
                "command": ["/bin/bash", "-lc", "--"],
                "args": [start + "$KUBERAY_GEN_RAY_START_CMD"],
                "env": env,
                "resources": {
                    "requests": {"cpu": args.cpu, "memory": args.memory, GPU_RESOURCE: gpus},
                    "limits": {"memory": args.memory, GPU_RESOURCE: gpus},
                },
                "volumeMounts": mounts,
            }
            if role == "head":
                env += [
                    {
                        "name": "VLLM_API_KEY",
                        "valueFrom": {"secretKeyRef": {"name": args.api_key_secret_name, "key": API_KEY_SECRET_KEY}},
                    },
                    {"name": "EXPECTED_NODES", "value": str(args.nodes)},
                    {"name": "EXPECTED_GPUS", "value": str(total)},
                ]
                mounts.append({"name": "scripts", "mountPath": "/scripts", "readOnly": True})
                spec["ports"] = [*ports, {"name": "http", "containerPort": PORT}]
                health = {"httpGet": {"path": "/health", "port": "http"}}
                spec["startupProbe"] = {
                    **health,
                    "periodSeconds": 10,
                    "failureThreshold": math.ceil(args.startup_timeout_seconds / 10),
                }
                spec["readinessProbe"] = {**health, "periodSeconds": 5, "failureThreshold": 3}
                spec["livenessProbe"] = {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6}
            if rdma is not None:
                # Registering RDMA memory pins it (ibv_reg_mr): IPC_LOCK; root, as in oci-hpc-oke.
                spec["securityContext"] = {"privileged": rdma.privileged, "capabilities": {"add": ["IPC_LOCK"]}}
            else:
                spec["securityContext"] = {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "runAsNonRoot": True,
                }
            return spec

        def pod(role: Literal["head", "worker"]) -> dict[str, Any]:
            pod_spec: dict[str, Any] = {
                "terminationGracePeriodSeconds": args.termination_grace_period_seconds,
                "nodeSelector": args.placement.node_selector,
                "tolerations": args.placement.tolerations(),
                # One Ray pod per GPU node: the pods hold every GPU of their node.
                "affinity": {
                    "podAntiAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}
                        ]
                    }
                },
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "containers": [container(role)],
                "volumes": [
                    {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{args.shm_size_gi}Gi"}},
                    *camel(list(args.source.volumes)),
                ],
            }
            if role == "head":
                pod_spec["volumes"].append(
                    {"name": "scripts", "configMap": {"name": f"{args.name}-ray-scripts", "defaultMode": 0o755}}
                )
            if rdma is not None:
                pod_spec["hostNetwork"] = True
                pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
                pod_spec["volumes"].append({"name": "infiniband", "hostPath": {"path": rdma.devices_path}})
            else:
                pod_spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
                if args.run_as_user is not None:  # None: the platform assigns the UID (OpenShift's SCC)
                    pod_spec["securityContext"].update(
                        {"runAsUser": args.run_as_user, "runAsGroup": args.run_as_user, "fsGroup": args.run_as_user}
                    )
            if args.image_pull_secrets:
                pod_spec["imagePullSecrets"] = [{"name": s} for s in args.image_pull_secrets]
            return {
                "metadata": {"labels": head_labels if role == "head" else {**labels, ROLE_LABEL: "worker"}},
                "spec": pod_spec,
            }

        spec: dict[str, Any] = {
            "enableInTreeAutoscaling": False,
            "headGroupSpec": {
                "serviceType": "ClusterIP",
                "rayStartParams": {"dashboard-host": args.dashboard_host, "num-gpus": gpus},
                "template": pod("head"),
            },
        }
        if args.ray_version is not None:
            spec["rayVersion"] = args.ray_version
        workers = args.nodes - 1
        if workers > 0:
            spec["workerGroupSpecs"] = [
                {
                    "groupName": "gpu",
                    "replicas": workers,
                    "minReplicas": workers,
                    "maxReplicas": workers,
                    "rayStartParams": {"num-gpus": gpus},
                    "template": pod("worker"),
                }
            ]

        # `pulumi up` does not wait for a custom resource's readiness; the Service's endpoints show it.
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-raycluster",
            api_version="ray.io/v1",
            kind="RayCluster",
            metadata={
                "name": args.name,
                "namespace": args.namespace,
                "labels": labels,
                "annotations": {"ray.io/overwrite-container-cmd": "true"},
            },
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    script,
                    *([args.operator] if args.operator is not None else []),
                    *args.source.ready,
                    *args.wait_for,
                ],
            ),
        )

        # One replica spans every Ray pod: evicting any of them kills it. maxUnavailable 0 makes a node
        # drain wait and report this budget instead of silently taking the endpoint down; the operator
        # decides (scale down or delete the RayCluster) when the node really must go.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": f"{args.name}-ray", "namespace": args.namespace, "labels": labels},
            spec={"max_unavailable": 0, "selector": {"match_labels": labels}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
        )

        service, self.load_balancer_address = openai_api_service(
            f"{name}-service",
            parent=self,
            namespace=args.namespace,
            service_name=args.name,
            labels=labels,
            selector=head_labels,
            service_type=args.service_type,
            port=args.service_port,
            annotations=args.service_annotations,
            source_ranges=args.load_balancer_source_ranges,
        )

        self.cluster_name = cluster.id.apply(lambda _: args.name)
        self.service_name = service.metadata.apply(lambda m: m.name or args.name)
        self.service_port = args.service_port
        self.pod_labels = labels
        # Every pod of this Ray cluster (head and workers), for NetworkPolicies.
        self.ray_selector = {
            "match_labels": labels,
            "match_expressions": [{"key": ROLE_LABEL, "operator": "Exists"}],
        }
        self.register_outputs({"clusterName": self.cluster_name, "serviceName": self.service_name})
