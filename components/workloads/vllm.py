"""vLLM's OpenAI-compatible server as a hardened Deployment, with its disruption budget and Service."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, GPU_RESOURCE
from components.workloads.api_service import openai_api_service
from components.workloads.namespace import API_KEY_SECRET_KEY
from components.workloads.types import GpuPlacement, ModelSource, pod_security_context

if TYPE_CHECKING:
    from components.workloads.ray_vllm import RayVllmArgs

if TYPE_CHECKING:
    from components.workloads.ray_vllm import RayVllmArgs

PORT = 8000

# preStop: wait until vLLM reports no running and no waiting requests (its Prometheus gauges
# vllm:num_requests_running / vllm:num_requests_waiting on /metrics, which needs no API key), so a
# rolling update or a node drain never cuts a request off. The grace period bounds the wait.
# The name ends at `{` or a space: vLLM 0.33 also exports vllm:num_requests_waiting_by_reason
# (vllm/v1/metrics/loggers.py), whose sum equals the waiting gauge and would count it twice.
DRAIN_SCRIPT = """\
sleep 5
while true; do
  metrics=$(curl -s localhost:%(port)d/metrics || true)
  running=$(echo "$metrics" | awk '/^vllm:num_requests_running[{ ]/ {s+=$2} END {print int(s)}')
  waiting=$(echo "$metrics" | awk '/^vllm:num_requests_waiting[{ ]/ {s+=$2} END {print int(s)}')
  if [ "${running:-0}" = "0" ] && [ "${waiting:-0}" = "0" ]; then echo drained; exit 0; fi
  echo "draining: running=$running waiting=$waiting"; sleep 2
done
"""


@dataclass(frozen=True)
class VllmServerArgs:
    namespace: pulumi.Input[str]
    image: str
    served_model_name: str
    source: ModelSource
    placement: GpuPlacement
    api_key_secret_name: pulumi.Input[str]
    replicas: int = 1
    tensor_parallel_size: int = 1
    max_model_len: int = 8192
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    quantization: str | None = None
    extra_args: list[str] = field(default_factory=list)
    cpu: str = "4"
    memory: str = "32Gi"
    shm_size_gi: int = 16
    startup_timeout_seconds: int = 1800
    termination_grace_period_seconds: int = 120
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    service_port: int = PORT
    service_annotations: dict[str, str] = field(default_factory=dict)
    pod_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """On the pod template: a change rolls the pods (e.g. a checksum of a Secret they read at start)."""
    load_balancer_source_ranges: list[str] = field(default_factory=list)
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""
    wait_for: list[pulumi.Resource] = field(default_factory=list)
    """Resources the pods need first (e.g. the GPU node pool), beyond the model source's own."""
    name: str = "vllm"


def vllm_args(args: VllmServerArgs | RayVllmArgs, parallel: tuple[str, ...] = ()) -> list[pulumi.Input[str]]:
    """`vllm serve` arguments for either server; `parallel` adds flags such as pipeline parallelism."""
    flags: list[pulumi.Input[str]] = [
        args.source.model,
        "--served-model-name", args.served_model_name,
        "--host", "0.0.0.0",
        "--port", str(PORT),
        "--tensor-parallel-size", str(args.tensor_parallel_size),
        *parallel,
        "--max-model-len", str(args.max_model_len),
        "--gpu-memory-utilization", str(args.gpu_memory_utilization),
        "--dtype", args.dtype,
    ]  # fmt: skip
    if args.quantization:
        flags += ["--quantization", args.quantization]
    return flags + list(args.source.args) + list(args.extra_args)


class VllmServer(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_port: int
    load_balancer_address: pulumi.Output[str] | None
    pod_labels: dict[str, str]

    def __init__(self, name: str, args: VllmServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:VllmServer", name, None, opts)
        labels = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": args.name}
        gpus = str(args.tensor_parallel_size)

        container: k8s.core.v1.ContainerArgsDict = {
            "name": "vllm",
            "image": args.image,
            "command": ["vllm", "serve"],
            "args": vllm_args(args),
            "ports": [{"name": "http", "container_port": PORT}],
            "env": [
                # Every /v1 route requires `Authorization: Bearer <key>`.
                {
                    "name": "VLLM_API_KEY",
                    "value_from": {"secret_key_ref": {"name": args.api_key_secret_name, "key": API_KEY_SECRET_KEY}},
                },
                # Weights come from the model store only; never reach out to the Hub at start.
                {"name": "HF_HUB_OFFLINE", "value": "1"},
                {"name": "HOME", "value": "/tmp"},
                {"name": "USER", "value": "vllm"},
                {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
                *args.source.env,
            ],
            "resources": {
                "requests": {"cpu": args.cpu, "memory": args.memory, GPU_RESOURCE: gpus},
                "limits": {"memory": args.memory, GPU_RESOURCE: gpus},
            },
            # Large models take minutes to load: only the startup probe waits that long.
            "startup_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": 10,
                "failure_threshold": math.ceil(args.startup_timeout_seconds / 10),
            },
            "readiness_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": 5,
                "failure_threshold": 3,
            },
            "liveness_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": 10,
                "timeout_seconds": 5,
                "failure_threshold": 6,
            },
            "lifecycle": {"pre_stop": {"exec_": {"command": ["/bin/sh", "-c", DRAIN_SCRIPT % {"port": PORT}]}}},
            "security_context": {
                "allow_privilege_escalation": False,
                "capabilities": {"drop": ["ALL"]},
                "run_as_non_root": True,
            },
            "volume_mounts": [
                {"name": "shm", "mount_path": "/dev/shm"},
                {"name": "tmp", "mount_path": "/tmp"},
                *args.source.volume_mounts,
            ],
        }
        pod_spec: k8s.core.v1.PodSpecArgsDict = {
            "termination_grace_period_seconds": args.termination_grace_period_seconds,
            "node_selector": args.placement.node_selector,
            "tolerations": args.placement.tolerations(),
            # One replica per GPU node: a second replica on a node would fight for its GPUs.
            "affinity": {
                "pod_anti_affinity": {
                    "required_during_scheduling_ignored_during_execution": [
                        {"label_selector": {"match_labels": labels}, "topology_key": "kubernetes.io/hostname"}
                    ]
                }
            },
            "automount_service_account_token": False,
            "enable_service_links": False,
            "security_context": pod_security_context(args.run_as_user),
            "containers": [container],
            "volumes": [
                {"name": "shm", "empty_dir": {"medium": "Memory", "size_limit": f"{args.shm_size_gi}Gi"}},
                {"name": "tmp", "empty_dir": {"size_limit": "20Gi"}},
                *args.source.volumes,
            ],
        }
        if args.image_pull_secrets:
            pod_spec["image_pull_secrets"] = [{"name": s} for s in args.image_pull_secrets]

        template_metadata: k8s.meta.v1.ObjectMetaArgsDict = {"labels": labels}
        if args.pod_annotations:
            template_metadata["annotations"] = args.pod_annotations

        # `pulumi up` waits for the rollout; give it the startup window plus scheduling time.
        rollout_minutes = math.ceil(args.startup_timeout_seconds / 60) + 20
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": args.name, "namespace": args.namespace, "labels": labels},
            spec={
                "replicas": args.replicas,
                "selector": {"match_labels": labels},
                # No surge: a GPU-bound cluster has no spare GPU for an extra pod.
                "strategy": {
                    "type": "RollingUpdate",
                    "rolling_update": {"max_surge": 0, "max_unavailable": 1},
                },
                "template": {
                    "metadata": template_metadata,
                    "spec": pod_spec,
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*args.source.ready, *args.wait_for],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{rollout_minutes}m", update=f"{rollout_minutes}m"),
            ),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": args.name, "namespace": args.namespace, "labels": labels},
            spec={"max_unavailable": 1, "selector": {"match_labels": labels}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        service, self.load_balancer_address = openai_api_service(
            f"{name}-service",
            parent=self,
            namespace=args.namespace,
            service_name=args.name,
            labels=labels,
            selector=labels,
            service_type=args.service_type,
            port=args.service_port,
            annotations=args.service_annotations,
            source_ranges=args.load_balancer_source_ranges,
        )

        self.deployment_name = deployment.metadata.apply(lambda m: m.name or args.name)
        self.service_name = service.metadata.apply(lambda m: m.name or args.name)
        self.service_port = args.service_port
        self.pod_labels = labels
        self.register_outputs({"deploymentName": self.deployment_name, "serviceName": self.service_name})
