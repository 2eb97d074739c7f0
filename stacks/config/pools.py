"""Several GPU pools per stack: a platform section lists them as `gpuPools` (each with a `name`), or
keeps the one-pool shorthand (`gpuPool` / `existing.gpuNodes`), which is the pool named `gpu`.

The shorthand keeps a one-pool stack's resources as they were (the pool `gpu` keeps its resource
names and node label); a stack that grows a second pool lists both under `gpuPools`, the first one
named `gpu` to keep it in place.
"""

from __future__ import annotations

from typing import TypeVar

from stacks.placement import Pool

DEFAULT_POOL = "gpu"

P = TypeVar("P")


def named_pools(
    single: P, single_key: str, many: list[tuple[str, P]], many_key: str, single_given: bool
) -> list[tuple[str, str, P]]:
    """(name, config key, pool) of every GPU pool a section declares (`many`: (name, pool) pairs); ValueError
    when both forms are given or two pools share a name."""
    if many and single_given:
        raise ValueError(
            f"{many_key}: give either {single_key} (one pool) or {many_key} (several, each with a name), not both"
        )
    if not many:
        return [(DEFAULT_POOL, single_key, single)]
    seen: set[str] = set()
    found = []
    for i, (name, pool) in enumerate(many):
        if name in seen:
            raise ValueError(f"{many_key}[{i}].name: {name!r} names another pool too; pool names are unique")
        seen.add(name)
        found.append((name, f"{many_key}[{i}]", pool))
    return found


def pool_named(pools: list[Pool], name: str | None) -> Pool:
    """The pool a model runs on: the one named, else the pool `gpu` (or the stack's only pool)."""
    wanted = name or DEFAULT_POOL
    return next((p for p in pools if p.name == wanted), pools[0])


def pool_resource_name(stack_name: str, pool: str) -> str:
    """Cloud resource name of a GPU pool: `<stack>-gpu` for the pool `gpu` (the name a one-pool stack
    always had), `<stack>-gpu-<pool>` for the others."""
    return f"{stack_name}-gpu" if pool == DEFAULT_POOL else f"{stack_name}-gpu-{pool}"
