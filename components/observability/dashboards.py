"""Grafana dashboards as code: one per served model, one for the GPUs. Plain dicts in Grafana's
dashboard JSON model (https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/),
handed to Grafana as ConfigMaps its dashboard sidecar loads (label `grafana_dashboard: "1"`, the
kube-prometheus-stack default)."""

from __future__ import annotations

import hashlib
from typing import Any

from components.conventions import PROJECT
from components.observability import queries as q
from components.observability.queries import ModelSeries, RouterSeries

# The label kube-prometheus-stack's Grafana sidecar watches for dashboards (its values.yaml:
# grafana.sidecar.dashboards.label `grafana_dashboard`, labelValue "1").
SIDECAR_LABEL = {"grafana_dashboard": "1"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana refuses a longer dashboard uid ("uid too long, max 40 characters", ErrDashboardUidTooLong in
# grafana/grafana pkg/services/dashboards/errors.go; two with one uid: ErrDashboardWithSameUIDExists, "A
# dashboard with the same uid already exists"): Grafana's provisioning then loads one of them, or none.
MAX_UID = 40


def dashboard_uid(namespace: str, name: str) -> str:
    """`<namespace>-<name>`, or, past 40 characters, its first 31 and 8 hex digits of its SHA-256: distinct
    for distinct names (a plain cut would give every dashboard of a long namespace the same uid)."""
    uid = f"{namespace}-{name}"
    if len(uid) <= MAX_UID:
        return uid
    return f"{uid[: MAX_UID - 9]}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"


def _panel(title: str, targets: list[tuple[str, str]], unit: str, x: int, y: int, w: int = 12) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _dashboard(
    uid: str, title: str, tags: list[str], rows: list[list[tuple[str, list[tuple[str, str]], str]]]
) -> dict[str, Any]:
    panels = []
    for y, row in enumerate(rows):
        width = 24 // len(row)
        for x, (title_, targets, unit) in enumerate(row):
            panels.append(_panel(title_, targets, unit, x * width, y * 8, width))
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "schemaVersion": 39,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}]
        },
        "panels": panels,
    }


def model_dashboard(uid: str, series: ModelSeries) -> dict[str, Any]:
    """Load, queue, latency, throughput and caches of one served model, over all its replicas."""
    s = series

    def percentiles(histogram: str) -> list[tuple[str, str]]:
        return [(s.quantile(p, histogram), f"p{round(p * 100)}") for p in (0.5, 0.95, 0.99)]

    return _dashboard(
        uid,
        f"vLLM: {s.model_name} ({s.namespace})",
        [PROJECT, "vllm"],
        [
            [
                ("Requests per second", [(s.requests_per_second(), "finished requests/s")], "reqps"),
                ("Running and waiting requests", [(s.running(), "running"), (s.waiting(), "waiting")], "short"),
            ],
            [
                ("Time to first token", percentiles("vllm:time_to_first_token_seconds"), "s"),
                ("Inter-token latency", percentiles("vllm:inter_token_latency_seconds"), "s"),
            ],
            [
                ("End-to-end request latency", percentiles("vllm:e2e_request_latency_seconds"), "s"),
                (
                    "Tokens per second",
                    [
                        (s.rate("vllm:prompt_tokens_total"), "prompt"),
                        (s.rate("vllm:generation_tokens_total"), "generation"),
                    ],
                    "short",
                ),
            ],
            [
                (
                    "KV-cache usage",
                    [(s.kv_cache_usage(), "fullest replica"), (s.mean_kv_cache_usage(), "mean")],
                    "percentunit",
                ),
                ("Prefix-cache hit rate", [(s.prefix_cache_hit_rate(), "hits / queries")], "percentunit"),
                ("Preemptions per second", [(s.rate("vllm:num_preemptions_total"), "preemptions/s")], "short"),
            ],
        ],
    )


def front_door_dashboard(uid: str, series: RouterSeries) -> dict[str, Any]:
    """The front door's router: traffic and failures per route, latency, and the replicas it sees."""
    s = series
    return _dashboard(
        uid,
        f"vLLM front door ({s.namespace})",
        [PROJECT, "vllm-router"],
        [
            [
                ("Requests per second", [(s.requests_per_second("route"), "{{route}}")], "reqps"),
                ("Failed requests per second", [(s.errors_per_second("error_type"), "{{error_type}}")], "reqps"),
            ],
            [
                (
                    "Routed request duration",
                    [(s.quantile(p), f"p{round(p * 100)}") for p in (0.5, 0.95, 0.99)],
                    "s",
                ),
                ("Healthy replicas seen by each door pod", [(s.healthy_workers(), "{{pod}}")], "short"),
                ("In-flight requests per replica", [(s.running_per_worker(), "{{worker}}")], "short"),
            ],
        ],
    )


def gpu_dashboard(uid: str) -> dict[str, Any]:
    """Every GPU the DCGM exporter reports, one line per GPU and node."""
    per_gpu = "{{Hostname}} GPU {{gpu}}"
    return _dashboard(
        uid,
        "GPUs (DCGM)",
        [PROJECT, "gpu"],
        [
            [
                ("GPU utilisation", [(q.GPU_UTILIZATION, per_gpu)], "percent"),
                (
                    "GPU memory used",
                    [(f"{q.GPU_MEMORY_USED_MIB} / ({q.GPU_MEMORY_USED_MIB} + {q.GPU_MEMORY_FREE_MIB})", per_gpu)],
                    "percentunit",
                ),
            ],
            [
                ("Temperature", [(q.GPU_TEMPERATURE, per_gpu)], "celsius"),
                ("Power draw", [(q.GPU_POWER_WATTS, per_gpu)], "watt"),
                ("Last XID error (0: none)", [(q.GPU_LAST_XID, per_gpu)], "none"),
            ],
        ],
    )
