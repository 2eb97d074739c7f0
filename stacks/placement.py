"""Which models run on which GPU pool, and whether each pool's nodes hold them all.

Pure: no config import. The config tree turns its `models:` list and its platform's GPU pools into
`Pool` and `Demand` values; this module answers "does it fit?" with one line naming the model and the
pool, and gives the preview its per-pool fit line.

Scheduling rules it follows (the pod specs of components/workloads/vllm.py):
- a single-node replica takes TP x PP GPUs (`nvidia.com/gpu` requests) of one node;
- replicas of one model never share a node (hard pod anti-affinity on the model's own labels);
- replicas of different models may share a node when its GPUs suffice (no anti-affinity between them);
- a replica on Ray spans whole nodes (every GPU of `nodes_per_replica` nodes).

The packing is best-fit decreasing (the biggest replicas first, each on the fullest node that still has
room): a heuristic, as the scheduler's own placement is; a plan it finds no room for would most likely
leave pods Pending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Demand", "Pool", "check_pool", "fit_line", "pack", "resource_suffix"]


@dataclass(frozen=True)
class Pool:
    """One GPU pool as the platform config describes it."""

    name: str
    key: str
    """Its config key, for messages (`doks.gpuPool`, `oke.gpuPools[1]`)."""
    shape: str
    gpus_per_node: int
    nodes: int
    nodes_key: str = ""
    """The key of its node count (`doks.gpuPool.nodeCount`); empty: `key`."""

    @property
    def label(self) -> str:
        return f"{self.nodes} x {self.shape} ({self.gpus_per_node} GPU(s) per node)"


@dataclass(frozen=True)
class Demand:
    """What one model asks of its pool."""

    model: str
    """The served model name (what clients send as `model`)."""
    key: str
    """Its config key (`models[1]`)."""
    replicas: int
    gpus_per_replica: int
    """TP x PP of one replica."""
    nodes_per_replica: int = 0
    """0: a single-node replica (one per node); N > 0: a Ray replica over N whole nodes."""

    @property
    def gpus(self) -> int:
        return self.replicas * self.gpus_per_replica


def pack(pool: Pool, demands: list[Demand]) -> dict[str, list[int]] | None:
    """Node indexes each model's replicas land on, or None when the pool has no room for them all."""
    free = [pool.gpus_per_node] * pool.nodes
    placed: dict[str, list[int]] = {}
    # Whole-node (Ray) replicas first, then the biggest single-node replicas; ties keep config order.
    order = sorted(demands, key=lambda d: (d.nodes_per_replica == 0, -d.gpus_per_replica))
    for demand in order:
        nodes: list[int] = []
        for _ in range(demand.replicas):
            if demand.nodes_per_replica:
                empty = [i for i, f in enumerate(free) if f == pool.gpus_per_node][: demand.nodes_per_replica]
                if len(empty) < demand.nodes_per_replica:
                    return None
                for i in empty:
                    free[i] = 0
                nodes += empty
                continue
            candidates = [i for i, f in enumerate(free) if f >= demand.gpus_per_replica and i not in nodes]
            if not candidates:
                return None
            best = min(candidates, key=lambda i: (free[i], i))
            free[best] -= demand.gpus_per_replica
            nodes.append(best)
        placed[demand.key] = nodes
    return placed


def check_pool(pool: Pool, demands: list[Demand]) -> None:
    """Raise ValueError("<key>: <one line naming the model and the pool>") when the pool cannot hold its models."""
    for d in demands:
        if d.nodes_per_replica:
            if d.nodes_per_replica * d.replicas > pool.nodes:
                raise ValueError(
                    f"{d.key}.replicas: model {d.model} on pool {pool.name} needs {d.replicas} x {d.nodes_per_replica} "
                    f"whole node(s) but {pool.nodes_key or pool.key} is {pool.nodes}"
                )
            continue
        if d.gpus_per_replica > pool.gpus_per_node:
            raise ValueError(
                f"{d.key}.tensorParallelSize: model {d.model} needs {d.gpus_per_replica} GPUs per replica but pool "
                f"{pool.name} ({pool.shape}) has {pool.gpus_per_node} GPU(s) per node; tensor parallelism stays within "
                "one node"
            )
        if d.replicas > pool.nodes:
            raise ValueError(
                f"{d.key}.replicas: model {d.model} asks for {d.replicas} replicas, one per node (hard anti-affinity), "
                f"but pool {pool.name} has {pool.nodes} node(s): {pool.nodes_key or pool.key} is {pool.nodes}"
            )
    if pack(pool, demands) is not None:
        return
    total = sum(d.gpus for d in demands)
    last = demands[-1]  # the model whose addition broke the fit, in config order
    for i in range(1, len(demands) + 1):
        if pack(pool, demands[:i]) is None:
            last = demands[i - 1]
            break
    others = ", ".join(f"{d.model} {d.replicas}x{d.gpus_per_replica}" for d in demands if d is not last)
    raise ValueError(
        f"{last.key}.replicas: model {last.model} ({last.replicas} replica(s) x {last.gpus_per_replica} GPU(s)) does "
        f"not fit pool {pool.name} next to {others or 'nothing'}: together {total} GPUs, on {pool.label} with "
        f"one replica of a model per node; add nodes to {pool.nodes_key or pool.key} or move a model to another pool"
    )


def fit_line(pool: Pool, demands: list[Demand]) -> str:
    """One line for the preview: what the pool's models take of it."""
    used = sum(
        d.nodes_per_replica * d.replicas * pool.gpus_per_node if d.nodes_per_replica else d.gpus for d in demands
    )
    models = ", ".join(
        f"{d.model} {d.replicas} x {d.nodes_per_replica} node(s)"
        if d.nodes_per_replica
        else f"{d.model} {d.replicas} x {d.gpus_per_replica} GPU(s)"
        for d in demands
    )
    verdict = "fits" if pack(pool, demands) is not None else "DOES NOT FIT"
    return (
        f"Pool {pool.name}: {pool.label}: {models or 'no models'} = {used} of "
        f"{pool.nodes * pool.gpus_per_node} GPUs ({verdict})"
    )


def resource_suffix(served_name: str) -> str:
    """A DNS-label form of a served model name, for the names of a model's own resources."""
    slug = re.sub(r"[^a-z0-9]+", "-", served_name.lower()).strip("-")
    return slug[:40].rstrip("-") or "model"
