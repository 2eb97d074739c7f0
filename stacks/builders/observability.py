"""Observability for a stack, as config `observability` says: the optional kube-prometheus-stack, a
PodMonitor + alerts + dashboard per served model, and GPU metrics from DCGM."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.helm import HelmChart
from components.kserve.inference_service import KNATIVE_USER_PORT_NAME, knative_deployment_pattern
from components.observability.alerts import AlertThresholds, ServerTarget
from components.observability.front_door import FrontDoorMonitoring, FrontDoorMonitoringArgs
from components.observability.gpu_metrics import GpuMetrics, GpuMetricsArgs
from components.observability.monitoring import JOB_LABEL, ModelMonitoring, ModelMonitoringArgs, ScrapeTarget
from components.observability.prometheus_stack import (
    GRAFANA_PORT,
    GRAFANA_SECRET,
    GRAFANA_SERVICE,
    PrometheusStack,
    PrometheusStackArgs,
)
from components.observability.queries import RouterSeries
from components.workloads.router import METRICS_PORT_NAME
from components.workloads.types import GpuPlacement
from stacks import catalog
from stacks.config.common import StackBase
from stacks.config.existing import ExistingStack
from stacks.config.rdma import OkeRdmaStack
from stacks.placement import resource_suffix

if TYPE_CHECKING:
    from components.workloads import ServingNamespace
    from components.workloads.ray_vllm import RayVllmServer
    from components.workloads.types import EntryPoint
    from components.workloads.vllm import VllmServer
    from stacks.builders.platform import ServingPlatform
    from stacks.config.models import ModelEntry

# Where a GPU Operator the stack relies on runs its dcgm-exporter: the chart's namespace when the stack
# installs it (components/existing/gpu_operator.py), and OKE's NvidiaGpuOperator add-on's (oci-hpc-oke
# terraform/oke-addons.tf @61d210a `nvidia_gpu_operator_namespace = "gpu-operator"`).
GPU_OPERATOR_NAMESPACE = "gpu-operator"


def scraper_namespace(cfg: StackBase) -> str | None:
    """The namespace admitted to the metrics ports: endpoint.monitoringNamespace, else Prometheus's own
    when the stack monitors itself."""
    if cfg.endpoint.monitoring_namespace:
        return cfg.endpoint.monitoring_namespace
    return cfg.observability.namespace if cfg.observability.active else None


def gpu_metrics_source(cfg: StackBase) -> tuple[str, str | None]:
    """Where the DCGM metrics come from: ("gpuOperator", its namespace) when the stack relies on a GPU
    Operator, whose dcgm-exporter is on by default; ("external", None) on OpenShift, where NVIDIA's guide has
    cluster monitoring scrape the certified operator's exporter (its namespace labelled
    openshift.io/cluster-monitoring, which user-workload monitoring leaves alone); else ("exporter", None):
    the GPU nodes have a device plugin only (DOKS, OKE's NvidiaGpuPlugin add-on) and the stack runs its own.
    We found no DigitalOcean document saying DOKS GPU nodes run a DCGM exporter, so DOKS gets ours."""
    if isinstance(cfg, ExistingStack):
        if cfg.existing.install_gpu_operator:
            return "gpuOperator", GPU_OPERATOR_NAMESPACE
        if cfg.existing.openshift:
            return "external", None
    if isinstance(cfg, OkeRdmaStack) and cfg.rdma.image_os == "ubuntu":
        return (
            "gpuOperator",
            GPU_OPERATOR_NAMESPACE,
        )  # stacks/builders/oke_rdma.gpu_recipe: the NvidiaGpuOperator add-on
    return "exporter", None


@dataclass
class Monitoring:
    """What the stack's monitoring offers later parts (autoscalers): where to query Prometheus."""

    prometheus_url: str | None
    ready: list[pulumi.Resource]
    """Resources the monitoring custom resources wait for (the chart that installs their CRDs)."""
    front_door: RouterSeries | None = None
    """The door's router series, when its PodMonitor is written (what wakes a model scaled to zero)."""


def monitoring_stack(
    cfg: StackBase, provider: pulumi.ProviderResource, system_node_selector: dict[str, str]
) -> Monitoring:
    """The kube-prometheus-stack when `observability.install`, and the outputs to reach it."""
    o = cfg.observability
    if not (o.enabled and o.install):
        return Monitoring(prometheus_url=o.prometheus_url, ready=[])
    stack = PrometheusStack(
        f"{cfg.name}-monitoring",
        PrometheusStackArgs(
            chart=HelmChart.from_row(catalog.KUBE_PROMETHEUS_STACK_CHART),
            namespace=o.namespace,
            node_selector=system_node_selector,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    pulumi.export(
        "grafanaPortForward", f"kubectl port-forward -n {o.namespace} svc/{GRAFANA_SERVICE} 3000:{GRAFANA_PORT}"
    )
    pulumi.export("grafanaAdminPassword", stack.grafana_password)
    pulumi.export("grafanaAdminSecret", f"{o.namespace}/{GRAFANA_SECRET}")
    return Monitoring(prometheus_url=o.prometheus_url or stack.prometheus_url, ready=[stack.release])


def monitor_server(
    cfg: StackBase,
    monitoring: Monitoring,
    server: VllmServer | RayVllmServer,
    model: ModelEntry,
    resource_name: str,
    *,
    ray_head_labels: dict[str, str] | None,
    model_store_alerts: bool,
    opts: pulumi.ResourceOptions,
) -> ModelMonitoring | None:
    """PodMonitor, alert rules and dashboard of one served model (its vLLM pods; on Ray, the head only)."""
    o = cfg.observability
    if not o.active:
        return None
    instance = server.pod_labels[JOB_LABEL]
    if ray_head_labels is None:
        target = ScrapeTarget(pod_labels=dict(server.pod_labels), port_name="http")
        # The Deployment is named like the instance label it carries (components/workloads/vllm.py).
        watched = ServerTarget("deployment", instance)
    else:
        target = ScrapeTarget(pod_labels=dict(ray_head_labels), port_name="http")
        watched = ServerTarget("scrapeJob", instance)  # the PodMonitor's jobLabel: the head's instance label
    return ModelMonitoring(
        resource_name,
        ModelMonitoringArgs(
            namespace=cfg.namespace,
            served_model_name=model.name,
            target=target,
            server=watched,
            thresholds=thresholds(cfg),
            scrape_interval=o.scrape_interval,
            model_store_alerts=model_store_alerts,
            name=instance,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=monitoring.ready)),
    )


def thresholds(cfg: StackBase) -> AlertThresholds:
    a = cfg.observability.alerts
    return AlertThresholds(a.queue_growing_minutes, a.kv_cache_usage, a.ttft_p95_seconds, a.front_door_error_ratio)


def monitor_front_door(
    cfg: StackBase, monitoring: Monitoring, door: EntryPoint, opts: pulumi.ResourceOptions
) -> FrontDoorMonitoring | None:
    """The door's router metrics (its metrics container port), its alerts and dashboard."""
    o = cfg.observability
    if not o.active:
        return None
    return FrontDoorMonitoring(
        f"{cfg.name}-entry-monitoring",
        FrontDoorMonitoringArgs(
            namespace=cfg.namespace,
            target=ScrapeTarget(pod_labels=dict(door.pod_labels), port_name=METRICS_PORT_NAME),
            thresholds=thresholds(cfg),
            scrape_interval=o.scrape_interval,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=monitoring.ready)),
    )


def _after_gpu_pools(platform: ServingPlatform, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """GPU metrics wait for what the GPU pools wait for (node pools, the device plugin add-on or the GPU
    Operator): the Operator's chart or add-on creates the namespace its exporter's ServiceMonitor goes in."""
    ready = list(dict.fromkeys(r for pool in platform.pools.values() for r in pool.ready))
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=ready))


def gpu_metrics(
    cfg: StackBase,
    monitoring: Monitoring,
    placements: list[GpuPlacement],
    run_as_user: int | None,
    opts: pulumi.ResourceOptions,
) -> GpuMetrics | None:
    """DCGM metrics of the GPU nodes: the GPU Operator's exporter, or a pinned one of our own."""
    o = cfg.observability
    if not (o.active and o.gpu_metrics):
        return None
    source, operator_namespace = gpu_metrics_source(cfg)
    if source == "gpuOperator":
        args = GpuMetricsArgs(
            source="gpuOperator",
            namespace=operator_namespace or GPU_OPERATOR_NAMESPACE,
            rules_namespace=cfg.namespace,
            scrape_interval=o.scrape_interval,
        )
    elif source == "external":
        args = GpuMetricsArgs(
            source="external", namespace=cfg.namespace, rules_namespace=cfg.namespace, scrape_interval=o.scrape_interval
        )
    else:
        args = GpuMetricsArgs(
            source="exporter",
            namespace=cfg.namespace,
            placements=placements,
            image=catalog.DCGM_EXPORTER_IMAGE,
            port=catalog.DCGM_EXPORTER_PORT,
            metrics=dict(catalog.DCGM_METRICS),
            metric_help=dict(catalog.DCGM_METRIC_HELP),
            scraper_namespace=scraper_namespace(cfg),
            run_as_user=run_as_user,
            runtime_class_name=o.gpu_runtime_class,
            rules_namespace=cfg.namespace,
            scrape_interval=o.scrape_interval,
        )
    return GpuMetrics(
        f"{cfg.name}-gpu-metrics",
        args,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=monitoring.ready)),
    )


def observe(
    cfg: StackBase,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    servers: list[VllmServer] | list[RayVllmServer],
    door: EntryPoint,
    ray_head_labels: dict[str, str] | None = None,
) -> Monitoring:
    """Everything `observability` asks for around the served models (`servers`: one per `models` entry, in
    order); what autoscalers need back."""
    monitoring = monitoring_stack(cfg, platform.provider, platform.system_node_selector)
    opts = pulumi.ResourceOptions(provider=platform.provider, depends_on=[namespace])
    for i, (model, server) in enumerate(zip(cfg.models, servers, strict=True)):
        name = f"{cfg.name}-vllm-monitoring" + ("" if i == 0 else f"-{resource_suffix(model.name)}")
        # The namespace's download/upload Job alerts once, with the first model's rules.
        monitor_server(cfg, monitoring, server, model, name, ray_head_labels=ray_head_labels,
                       model_store_alerts=i == 0, opts=opts)  # fmt: skip
    if monitor_front_door(cfg, monitoring, door, opts) is not None:
        monitoring.front_door = RouterSeries(cfg.namespace, door.pod_labels[JOB_LABEL])
    # The GPU exporter's DaemonSet runs on the nodes of every GPU pool.
    gpu_metrics(cfg, monitoring, [pool.placement for pool in platform.pools.values()], platform.run_as_user,
                _after_gpu_pools(platform, opts))  # fmt: skip
    return monitoring


# The labels KServe gives every predictor pod of an InferenceService, and the predictor Deployment's name in
# RawDeployment mode (kserve v0.20.0, 1fb781055dd1: components/predictor.go buildObjectMeta labels
# constants.InferenceServicePodLabelKey "serving.kserve.io/inferenceservice" = the isvc name and
# constants.KServiceComponentLabel "component" = "predictor"; reconcilers/deployment/deployment_reconciler.go
# puts that metadata on the pod template; constants.go PredictorServiceName: "<isvc>-predictor").
# Serverless: reconcilers/knative/ksvc_reconciler.go createKnativeService puts the same labels on the
# Knative Service's revision template (less serviceLabelDisallowedList: by default only
# networking.kserve.io/visibility, constants.RevisionTemplateLabelDisallowedList), and Knative copies a
# revision's labels to its Deployment's pods (knative/serving v0.48.1 pkg/reconciler/revision/resources
# deploy.go MakeDeployment, meta.go makeLabels).
KSERVE_ISVC_LABEL = "serving.kserve.io/inferenceservice"


def kserve_predictor_labels(isvc: str) -> dict[str, str]:
    return {KSERVE_ISVC_LABEL: isvc, "component": "predictor"}


@dataclass(frozen=True)
class KServeModel:
    """One InferenceService as monitoring sees it: the name vLLM serves (model_name label) and the isvc's."""

    served_model_name: str
    isvc: str


def kserve_scrape(model: KServeModel, deployment_mode: str, port_name: str) -> tuple[ScrapeTarget, ServerTarget]:
    """Where Prometheus scrapes one InferenceService's vLLM, and what its no-ready-replica alert watches.

    Both modes: the predictor pods by KServe's labels, vLLM's own /metrics (the same series as every other
    stack), the isvc label as the job. RawDeployment: the runtime's named port, KServe's one Deployment.
    Serverless: Knative names the serving container's port `user-port` on the pod; queue-proxy's ports
    (9090, 9091) carry only its own request metrics, and KServe's metric aggregation (queue-proxy merging
    both on one port, pkg/webhook/admission/pod/metrics_aggregate_injector.go) needs the cluster's Knative
    to run KServe's queue-proxy extension image, which this program cannot see: vLLM's port is scraped
    directly. The alert counts the available replicas of every revision's Deployment (kube-state-metrics,
    names by regular expression: Knative makes one per revision); sums scaled to zero do not page. With a
    name Knative hashes (over 36 characters) it watches the scrape job instead: this program sets
    min-scale = minReplicas = models[].replicas >= 1 (components/kserve/inference_service.py; kserve
    v0.20.0 pkg/controller/v1alpha1/utils SetAutoScalingAnnotations), so Knative never scales the model to
    zero and no target up means no replica serving."""
    target = ScrapeTarget(pod_labels=kserve_predictor_labels(model.isvc), port_name=port_name,
                          job_label=KSERVE_ISVC_LABEL)  # fmt: skip
    if deployment_mode == "RawDeployment":
        return target, ServerTarget("deployment", f"{model.isvc}-predictor")
    target = dataclasses.replace(target, port_name=KNATIVE_USER_PORT_NAME)
    pattern = knative_deployment_pattern(model.isvc)
    return target, ServerTarget("deployments", pattern) if pattern else ServerTarget("scrapeJob", model.isvc)


def observe_kserve(
    cfg: ExistingStack,
    platform: ServingPlatform,
    models: list[KServeModel],
    port_name: str,
    *,
    scrapable: bool,
    opts: pulumi.ResourceOptions,
) -> Monitoring:
    """KServe's predictor pods scraped on vLLM's port (`port_name` in RawDeployment, Knative's user-port
    under Serverless), their alerts and dashboards, and GPU metrics. Only when `scrapable`: a NetworkPolicy
    admits Prometheus to that port."""
    monitoring = monitoring_stack(cfg, platform.provider, platform.system_node_selector)
    o = cfg.observability
    if not o.active:
        return monitoring
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=monitoring.ready))
    if scrapable:
        for i, m in enumerate(models):
            target, watched = kserve_scrape(m, cfg.existing.kserve.deployment_mode, port_name)
            ModelMonitoring(
                f"{cfg.name}-{m.isvc}-monitoring",
                ModelMonitoringArgs(
                    namespace=cfg.namespace,
                    served_model_name=m.served_model_name,
                    target=target,
                    server=watched,
                    thresholds=thresholds(cfg),
                    scrape_interval=o.scrape_interval,
                    model_store_alerts=i == 0,
                    name=m.isvc,
                ),
                opts=after,
            )
    gpu_metrics(cfg, monitoring, [pool.placement for pool in platform.pools.values()], platform.run_as_user,
                _after_gpu_pools(platform, opts))  # fmt: skip
    return monitoring
