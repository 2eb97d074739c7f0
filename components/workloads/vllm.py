"""vLLM's OpenAI-compatible server as a hardened Deployment (one replica per GPU node), with its disruption
budget and ClusterIP Service."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.workloads.api_service import budgeted_service
from components.workloads.engine import PORT, EngineFlags, vllm_args
from components.workloads.namespace import API_KEY_SECRET_KEY
from components.workloads.server_container import gpu_resources, hardened, health_probes, server_env
from components.workloads.types import GpuPlacement, ModelSource, PodRuntime, ServerExposure, pod_security_context

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
    engine: EngineFlags
    runtime: PodRuntime
    exposure: ServerExposure
    source: ModelSource
    placement: GpuPlacement
    replicas: int | None = 1
    """None: an autoscaler (KEDA's HPA) owns the Deployment's replica count."""
    pod_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """On the pod template: a change rolls the pods (e.g. a checksum of a Secret they read at start)."""
    wait_for: list[pulumi.Resource] = field(default_factory=list)
    """Resources the pods need first (e.g. the GPU node pool), beyond the model source's own."""


def vllm_container(args: VllmServerArgs) -> k8s.core.v1.ContainerArgsDict:
    """The vLLM container: `vllm serve` with the API key from its Secret, probes sized for slow starts,
    and a preStop hook that drains in-flight requests."""
    runtime = args.runtime
    return {
        "name": "vllm",
        "image": runtime.image,
        "command": ["vllm", "serve"],
        "args": vllm_args(args.engine, args.source),
        "ports": [{"name": "http", "container_port": PORT}],
        "env": [
            # Every /v1 route requires `Authorization: Bearer <key>`.
            {
                "name": "VLLM_API_KEY",
                "value_from": {
                    "secret_key_ref": {"name": args.exposure.api_key_secret_name, "key": API_KEY_SECRET_KEY}
                },
            },
            *server_env(),
            *args.source.env,
        ],
        "resources": gpu_resources(runtime.cpu, runtime.memory, args.engine.tensor_parallel_size),
        **health_probes("http", runtime.startup_timeout_seconds),
        "lifecycle": {"pre_stop": {"exec_": {"command": ["/bin/sh", "-c", DRAIN_SCRIPT % {"port": PORT}]}}},
        "security_context": hardened(),
        "volume_mounts": [
            {"name": "shm", "mount_path": "/dev/shm"},
            {"name": "tmp", "mount_path": "/tmp"},
            *args.source.volume_mounts,
        ],
    }


def vllm_pod_spec(args: VllmServerArgs, labels: dict[str, str]) -> k8s.core.v1.PodSpecArgsDict:
    """The pod: on the GPU nodes, one replica per node, non-root, no service account token."""
    runtime = args.runtime
    pod_spec: k8s.core.v1.PodSpecArgsDict = {
        "termination_grace_period_seconds": runtime.termination_grace_period_seconds,
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
        "security_context": pod_security_context(runtime.run_as_user),
        "containers": [vllm_container(args)],
        "volumes": [
            {"name": "shm", "empty_dir": {"medium": "Memory", "size_limit": f"{runtime.shm_size_gi}Gi"}},
            {"name": "tmp", "empty_dir": {"size_limit": "20Gi"}},
            *args.source.volumes,
        ],
    }
    if runtime.image_pull_secrets:
        pod_spec["image_pull_secrets"] = [{"name": s} for s in runtime.image_pull_secrets]
    return pod_spec


class VllmServer(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_port: int
    pod_labels: dict[str, str]

    def __init__(self, name: str, args: VllmServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:VllmServer", name, None, opts)
        exposure = args.exposure
        labels = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": exposure.name}
        template_metadata: k8s.meta.v1.ObjectMetaArgsDict = {"labels": labels}
        if args.pod_annotations:
            template_metadata["annotations"] = args.pod_annotations

        # `pulumi up` waits for the rollout; give it the startup window plus scheduling time.
        rollout_minutes = math.ceil(args.runtime.startup_timeout_seconds / 60) + 20
        # No surge: a GPU-bound cluster has no spare GPU for an extra pod.
        strategy: k8s.apps.v1.DeploymentStrategyArgsDict = {
            "type": "RollingUpdate",
            "rolling_update": {"max_surge": 0, "max_unavailable": 1},
        }
        template: k8s.core.v1.PodTemplateSpecArgsDict = {
            "metadata": template_metadata,
            "spec": vllm_pod_spec(args, labels),
        }
        spec: k8s.apps.v1.DeploymentSpecArgsDict
        if args.replicas is not None:
            spec = {
                "replicas": args.replicas,
                "selector": {"match_labels": labels},
                "strategy": strategy,
                "template": template,
            }
        else:  # an autoscaler owns the count: a `pulumi up` must not reset it
            spec = {"selector": {"match_labels": labels}, "strategy": strategy, "template": template}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": exposure.name, "namespace": exposure.namespace, "labels": labels},
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*args.source.ready, *args.wait_for],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{rollout_minutes}m", update=f"{rollout_minutes}m"),
            ),
        )
        service, _ = budgeted_service(
            name,
            parent=self,
            namespace=exposure.namespace,
            service_name=exposure.name,
            labels=labels,
            budget={"max_unavailable": 1},
            port=exposure.port,
        )

        self.deployment_name = deployment.metadata.apply(lambda m: m.name or exposure.name)
        self.service_name = service.metadata.apply(lambda m: m.name or exposure.name)
        self.service_port = exposure.port
        self.pod_labels = labels
        self.register_outputs({"deploymentName": self.deployment_name, "serviceName": self.service_name})
