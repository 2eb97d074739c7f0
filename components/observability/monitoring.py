"""Scraping, alerts and dashboards for one served model, as Prometheus Operator custom resources
(monitoring.coreos.com/v1, CRDs of prometheus-operator v0.93.0 in ../shared/crds) and a Grafana
dashboard ConfigMap."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.observability.alerts import AlertThresholds, ServerTarget, job_rules, model_rules
from components.observability.dashboards import SIDECAR_LABEL, dashboard_uid, model_dashboard
from components.observability.queries import ModelSeries

# The pod label whose value becomes the `job` label of every scraped series (PodMonitor spec.jobLabel),
# so the alerts can name the job without knowing the operator's default naming.
JOB_LABEL = "app.kubernetes.io/instance"


@dataclass(frozen=True)
class ScrapeTarget:
    """Pods to scrape: their labels (all must match) and the name of the container port serving /metrics."""

    pod_labels: dict[str, str]
    port_name: str
    path: str = "/metrics"
    job_label: str = JOB_LABEL
    """The pod label whose value becomes the series' `job` (pods without it: `<namespace>/<PodMonitor name>`)."""


def pod_monitor_spec(namespace: str, target: ScrapeTarget, interval: str) -> dict[str, Any]:
    return {
        "jobLabel": target.job_label,
        "selector": {"matchLabels": dict(target.pod_labels)},
        "namespaceSelector": {"matchNames": [namespace]},
        "podMetricsEndpoints": [{"port": target.port_name, "path": target.path, "interval": interval}],
    }


@dataclass(frozen=True)
class ModelMonitoringArgs:
    namespace: str
    served_model_name: str
    target: ScrapeTarget
    server: ServerTarget
    """What `VllmNoReadyReplica` watches (a Deployment, or the scrape job of a Ray head)."""
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    scrape_interval: str = "15s"
    model_store_alerts: bool = True
    """Also alert on the namespace's weights download/upload Jobs (once per namespace)."""
    name: str = "vllm"


class ModelMonitoring(pulumi.ComponentResource):
    pod_monitor_name: str
    rule_names: list[str]
    dashboard_uid: str

    def __init__(self, name: str, args: ModelMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:ModelMonitoring", name, None, opts)
        labels = {"app.kubernetes.io/name": "vllm-monitoring", "app.kubernetes.io/instance": args.name}
        series = ModelSeries(args.namespace, args.served_model_name)
        k8s.apiextensions.CustomResource(
            f"{name}-pod-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": args.name, "namespace": args.namespace, "labels": labels},
            spec=pod_monitor_spec(args.namespace, args.target, args.scrape_interval),
            opts=pulumi.ResourceOptions(parent=self),
        )
        groups = [model_rules(series, args.server, args.thresholds)]
        if args.model_store_alerts:
            groups.append(job_rules(args.namespace))
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": args.name, "namespace": args.namespace, "labels": labels},
            spec={"groups": groups},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_uid = dashboard_uid(args.namespace, args.name)
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata={
                "name": f"{args.name}-dashboard",
                "namespace": args.namespace,
                "labels": {**labels, **SIDECAR_LABEL},
            },
            data={
                f"{args.name}.json": json.dumps(model_dashboard(self.dashboard_uid, series), indent=1, sort_keys=True)
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pod_monitor_name = args.name
        self.rule_names = [rule["alert"] for group in groups for rule in group["rules"]]
        self.register_outputs({})
