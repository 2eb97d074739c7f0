"""GPU metrics: NVIDIA's DCGM exporter on every GPU node, scraped by a ServiceMonitor, with the GPU
dashboard and the XID alert.

Two sources (the stack picks one; this module only knows how each is built):

- `exporter`: a pinned dcgm-exporter DaemonSet of our own, for clusters whose GPU nodes have only a
  device plugin (OKE's NvidiaGpuPlugin add-on is "the NVIDIA Device Plugin for Kubernetes",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengrunninggpunodes.htm; oracle-quickstart/
  oci-hpc-oke gets DCGM metrics from the NvidiaGpuOperator add-on instead, terraform/oke-addons.tf @61d210a).
  Modelled on NVIDIA/dcgm-exporter's chart at tag 4.5.3-4.8.2 (deployment/templates/daemonset.yaml,
  values.yaml), minus what only pod attribution and profiling need: it collects the DCGM_FI_DEV_* fields
  of stacks/catalog/metrics.yaml, which need neither SYS_ADMIN ("Required for profiling metrics
  (DCGM_FI_PROF_*)", values.yaml) nor root ("For non-root without profiling metrics, use: runAsNonRoot:
  true, runAsUser: 1000, and remove SYS_ADMIN"), and no kubelet pod-resources hostPath (it labels GPUs,
  not pods), so it runs under the namespace's baseline/restricted Pod Security. It requests no GPU and sees
  the node's GPUs through the NVIDIA container runtime (the image sets NVIDIA_VISIBLE_DEVICES=all,
  docker/Dockerfile at the tag): the node's default runtime wherever NVIDIA's device plugin runs unchanged,
  since the plugin's own pod gets NVML the same way ("nvidia-container-runtime configured as the default
  low-level runtime" is its prerequisite, NVIDIA/k8s-device-plugin README) — OKE's NvidiaGpuPlugin add-on on
  Oracle's GPU images, and DOKS GPU nodes if their plugin is deployed that way (not verified from a
  DigitalOcean document). Where the NVIDIA runtime is only a RuntimeClass, config
  `observability.gpuRuntimeClass` names it (`runtime_class_name`).
- `gpuOperator`: the GPU Operator's own exporter (its `dcgmExporter` component, on by default): only a
  ServiceMonitor selecting its Service (`app: nvidia-dcgm-exporter`, port `gpu-metrics`), as oci-hpc-oke
  terraform/oke-addons.tf @61d210a `nvidia_dcgm_exporter_service_monitor_manifest` does — named so the
  operator, which deletes a ServiceMonitor named `nvidia-dcgm-exporter`, leaves it alone.
- `external`: the GPU metrics are already scraped by another Prometheus the stack's queries reach (the
  OpenShift GPU Operator's exporter, collected by cluster monitoring): only the dashboard and the alert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID
from components.observability.alerts import gpu_rules
from components.observability.dashboards import SIDECAR_LABEL, dashboard_uid, gpu_dashboard
from components.workloads.types import GpuPlacement, pod_security_context

OPERATOR_SELECTOR = {"app": "nvidia-dcgm-exporter"}
OPERATOR_PORT = "gpu-metrics"
PORT_NAME = "metrics"


def counters_csv(metrics: dict[str, str], help_text: dict[str, str]) -> str:
    """dcgm-exporter's collectors file: `field, type, help` per line (etc/default-counters.csv format)."""
    lines = ["# DCGM FIELD, Prometheus metric type, help message"]
    lines += [f"{name}, {kind}, {help_text[name]}" for name, kind in metrics.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Scheduling:
    node_selector: dict[str, str]
    affinity: k8s.core.v1.AffinityArgsDict | None
    tolerations: list[k8s.core.v1.TolerationArgsDict]


def exporter_scheduling(placements: list[GpuPlacement]) -> Scheduling:
    """Where the exporter's DaemonSet runs: the nodes of every GPU pool. One pool: its node selector. Several:
    a required node affinity with one term per pool (terms are ORed, a term's expressions ANDed), and every
    pool's taints tolerated. A pool that selects no labels means any node: then no selector at all."""
    distinct: list[GpuPlacement] = []
    for p in placements:
        if p not in distinct:
            distinct.append(p)
    taints = list(dict.fromkeys(key for p in distinct for key in p.taint_keys))
    tolerations = GpuPlacement(node_selector={}, taint_keys=taints).tolerations()
    if len(distinct) == 1 or any(not p.node_selector for p in distinct):
        return Scheduling(distinct[0].node_selector if len(distinct) == 1 else {}, None, tolerations)
    terms: list[k8s.core.v1.NodeSelectorTermArgsDict] = [
        {"match_expressions": [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(p.node_selector.items())]}
        for p in distinct
    ]
    required: k8s.core.v1.NodeSelectorArgsDict = {"node_selector_terms": terms}
    return Scheduling(
        {}, {"node_affinity": {"required_during_scheduling_ignored_during_execution": required}}, tolerations
    )


def service_monitor_spec(namespace: str, selector: dict[str, str], port: str, interval: str) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": dict(selector)},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": port, "path": "/metrics", "interval": interval}],
    }


@dataclass(frozen=True)
class GpuMetricsArgs:
    source: Literal["exporter", "gpuOperator", "external"]
    namespace: str
    """Where our exporter runs (the serving namespace), or where the GPU Operator runs its exporter."""
    rules_namespace: str
    """Where the dashboard and the alert rules go (the serving namespace)."""
    placements: list[GpuPlacement] = field(default_factory=list)
    """Every GPU pool's placement: our exporter runs on the nodes of each."""
    image: str = ""
    port: int = 9400
    metrics: dict[str, str] = field(default_factory=dict)
    metric_help: dict[str, str] = field(default_factory=dict)
    scraper_namespace: str | None = None
    """The namespace Prometheus runs in: admitted to the exporter's port by a NetworkPolicy."""
    run_as_user: int | None = DEFAULT_UID
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    scrape_interval: str = "15s"
    runtime_class_name: str | None = None
    """The RuntimeClass whose handler is the NVIDIA container runtime, on nodes where it is not the default:
    the exporter requests no GPU, so only that runtime gives it the driver's NVML library and the device
    nodes (NVIDIA_VISIBLE_DEVICES=all, set in the image). Without it there, dcgm-exporter exits with "Cannot
    init NVML library; err: ERROR_LIBRARY_NOT_FOUND" (github.com/NVIDIA/dcgm-exporter/issues/612, on 4.8.4); the chart
    has the same knob (deployment/values.yaml `runtimeClassName`, 4.5.3-4.8.2). None: the node's default."""


def exporter_container(args: GpuMetricsArgs) -> k8s.core.v1.ContainerArgsDict:
    """The exporter's container: the counters file as its collectors, non-root, no capability, a read-only root."""
    return {
        "name": "exporter",
        "image": args.image,
        "args": ["-f", "/etc/dcgm-exporter/counters.csv"],
        "env": [
            {"name": "DCGM_EXPORTER_LISTEN", "value": f":{args.port}"},
            # No pod attribution: that needs the kubelet's pod-resources socket (a hostPath, as root).
            {"name": "DCGM_EXPORTER_KUBERNETES", "value": "false"},
            {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
            {"name": "NODE_NAME", "value_from": {"field_ref": {"field_path": "spec.nodeName"}}},
        ],
        "ports": [{"name": PORT_NAME, "container_port": args.port}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "liveness_probe": {"http_get": {"path": "/health", "port": PORT_NAME}, "period_seconds": 30,
                           "initial_delay_seconds": 45},
        "readiness_probe": {"http_get": {"path": "/health", "port": PORT_NAME}, "period_seconds": 10},
        "security_context": {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]},
                             "run_as_non_root": True, "read_only_root_filesystem": True},
        "volume_mounts": [{"name": "counters", "mount_path": "/etc/dcgm-exporter/counters.csv",
                           "sub_path": "counters.csv", "read_only": True},
                          {"name": "tmp", "mount_path": "/tmp"}],
    }  # fmt: skip


class GpuMetrics(pulumi.ComponentResource):
    service_monitor_name: str | None

    def __init__(self, name: str, args: GpuMetricsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:GpuMetrics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": "gpu-metrics"}
        if args.source == "exporter":
            self._exporter(name, args, labels, child)
            selector, port = labels, PORT_NAME
        else:
            selector, port = OPERATOR_SELECTOR, OPERATOR_PORT
        self.service_monitor_name = None
        if args.source != "external":
            self.service_monitor_name = "gpu-metrics-dcgm"
            k8s.apiextensions.CustomResource(
                f"{name}-service-monitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata={"name": self.service_monitor_name, "namespace": args.namespace, "labels": labels},
                spec=service_monitor_spec(args.namespace, selector, port, args.scrape_interval),
                opts=child,
            )
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": "gpu-health", "namespace": args.rules_namespace, "labels": labels},
            spec={"groups": [gpu_rules()]},
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata={
                "name": "gpu-dashboard",
                "namespace": args.rules_namespace,
                "labels": {**labels, **SIDECAR_LABEL},
            },
            data={
                "gpus.json": json.dumps(
                    gpu_dashboard(dashboard_uid(args.rules_namespace, "gpus")), indent=1, sort_keys=True
                )
            },
            opts=child,
        )
        self.register_outputs({})

    def _exporter(self, name: str, args: GpuMetricsArgs, labels: dict[str, str], child: pulumi.ResourceOptions) -> None:
        assert args.placements, "the exporter needs the GPU pools it runs on"
        scheduling = exporter_scheduling(args.placements)
        counters = k8s.core.v1.ConfigMap(
            f"{name}-counters",
            metadata={"name": "dcgm-exporter-counters", "namespace": args.namespace, "labels": labels},
            data={"counters.csv": counters_csv(args.metrics, args.metric_help)},
            opts=child,
        )
        container = exporter_container(args)
        pod_spec: k8s.core.v1.PodSpecArgsDict = {
            "node_selector": scheduling.node_selector,
            "tolerations": scheduling.tolerations,
            "automount_service_account_token": False,
            "enable_service_links": False,
            # No priorityClassName: the chart's default is system-node-critical (deployment/values.yaml at
            # 4.5.3-4.8.2), which lets the scheduler preempt a vLLM replica to place the exporter on a full GPU
            # node. Serving outranks its metrics here: on such a node the exporter waits, Pending.
            "security_context": pod_security_context(args.run_as_user),
            "containers": [container],
            # A read-only root filesystem only with a writable tmpfs: the chart ships
            # `# readOnlyRootFilesystem: true  # Enable if tmpfs volumes are configured` (deployment/values.yaml
            # and dcgm-exporter.yaml at 4.5.3-4.8.2); NVIDIA/go-dcgm pkg/dcgm/admin.go (b7fa315) writes its
            # hostengine socket file with os.CreateTemp("/tmp", "dcgm") when it starts one. What the embedded
            # hostengine writes is not documented: /tmp is the writable place it may rely on.
            "volumes": [
                {"name": "counters", "config_map": {"name": counters.metadata.name}},
                {"name": "tmp", "empty_dir": {"medium": "Memory", "size_limit": "64Mi"}},
            ],
        }
        if scheduling.affinity is not None:
            pod_spec["affinity"] = scheduling.affinity
        if args.runtime_class_name:
            pod_spec["runtime_class_name"] = args.runtime_class_name
        if args.image_pull_secrets:
            pod_spec["image_pull_secrets"] = [{"name": s} for s in args.image_pull_secrets]
        k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata={"name": "dcgm-exporter", "namespace": args.namespace, "labels": labels},
            spec={
                "selector": {"match_labels": labels},
                "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1}},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
            opts=child,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": "dcgm-exporter", "namespace": args.namespace, "labels": labels},
            spec={
                "type": "ClusterIP",
                "selector": labels,
                "ports": [{"name": PORT_NAME, "port": args.port, "target_port": PORT_NAME}],
            },
            opts=child,
        )
        if args.scraper_namespace:
            # The serving namespace denies ingress by default (components/workloads/network_policy.py).
            k8s.networking.v1.NetworkPolicy(
                f"{name}-network-policy",
                metadata={"name": "dcgm-exporter-from-prometheus", "namespace": args.namespace, "labels": labels},
                spec={
                    "pod_selector": {"match_labels": labels},
                    "policy_types": ["Ingress"],
                    "ingress": [{
                        "from_": [{"namespace_selector": {"match_labels": {
                            "kubernetes.io/metadata.name": args.scraper_namespace}}}],
                        "ports": [{"protocol": "TCP", "port": PORT_NAME}],
                    }],
                },
                opts=child,
            )  # fmt: skip
