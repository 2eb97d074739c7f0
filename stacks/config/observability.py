"""The `observability:` config section: scraping, alerts, dashboards and GPU metrics."""

from __future__ import annotations

from pydantic import Field, model_validator

from stacks.config.base import KubernetesLabelName, Section
from stacks.config.syntax import workload_namespace


class AlertsConfig(Section):
    queue_growing_minutes: int = Field(
        5, ge=1, le=120, description="Alert when waiting requests rise for this many minutes. Default: 5."
    )
    kv_cache_usage: float = Field(
        0.95, gt=0, le=1, description="Alert when a replica's KV cache is fuller than this (0-1). Default: 0.95."
    )
    ttft_p95_seconds: float = Field(
        2.0, gt=0, le=600, description="Time-to-first-token objective: alert when p95 is above it. Default: 2."
    )
    front_door_error_ratio: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Alert when the front door's router fails more than this share of requests (0-1). Default: 0.05.",
    )


class ObservabilityConfig(Section):
    enabled: bool = Field(
        True,
        description="Scrape targets (PodMonitor/ServiceMonitor), alerts (PrometheusRule), Grafana dashboards "
        "and GPU metrics, whenever a Prometheus Operator is there (`install` or `prometheusOperator`). Default: true.",
    )
    install: bool = Field(
        False,
        description="Install the pinned kube-prometheus-stack chart (Prometheus, Alertmanager, Grafana behind "
        "port-forward only) into `namespace`. Default: false.",
    )
    prometheus_operator: bool = Field(
        False,
        description="The cluster already runs the Prometheus Operator (its monitoring.coreos.com CRDs are "
        "installed, e.g. OpenShift user-workload monitoring). Default: false.",
    )
    namespace: KubernetesLabelName = Field(
        "monitoring",
        description="Namespace Prometheus runs in (installed there, or the existing one's): admitted to the "
        "metrics ports by the NetworkPolicies. Default: monitoring.",
    )
    prometheus_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(:\d+)?(/\S*)?$",
        description="Prometheus query URL for autoscalers. Default: the installed stack's in-cluster Service.",
    )
    gpu_metrics: bool = Field(
        True,
        description="Scrape DCGM GPU metrics (the GPU Operator's exporter, or one the stack deploys). Default: true.",
    )
    gpu_runtime_class: KubernetesLabelName | None = Field(
        None,
        description="RuntimeClass of the NVIDIA container runtime for the stack's own DCGM exporter, on GPU nodes "
        "where that runtime is not the default (the exporter requests no GPU, so only that runtime gives it the "
        "driver's NVML; without it the exporter exits with ERROR_LIBRARY_NOT_FOUND). Default: none (the node's "
        "default runtime).",
    )
    scrape_interval: str = Field("15s", pattern=r"^[1-9][0-9]*[sm]$", description="Scrape interval. Default: 15s.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _one_prometheus(self) -> ObservabilityConfig:
        if self.install and self.prometheus_operator:
            raise ValueError(
                "install: the cluster already runs the Prometheus Operator (prometheusOperator: true); set only one"
            )
        if self.install:
            try:
                workload_namespace(self.namespace)
            except ValueError as error:
                raise ValueError(f"namespace: {error}") from None
        return self

    @property
    def active(self) -> bool:
        """Whether the monitoring custom resources can be applied: a Prometheus Operator is there."""
        return self.enabled and (self.install or self.prometheus_operator)
