"""A DOKS GPU node pool: tainted so only GPU workloads land there, labelled so they can select it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.conventions import GPU_TAINT_KEY
from components.doks import sdk as do
from components.doks.cluster import DoksCluster


@dataclass(frozen=True)
class DoksGpuNodePoolArgs:
    cluster: DoksCluster
    size: str
    node_count: int
    labels: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    autoscale: tuple[int, int] | None = None
    """(min, max) nodes for DOKS's cluster autoscaler (`auto_scale`; "Minimum Nodes ... must be greater than
    or equal to 0", https://docs.digitalocean.com/products/kubernetes/how-to/autoscale/). node_count is then
    not sent: the pool starts at min (pool_size_args)."""


def pool_size_args(node_count: int, bounds: tuple[int, int] | None) -> dict[str, Any]:
    """The pool's size inputs: a fixed `node_count`, or the autoscaler's bounds and no node count at all.

    terraform-provider-digitalocean (v2.99.1 digitalocean/kubernetes/resource_kubernetes_node_pool.go,
    resourceDigitalOceanKubernetesNodePoolUpdate) sends `node_count` on every update of the pool whenever it
    is set, whatever changed, and with auto_scale the API resizes the pool to it ("this should only be set if
    the desired result is to explicitly reset the number of nodes to this value",
    docs/resources/kubernetes_node_pool.md; its acceptance test "Update node count, keep auto-scaling").
    ignore_changes would not help: Pulumi then sends the value in its state, stale unless refreshed
    (pulumi/docs content/docs/iac/concepts/options/ignorechanges.md). Without it the pool is created at
    min_nodes ("If auto-scaling is enabled, and the node count is outside of the given min/max range, it will
    use the min nodes value"; the Create request's count is omitempty, godo kubernetes.go), as the provider's
    own autoscaling example and this stack's system pool (components/doks/cluster.py) are."""
    if bounds is None:
        return {"node_count": node_count}
    return {"auto_scale": True, "min_nodes": bounds[0], "max_nodes": bounds[1]}


class DoksGpuNodePool(pulumi.ComponentResource):
    pool_id: pulumi.Output[str]
    pool_name: pulumi.Output[str]
    labels: dict[str, str]
    taint_key: str

    def __init__(self, name: str, args: DoksGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:doks:GpuNodePool", name, None, opts)
        pool = do.KubernetesNodePool(
            f"{name}-pool",
            name=name,
            cluster_id=args.cluster.cluster_id,
            size=args.size,
            labels=args.labels,
            # DOKS sets this taint itself (components/conventions.py); declaring it keeps the intent explicit.
            taints=[do.KubernetesNodePoolTaintArgs(key=GPU_TAINT_KEY, value="", effect="NoSchedule")],
            tags=args.tags,
            # An autoscaled pool's size is the autoscaler's: no node count a later `pulumi up` would reset.
            **pool_size_args(args.node_count, args.autoscale),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pool_id = pool.id
        self.pool_name = pool.name
        self.labels = dict(args.labels)
        self.taint_key = GPU_TAINT_KEY
        self.register_outputs({"poolId": self.pool_id, "poolName": self.pool_name})
