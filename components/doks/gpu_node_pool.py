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
    only the first size: the autoscaler owns it afterwards."""


def autoscale_args(bounds: tuple[int, int] | None) -> dict[str, Any]:
    if bounds is None:
        return {}
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
            node_count=args.node_count,
            labels=args.labels,
            # DOKS sets this taint itself (components/conventions.py); declaring it keeps the intent explicit.
            taints=[do.KubernetesNodePoolTaintArgs(key=GPU_TAINT_KEY, value="", effect="NoSchedule")],
            tags=args.tags,
            **autoscale_args(args.autoscale),
            # An autoscaled pool's size is the autoscaler's: a later `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["nodeCount"] if args.autoscale else None),
        )
        self.pool_id = pool.id
        self.pool_name = pool.name
        self.labels = dict(args.labels)
        self.taint_key = GPU_TAINT_KEY
        self.register_outputs({"poolId": self.pool_id, "poolName": self.pool_name})
