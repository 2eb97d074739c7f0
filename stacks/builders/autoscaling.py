"""Autoscaling for a stack, as config says: the model's replicas with KEDA (`vllm.autoscaling`, optional
KEDA chart with `keda.install`), and the GPU pools' bounds for the clouds' node autoscalers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from components.autoscaling.keda import KedaArgs, KedaOperator, ReplicaScaler, ScalerArgs
from components.helm import HelmChart
from components.observability.monitoring import JOB_LABEL
from components.observability.queries import ModelSeries
from stacks import catalog
from stacks.config.common import StackBase
from stacks.config.models import ModelEntry
from stacks.config.oke import OkeStack
from stacks.placement import resource_suffix

if TYPE_CHECKING:
    from components.autoscaling.oke_cluster_autoscaler import OkeClusterAutoscaler
    from components.workloads.vllm import VllmServer
    from stacks.builders.observability import Monitoring
    from stacks.builders.platform import ServingPlatform


def deployment_replicas(m: ModelEntry) -> int | None:
    """A model Deployment's replica count: config's, or none when KEDA owns it."""
    return None if m.autoscaling.enabled else m.replicas


def node_bounds(pool) -> tuple[int, int] | None:
    return (pool.autoscale.min_nodes, pool.autoscale.max_nodes) if pool.autoscale is not None else None


def scale_replicas(
    cfg: StackBase, platform: ServingPlatform, servers: list[VllmServer], monitoring: Monitoring
) -> list[ReplicaScaler]:
    """A KEDA ScaledObject on each autoscaled model's Deployment (and KEDA itself when `keda.install`)."""
    scaled = [(i, m, s) for i, (m, s) in enumerate(zip(cfg.models, servers, strict=True)) if m.autoscaling.enabled]
    if not scaled:
        return []
    assert monitoring.prometheus_url is not None  # stacks/config/autoscaling.check_autoscaling
    depends: list[pulumi.Resource] = [*monitoring.ready]
    if cfg.keda.install:
        keda = KedaOperator(
            f"{cfg.name}-keda",
            KedaArgs(
                chart=HelmChart.from_row(catalog.KEDA_CHART),
                node_selector=platform.system_node_selector or None,
            ),
            opts=pulumi.ResourceOptions(provider=platform.provider),
        )
        depends.append(keda.release)
    return [_scaler(cfg, platform, i, m, server, monitoring, depends) for i, m, server in scaled]


def _scaler(
    cfg: StackBase,
    platform: ServingPlatform,
    index: int,
    m: ModelEntry,
    server: VllmServer,
    monitoring: Monitoring,
    depends: list[pulumi.Resource],
) -> ReplicaScaler:
    a = m.autoscaling
    series = ModelSeries(cfg.namespace, m.name)
    assert monitoring.prometheus_url is not None  # stacks/config/autoscaling.check_autoscaling
    # Scale to zero wakes on the door's traffic (stacks/config/autoscaling.check_autoscaling: one model,
    # the door scraped).
    wake = None
    if a.scale_to_zero:
        assert monitoring.front_door is not None  # check_autoscaling: scale to zero needs the door scraped
        wake = monitoring.front_door.wake(series)
    name = f"{cfg.name}-vllm-autoscaling" + ("" if index == 0 else f"-{resource_suffix(m.name)}")
    return ReplicaScaler(
        name,
        ScalerArgs(
            namespace=cfg.namespace,
            deployment=server.pod_labels[JOB_LABEL],  # the Deployment carries its name as instance label
            prometheus_url=monitoring.prometheus_url,
            waiting_query=series.waiting(),
            kv_cache_query=series.mean_kv_cache_usage(),
            min_replicas=a.min_replicas,
            max_replicas=a.max_replicas,
            waiting_per_replica=a.waiting_per_replica,
            kv_cache_usage=a.kv_cache_usage,
            polling_seconds=a.polling_seconds,
            cooldown_seconds=a.cooldown_seconds,
            scale_down_stabilization_seconds=a.scale_down_stabilization_seconds,
            wake_query=wake,
        ),
        opts=pulumi.ResourceOptions(provider=platform.provider, depends_on=[*depends, server]),
    )


def oke_node_autoscaler(
    cfg: OkeStack, cluster_id: pulumi.Input[str], pools: list[tuple[pulumi.Input[str], tuple[int, int] | None]]
) -> OkeClusterAutoscaler | None:
    """OKE's Cluster Autoscaler add-on for the autoscaled GPU pools (one add-on, each pool's bounds), and the
    grants it needs (exported)."""
    bounded = [(pool_id, bounds) for pool_id, bounds in pools if bounds is not None]
    if not bounded:
        return None
    # Imported here: it needs the OCI SDK, which a doks preview never loads (tests/test_preview_speed.py).
    from components.autoscaling.oke_cluster_autoscaler import (
        OkeClusterAutoscaler,
        OkeClusterAutoscalerArgs,
        PoolBounds,
        policy_statements,
    )

    scaler = OkeClusterAutoscaler(
        f"{cfg.name}-node-autoscaler",
        OkeClusterAutoscalerArgs(cluster_id=cluster_id, pools=[PoolBounds(i, lo, hi) for i, (lo, hi) in bounded]),
    )
    group = f"{cfg.name}-cluster-autoscaler"
    pulumi.export("clusterAutoscalerDynamicGroupRule", f"ALL {{instance.compartment.id = '{cfg.oke.compartment_id}'}}")
    pulumi.export("clusterAutoscalerPolicyStatements", policy_statements(group, cfg.oke.compartment_id))
    return scaler
