"""PromQL for one served model and for the GPUs: the single place dashboards, alerts and scalers take
their expressions from. Metric names are those the pinned vLLM and dcgm-exporter export
(stacks/catalog/metrics.yaml); tests/test_observability.py parses every expression and checks them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSeries:
    """Which series belong to one model: vLLM labels every metric with model_name (the served name);
    the namespace label comes from the scrape target."""

    namespace: str
    model_name: str

    @property
    def selector(self) -> str:
        return f'namespace="{self.namespace}", model_name="{self.model_name}"'

    def rate(self, metric: str, window: str = "5m") -> str:
        return f"sum(rate({metric}{{{self.selector}}}[{window}]))"

    def quantile(self, q: float, histogram: str, window: str = "5m") -> str:
        return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket{{{self.selector}}}[{window}])))"

    def waiting(self) -> str:
        return f"sum(vllm:num_requests_waiting{{{self.selector}}})"

    def running(self) -> str:
        return f"sum(vllm:num_requests_running{{{self.selector}}})"

    def kv_cache_usage(self) -> str:
        """The fullest replica's KV cache (0..1): one full replica already queues requests."""
        return f"max(vllm:kv_cache_usage_perc{{{self.selector}}})"

    def mean_kv_cache_usage(self) -> str:
        return f"avg(vllm:kv_cache_usage_perc{{{self.selector}}})"

    def prefix_cache_hit_rate(self) -> str:
        return f"{self.rate('vllm:prefix_cache_hits_total')} / clamp_min({self.rate('vllm:prefix_cache_queries_total')}, 1)"

    def requests_per_second(self) -> str:
        return self.rate("vllm:request_success_total")


# dcgm-exporter's gauges: one series per GPU (labels gpu, UUID, Hostname, modelName).
GPU_UTILIZATION = "DCGM_FI_DEV_GPU_UTIL"
GPU_MEMORY_USED_MIB = "DCGM_FI_DEV_FB_USED"
GPU_MEMORY_FREE_MIB = "DCGM_FI_DEV_FB_FREE"
GPU_TEMPERATURE = "DCGM_FI_DEV_GPU_TEMP"
GPU_POWER_WATTS = "DCGM_FI_DEV_POWER_USAGE"
GPU_LAST_XID = "DCGM_FI_DEV_XID_ERRORS"
"""The value of the last XID error a GPU reported (0: none since the exporter started)."""


@dataclass(frozen=True)
class RouterSeries:
    """The front door's router (vllm-router): its series carry no model label, only the scrape job (the
    door's instance label) and, per metric, route / error_type / worker (what the pinned router prints:
    stacks/catalog/metrics.yaml). Requests it answered and requests that failed are counted apart."""

    namespace: str
    job: str

    @property
    def selector(self) -> str:
        return f'namespace="{self.namespace}", job="{self.job}"'

    def rate(self, metric: str, by: str = "", window: str = "5m") -> str:
        grouping = f" by ({by})" if by else ""
        return f"sum{grouping}(rate({metric}{{{self.selector}}}[{window}]))"

    def requests_per_second(self, by: str = "") -> str:
        return self.rate("vllm_router_requests_total", by)

    def errors_per_second(self, by: str = "") -> str:
        return self.rate("vllm_router_request_errors_total", by)

    def error_ratio(self) -> str:
        """Failed over all requests (answered + failed); no value without traffic."""
        errors = self.errors_per_second()
        return f"{errors} / ({self.requests_per_second()} + {errors})"

    def quantile(self, q: float, window: str = "5m") -> str:
        bucket = f"vllm_router_generate_duration_seconds_bucket{{{self.selector}}}"
        return f"histogram_quantile({q}, sum by (le) (rate({bucket}[{window}])))"

    def healthy_workers(self) -> str:
        """Replicas each router pod counts healthy (every door pod tracks every replica)."""
        return f"sum by (pod) (vllm_router_worker_health{{{self.selector}}})"

    def running_per_worker(self) -> str:
        """In-flight requests per replica, over the door's pods (each routes its own share)."""
        return f"sum by (worker) (vllm_router_running_requests{{{self.selector}}})"

    def up(self) -> str:
        return f"(sum(up{{{self.selector}}}) or vector(0))"

    def wake(self, model: ModelSeries, window: str = "2m") -> str:
        """1 while the model has traffic, else 0: requests the door answered or could not place for want of
        a replica (at zero replicas the pinned router answers 503 and counts error_type
        "no_available_workers"), or requests still running on a replica. The router creates a counter's
        series at its first increment, where rate() sees no increase yet: a refusal series that appeared
        within the window counts too. The door's counters are not per model, so this is one model's traffic
        only when the door serves that one model."""
        refusals = f'vllm_router_request_errors_total{{{self.selector}, error_type="no_available_workers"}}'
        answered = f"(sum(rate(vllm_router_requests_total{{{self.selector}}}[{window}])) or vector(0))"
        refused = f"(sum(rate({refusals}[{window}])) or vector(0))"
        first_refusal = f"(count({refusals} unless {refusals} offset {window}) or vector(0))"
        return f"{answered} + {refused} + {first_refusal} + ({model.running()} or vector(0)) > bool 0"
