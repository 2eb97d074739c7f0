"""vLLM across several GPU nodes on a Ray cluster: a RayCluster whose head starts `vllm serve
--distributed-executor-backend ray` once every worker has joined, with a ClusterIP Service for the OpenAI
API on the head. The operator it needs is components/workloads/kuberay_operator.py.

Sources:
- The RayCluster schema is
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

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import LABEL_PREFIX
from components.workloads.api_service import budgeted_service
from components.workloads.engine import PORT, EngineFlags, vllm_args
from components.workloads.namespace import API_KEY_SECRET_KEY
from components.workloads.server_container import gpu_resources, hardened, health_probes, server_env
from components.workloads.types import GpuPlacement, ModelSource, PodRuntime, ServerExposure
from components.workloads.wire import camel

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
class RdmaPodAccess:
    """Give every Ray pod the node's RDMA NICs (one pod per node, on the host network)."""

    devices_path: str = "/dev/infiniband"
    privileged: bool = True
    """The device nodes of a hostPath mount are not in a container's device allow-list; oci-hpc-oke
    runs every RDMA pod privileged (docs/using-rdma-network-interfaces-in-manifests.md). False only with
    an RDMA device plugin that grants the devices."""


@dataclass(frozen=True)
class RayVllmServerArgs:
    engine: EngineFlags
    """`tensor_parallel_size` is per node; pipeline parallelism spans the nodes."""
    runtime: PodRuntime
    """Per Ray pod (one per GPU node); `run_as_user` applies to non-RDMA pods."""
    exposure: ServerExposure
    source: ModelSource
    placement: GpuPlacement
    nodes: int
    """GPU nodes, one Ray pod each: the head plus nodes - 1 workers."""
    gpus_per_node: int
    pipeline_parallel_size: int
    dashboard_host: str
    """Where the head's Ray dashboard binds. Its job API runs arbitrary code and Ray has no auth, so
    loopback unless opened on purpose; KubeRay would otherwise inject 0.0.0.0 (ray-operator/controllers/ray/
    common/pod.go, "dashboard-host" default, v1.7.0). KubeRay's own probes call it on localhost
    (utils/constant.go BaseWgetHealthCommand), so they keep working."""
    ray_version: str | None = None
    """`spec.rayVersion`: the Ray version inside the image; None leaves it unset."""
    nccl_env: dict[str, str] = field(default_factory=dict)
    """NCCL_* (and other) variables for every GPU container, e.g. a per-shape table."""
    rdma: RdmaPodAccess | None = None
    operator: pulumi.Resource | None = None
    """The KubeRay operator release (its CRD must exist first); None when KubeRay is already installed."""
    wait_for: list[pulumi.Resource] = field(default_factory=list)


def check_layout(args: RayVllmServerArgs) -> None:
    """Tensor x pipeline parallel must use every GPU of every node, no more."""
    total = args.nodes * args.gpus_per_node
    tp, pp = args.engine.tensor_parallel_size, args.pipeline_parallel_size
    if tp * pp != total:
        raise ValueError(
            f"RayVllmServerArgs: tensor_parallel_size {tp} x pipeline_parallel_size {pp} "
            f"must equal nodes {args.nodes} x gpus_per_node {args.gpus_per_node}"
        )


def serve_flags(args: RayVllmServerArgs) -> list[pulumi.Input[str]]:
    """`vllm serve` on the head: tensor parallel inside each node, pipeline parallel across nodes, on Ray."""
    parallel = [
        ("--pipeline-parallel-size", str(args.pipeline_parallel_size)),
        ("--distributed-executor-backend", "ray"),
    ]
    return vllm_args(args.engine, args.source, parallel)


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


Role = Literal["head", "worker"]


def server_labels(args: RayVllmServerArgs) -> dict[str, str]:
    """Every Ray pod of this server carries these (the PDB and NetworkPolicies select on them)."""
    return {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": args.exposure.name}


def role_labels(args: RayVllmServerArgs, role: Role) -> dict[str, str]:
    return {**server_labels(args), ROLE_LABEL: role}


def ray_container(args: RayVllmServerArgs, role: Role) -> dict[str, Any]:
    """A Ray pod's one container (wire form: the RayCluster is an untyped custom resource). Every pod runs
    KubeRay's generated `ray start`; the head first backgrounds the serve script and carries the API key,
    the OpenAI port and the probes."""
    runtime, rdma = args.runtime, args.rdma
    env: list[dict[str, Any]] = [
        {"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        *(dict(e) for e in server_env()),
        *({"name": k, "value": v} for k, v in sorted(socket_env(args.nccl_env).items())),
        *camel(list(args.source.env)),
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "shm", "mountPath": "/dev/shm"},
        *camel(list(args.source.volume_mounts)),
    ]
    if rdma is not None:
        mounts.append({"name": "infiniband", "mountPath": rdma.devices_path})
    # ulimit as Ray's generated command has it; the head starts vLLM in the background first.
    start = "ulimit -n 65536; "
    if role == "head":
        start += "bash /scripts/serve.sh & "
    spec: dict[str, Any] = {
        "name": f"ray-{role}",
        "image": runtime.image,
        "command": ["/bin/bash", "-lc", "--"],
        "args": [start + "$KUBERAY_GEN_RAY_START_CMD"],
        "env": env,
        "resources": camel(gpu_resources(runtime.cpu, runtime.memory, args.gpus_per_node)),
        "volumeMounts": mounts,
    }
    if role == "head":
        env += [
            {
                "name": "VLLM_API_KEY",
                "valueFrom": {"secretKeyRef": {"name": args.exposure.api_key_secret_name, "key": API_KEY_SECRET_KEY}},
            },
            {"name": "EXPECTED_NODES", "value": str(args.nodes)},
            {"name": "EXPECTED_GPUS", "value": str(args.nodes * args.gpus_per_node)},
        ]
        mounts.append({"name": "scripts", "mountPath": "/scripts", "readOnly": True})
        spec["ports"] = [
            *({"name": n, "containerPort": p} for n, p in RAY_PORTS),
            {"name": "http", "containerPort": PORT},
        ]
        spec |= camel(health_probes("http", runtime.startup_timeout_seconds))
    if rdma is not None:
        # Registering RDMA memory pins it (ibv_reg_mr): IPC_LOCK; root, as in oci-hpc-oke.
        spec["securityContext"] = {"privileged": rdma.privileged, "capabilities": {"add": ["IPC_LOCK"]}}
    else:
        spec["securityContext"] = camel(hardened())
    return spec


def ray_pod_template(args: RayVllmServerArgs, role: Role) -> dict[str, Any]:
    """A Ray pod: on a GPU node, one per node, holding all its GPUs; on the host network with RDMA, else
    non-root in the pod network."""
    runtime, rdma = args.runtime, args.rdma
    pod_spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": runtime.termination_grace_period_seconds,
        "nodeSelector": args.placement.node_selector,
        "tolerations": args.placement.tolerations(),
        # One Ray pod per GPU node: the pods hold every GPU of their node.
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": server_labels(args)}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        },
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "containers": [ray_container(args, role)],
        "volumes": [
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{runtime.shm_size_gi}Gi"}},
            *camel(list(args.source.volumes)),
        ],
    }
    if role == "head":
        pod_spec["volumes"].append({"name": "scripts", "configMap": {"name": scripts_name(args), "defaultMode": 0o755}})
    if rdma is not None:
        pod_spec["hostNetwork"] = True
        pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
        pod_spec["volumes"].append({"name": "infiniband", "hostPath": {"path": rdma.devices_path}})
    else:
        pod_spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        if runtime.run_as_user is not None:  # None: the platform assigns the UID (OpenShift's SCC)
            uid = runtime.run_as_user
            pod_spec["securityContext"].update({"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid})
    if runtime.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in runtime.image_pull_secrets]
    return {"metadata": {"labels": role_labels(args, role)}, "spec": pod_spec}


def raycluster_spec(args: RayVllmServerArgs) -> dict[str, Any]:
    """The RayCluster's spec: the head and, beyond one node, a fixed-size worker group (no autoscaling:
    one vLLM replica needs exactly its nodes)."""
    gpus = str(args.gpus_per_node)
    spec: dict[str, Any] = {
        "enableInTreeAutoscaling": False,
        "headGroupSpec": {
            "serviceType": "ClusterIP",
            "rayStartParams": {"dashboard-host": args.dashboard_host, "num-gpus": gpus},
            "template": ray_pod_template(args, "head"),
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
                "template": ray_pod_template(args, "worker"),
            }
        ]
    return spec


def scripts_name(args: RayVllmServerArgs) -> str:
    return f"{args.exposure.name}-ray-scripts"


class RayVllmServer(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_port: int
    api_pod_labels: dict[str, str]
    pod_labels: dict[str, str]
    ray_selector: k8s.meta.v1.LabelSelectorArgsDict

    def __init__(self, name: str, args: RayVllmServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:RayVllmServer", name, None, opts)
        check_layout(args)
        exposure = args.exposure
        labels = server_labels(args)

        script = k8s.core.v1.ConfigMap(
            f"{name}-scripts",
            metadata={"name": scripts_name(args), "namespace": exposure.namespace, "labels": labels},
            data={
                "serve.sh": pulumi.Output.all(*serve_flags(args)).apply(
                    lambda flags: _SERVE_SCRIPT.format(args=" ".join(shlex.quote(str(f)) for f in flags))
                )
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        # `pulumi up` does not wait for a custom resource's readiness; the Service's endpoints show it.
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-raycluster",
            api_version="ray.io/v1",
            kind="RayCluster",
            metadata={
                "name": exposure.name,
                "namespace": exposure.namespace,
                "labels": labels,
                "annotations": {"ray.io/overwrite-container-cmd": "true"},
            },
            spec=raycluster_spec(args),
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
        service, _ = budgeted_service(
            name,
            parent=self,
            namespace=exposure.namespace,
            service_name=exposure.name,
            labels=labels,
            selector=role_labels(args, "head"),
            budget={"max_unavailable": 0},
            budget_name=f"{exposure.name}-ray",
            budget_after=[cluster],
            port=exposure.port,
        )

        self.cluster_name = cluster.id.apply(lambda _: exposure.name)
        self.service_name = service.metadata.apply(lambda m: m.name or exposure.name)
        self.service_port = exposure.port
        self.pod_labels = labels
        self.api_pod_labels = role_labels(args, "head")
        """The pod that serves the OpenAI API (the head; the front door registers it as the replica)."""
        # Every pod of this Ray cluster (head and workers), for NetworkPolicies.
        self.ray_selector = {
            "match_labels": labels,
            "match_expressions": [{"key": ROLE_LABEL, "operator": "Exists"}],
        }
        self.register_outputs({"clusterName": self.cluster_name, "serviceName": self.service_name})
