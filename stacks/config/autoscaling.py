"""Config for autoscaling: a served model's replicas (`autoscaling:` of the model), the GPU node pool
that follows them (`autoscale:` of a GPU pool), and whether the stack installs KEDA (`keda:`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from stacks.config.base import Section
from stacks.config.pools import pool_named


class AutoscalingConfig(Section):
    enabled: bool = Field(
        False, description="Scale the model's replicas with load (a KEDA ScaledObject). Default: false."
    )
    min_replicas: int = Field(1, ge=0, le=64, description="Fewest replicas; 0 needs `scaleToZero: true`. Default: 1.")
    max_replicas: int = Field(2, ge=1, le=64, description="Most replicas (each one GPU node). Default: 2.")
    scale_to_zero: bool = Field(
        False,
        description="Allow 0 replicas after cooldownSeconds without traffic (a stack serving one model): requests "
        "that arrive at zero get a 503 from the front door and wake the model, which serves again after a cold "
        "start (the preview prints its estimate). Default: false.",
    )
    waiting_per_replica: float = Field(
        4, gt=0, le=1000, description="Target waiting requests per replica (vllm:num_requests_waiting). Default: 4."
    )
    kv_cache_usage: float = Field(
        0.8, gt=0, le=1, description="Add replicas when the mean KV-cache usage is above this (0-1). Default: 0.8."
    )
    scale_down_stabilization_seconds: int = Field(
        600, ge=0, le=3600, description="Load must stay low this long before a replica is removed. Default: 600."
    )
    cooldown_seconds: int = Field(
        1800,
        ge=60,
        le=86400,
        description="With scaleToZero: idle time before scaling to zero (KEDA cooldownPeriod). Default: 1800.",
    )
    polling_seconds: int = Field(
        15,
        ge=5,
        le=300,
        description="With scaleToZero: how often KEDA queries Prometheus for the wake signal (KEDA pollingInterval; "
        "from one replica up the HPA polls, every 15 s). Default: 15.",
    )

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingConfig:
        if self.min_replicas == 0 and not self.scale_to_zero:
            raise ValueError(
                "minReplicas: 0 replicas needs scaleToZero: true (the first request then waits for a cold start)"
            )
        if self.scale_to_zero and self.min_replicas != 0:
            raise ValueError(
                f"scaleToZero: true scales down to 0 replicas; set minReplicas: 0 (got {self.min_replicas})"
            )
        # KEDA uses both only between 0 and 1 replica (components/autoscaling/keda.py scaled_object_spec).
        for field, key in (("cooldown_seconds", "cooldownSeconds"), ("polling_seconds", "pollingSeconds")):
            if field in self.model_fields_set and not self.scale_to_zero:
                raise ValueError(
                    f"{key}: only KEDA's steps between 0 and 1 replica use it (from one replica up the HPA polls "
                    "and scales down after scaleDownStabilizationSeconds); remove it or set scaleToZero: true"
                )
        if self.max_replicas < max(self.min_replicas, 1):
            raise ValueError(f"maxReplicas: {self.max_replicas} is below minReplicas {self.min_replicas}")
        return self


class NodeAutoscaleConfig(Section):
    min_nodes: int = Field(0, ge=0, le=64, description="Fewest GPU nodes the cloud's autoscaler keeps. Default: 0.")
    max_nodes: int = Field(..., ge=1, le=64, description="Most GPU nodes the cloud's autoscaler adds.")

    @model_validator(mode="after")
    def _bounds(self) -> NodeAutoscaleConfig:
        if self.max_nodes < self.min_nodes:
            raise ValueError(f"maxNodes: {self.max_nodes} is below minNodes {self.min_nodes}")
        return self


class KedaConfig(Section):
    install: bool = Field(
        False,
        description="Install the pinned KEDA chart (else KEDA must already run where autoscaling is on). Default: false.",
    )


# --------------------------------------------------------------------------------------------
# Cross-section rules (called from the stack config's fit check)
# --------------------------------------------------------------------------------------------


def pool_max_nodes(pool: Any) -> int:
    """The most nodes a GPU pool can have: its autoscaler's maximum, else its fixed size."""
    return pool.autoscale.max_nodes if pool.autoscale is not None else pool.node_count


def pool_nodes_key(pool: Any, key: str) -> str:
    """The key that bounds a pool's nodes, for messages."""
    return f"{key}.autoscale.maxNodes" if pool.autoscale is not None else f"{key}.nodeCount"


def check_wake_signal(root: Any, at: str) -> None:
    """A model at zero replicas has no vLLM metrics left: what wakes it is the front door's router, which
    answers 503 and counts the request ("no_available_workers") when no replica is there. Its counters are
    not per model, and with several models the pinned router (vllm-router 0.1.17, run by
    tests/test_router.py) sends a request for a model without replicas to another model's replica instead
    (a 404, not counted as a missing replica): so only a stack serving one model, whose door Prometheus
    scrapes (the PodMonitor this stack writes), can wake it."""
    if len(root.models) > 1:
        raise ValueError(
            f"{at}.scaleToZero: only for a stack serving one model: the front door's router does not count "
            f"requests per model, so KEDA could not tell which of the {len(root.models)} models to wake"
        )
    o = root.observability
    if not o.active:
        raise ValueError(
            f"{at}.scaleToZero: the wake signal is the front door's router metrics, scraped through the PodMonitor "
            "this stack writes; set observability.install: true or observability.prometheusOperator: true"
        )


def check_autoscaling(root: Any, pools: list[Any]) -> None:
    """What autoscaling needs from the rest of the stack: GPU pools that start within their bounds and can
    hold each model's maxReplicas (one replica per node; several models on a pool are summed by the
    placement check), single-node replicas, a Prometheus to query, and a wake signal for zero."""
    for _, key, pool in root.named_gpu_pools():
        bounds = getattr(pool, "autoscale", None)  # a cluster's own nodes (existing) have none
        if bounds is not None and not bounds.min_nodes <= pool.node_count <= bounds.max_nodes:
            raise ValueError(
                f"{key}.nodeCount: {pool.node_count} must lie between autoscale.minNodes {bounds.min_nodes} "
                f"and autoscale.maxNodes {bounds.max_nodes}"
            )
    for i, m in enumerate(root.models):
        scaling = m.autoscaling
        if not scaling.enabled:
            continue
        at = f"models[{i}].autoscaling"
        if why := root.not_autoscaled():  # the platform's variant: multi-node on Ray, KServe's own scaling
            raise ValueError(f"{at}.enabled: {why}")
        o = root.observability
        if not (o.enabled and (o.install or o.prometheus_url)):
            raise ValueError(
                f"{at}.enabled: KEDA scales on vLLM's metrics in Prometheus; set observability.install: true, or "
                "observability.prometheusUrl to a Prometheus that scrapes them"
            )
        if scaling.scale_to_zero:
            check_wake_signal(root, at)
        pool = pool_named(pools, m.pool)
        if scaling.max_replicas > pool.nodes:
            raise ValueError(
                f"{at}.maxReplicas: {scaling.max_replicas} replicas of {m.name} need {scaling.max_replicas} GPU nodes "
                f"(one per node) but {pool.nodes_key or pool.key} is {pool.nodes}"
            )
