"""Scraping, alerts and a dashboard for the front door's router (components/workloads/router.py): a
PodMonitor on the door's pods and its router's metrics port (the NetworkPolicy admitting Prometheus to
that port is the serving namespace's, components/workloads/network_policy.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.observability.alerts import AlertThresholds, front_door_rules
from components.observability.dashboards import SIDECAR_LABEL, dashboard_uid, front_door_dashboard
from components.observability.monitoring import JOB_LABEL, ScrapeTarget, pod_monitor_spec
from components.observability.queries import RouterSeries


@dataclass(frozen=True)
class FrontDoorMonitoringArgs:
    namespace: str
    target: ScrapeTarget
    """The door's pods and the name of its router's metrics port."""
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    scrape_interval: str = "15s"


class FrontDoorMonitoring(pulumi.ComponentResource):
    pod_monitor_name: str
    rule_names: list[str]

    def __init__(self, name: str, args: FrontDoorMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:FrontDoorMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The PodMonitor's job label is the pods' instance label: the door's name.
        job = args.target.pod_labels[JOB_LABEL]
        labels = {"app.kubernetes.io/name": "vllm-monitoring", "app.kubernetes.io/instance": job}
        series = RouterSeries(args.namespace, job)
        k8s.apiextensions.CustomResource(
            f"{name}-pod-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": job, "namespace": args.namespace, "labels": labels},
            spec=pod_monitor_spec(args.namespace, args.target, args.scrape_interval),
            opts=child,
        )
        group = front_door_rules(series, args.thresholds)
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": job, "namespace": args.namespace, "labels": labels},
            spec={"groups": [group]},
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata={"name": f"{job}-dashboard", "namespace": args.namespace, "labels": {**labels, **SIDECAR_LABEL}},
            data={f"{job}.json": json.dumps(front_door_dashboard(dashboard_uid(args.namespace, job), series), indent=1,
                                            sort_keys=True)},
            opts=child,
        )  # fmt: skip
        self.pod_monitor_name = job
        self.rule_names = [rule["alert"] for rule in group["rules"]]
        self.register_outputs({})
