"""Alert rules (PrometheusRule groups) for a served model and for the GPUs: pure functions, so the
rules and their PromQL are unit-tested without the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from components.observability import queries as q
from components.observability.queries import ModelSeries, RouterSeries


@dataclass(frozen=True)
class AlertThresholds:
    queue_growing_minutes: int = 5
    kv_cache_usage: float = 0.95
    ttft_p95_seconds: float = 2.0
    front_door_error_ratio: float = 0.05


@dataclass(frozen=True)
class ServerTarget:
    """How to tell that a model has no ready replica: a Deployment (kube-state-metrics counts its
    available replicas; a Deployment scaled to zero on purpose does not alert); the Deployments whose names
    match `name` as a regular expression, counted together (Knative's one per revision: while a new revision
    starts, the old one still serves; all scaled to zero does not alert); or the scrape job of the model's
    PodMonitor (vLLM answers /metrics only once its engine is up; no target at all alerts too)."""

    kind: Literal["deployment", "deployments", "scrapeJob"]
    name: str


def _rule(
    alert: str, expr: str, minutes: int, severity: str, summary: str, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "alert": alert,
        "expr": expr,
        "for": f"{minutes}m",
        "labels": {"severity": severity, **(labels or {})},
        "annotations": {"summary": summary},
    }


def no_ready_replica_expr(series: ModelSeries, target: ServerTarget) -> str:
    ns = series.namespace
    if target.kind == "deployment":
        wanted = f'kube_deployment_spec_replicas{{namespace="{ns}", deployment="{target.name}"}}'
        ready = f'kube_deployment_status_replicas_available{{namespace="{ns}", deployment="{target.name}"}}'
        return f"({wanted} > 0) and ({ready} == 0)"
    if target.kind == "deployments":
        wanted = f'sum(kube_deployment_spec_replicas{{namespace="{ns}", deployment=~"{target.name}"}})'
        ready = f'sum(kube_deployment_status_replicas_available{{namespace="{ns}", deployment=~"{target.name}"}})'
        return f"({wanted} > 0) and ({ready} == 0)"
    return f'(sum(up{{namespace="{ns}", job="{target.name}"}}) or vector(0)) < 1'


def model_rules(series: ModelSeries, target: ServerTarget, limits: AlertThresholds) -> dict[str, Any]:
    """One rule group per served model. Its alerts carry the model and namespace as labels: the expressions
    aggregate the series' labels away, and two models' alerts with equal labels would be one alert to
    Alertmanager (and one rule, twice, to `promtool check rules`)."""
    s, m = series, series.model_name
    queue = limits.queue_growing_minutes
    who = {"namespace": s.namespace, "model_name": m}
    return {
        "name": f"vllm-{m}",
        "rules": [
            _rule("VllmNoReadyReplica", no_ready_replica_expr(s, target), 5, "critical",
                  f"{m}: no replica is ready to serve", who),
            # Waiting requests present and still rising over the window: replicas cannot keep up.
            _rule("VllmQueueGrowing", f"({s.waiting()} > 0) and (deriv({s.waiting()}[{queue}m:30s]) > 0)", queue,
                  "warning", f"{m}: requests have been queueing and the queue growing for {queue} minutes", who),
            _rule("VllmKvCacheFull", f"{s.kv_cache_usage()} > {limits.kv_cache_usage}", 5, "warning",
                  f"{m}: a replica's KV cache is over {limits.kv_cache_usage:.0%} full (requests queue or get preempted)", who),
            _rule("VllmTimeToFirstTokenSlo", f"{s.quantile(0.95, 'vllm:time_to_first_token_seconds')} > {limits.ttft_p95_seconds}",
                  10, "warning", f"{m}: p95 time to first token above the {limits.ttft_p95_seconds} s objective", who),
        ],
    }  # fmt: skip


def job_rules(namespace: str) -> dict[str, Any]:
    """The weights download/upload Jobs of the namespace (components/workloads/*_model_store.py name them
    model-download-<digest> / model-upload-<digest>)."""
    failed = f'kube_job_failed{{namespace="{namespace}", job_name=~"model-(download|upload)-.*", condition="true"}} > 0'
    return {
        "name": f"model-store-{namespace}",
        "rules": [_rule("ModelStoreJobFailed", failed, 0, "critical", "the model weights download/upload Job failed")],
    }


def front_door_rules(series: RouterSeries, limits: AlertThresholds) -> dict[str, Any]:
    """The door every client goes through: down, or failing a share of its requests (a model without a
    ready replica, replicas answering errors)."""
    ratio = limits.front_door_error_ratio
    return {
        "name": f"front-door-{series.job}",
        "rules": [
            _rule("VllmFrontDoorDown", f"{series.up()} < 1", 5, "critical",
                  "no front door pod answers: the endpoint is down"),
            _rule("VllmFrontDoorErrors", f"{series.error_ratio()} > {ratio}", 10, "warning",
                  f"the front door's router failed over {ratio:.0%} of requests for 10 minutes"),
        ],
    }  # fmt: skip


def gpu_rules() -> dict[str, Any]:
    # DCGM_FI_DEV_XID_ERRORS is the last XID a GPU reported; nonzero means the driver saw an error
    # (https://docs.nvidia.com/deploy/xid-errors/): page, since most need a GPU reset or a node drain.
    # It pages once per XID, not forever: DCGM records an XID only on NVML's XidCriticalError event
    # (NVIDIA/DCGM @72fa3fe dcgmlib/src/DcgmCacheManager.cpp RecordXidForGpu) and drops samples older than
    # the watch's keep age (EnforceWatchInfoQuota), which dcgm-exporter sets to 600 s
    # (internal/pkg/devicewatcher/const.go maxKeepAge at 4.5.3-4.8.2); with no sample left it skips the
    # field (collector/gpu_collector.go toMetric, skipDCGMValue), so the series, and the alert, end about
    # ten minutes after the XID. Not observed on a GPU here: read from the sources only.
    return {
        "name": "gpu-health",
        "rules": [
            _rule("GpuXidError", f"{q.GPU_LAST_XID} > 0", 0, "critical",
                  "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}"),
        ],
    }  # fmt: skip


def rule_expressions(groups: list[dict[str, Any]]) -> list[str]:
    return [rule["expr"] for group in groups for rule in group["rules"]]
