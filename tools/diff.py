"""Offline day-2 plan: what changing a stack's config would do to the running stack.

    python -m tools.diff --stack doks --config new-doks.yaml      (make diff STACK=doks CONFIG=new-doks.yaml)

Runs the program (Pulumi's mock engine, like tools.preview) for the stack's committed config and for
the new one, matches resources by URN and prints a plan:

    + create    only in the new run
    - delete    only in the committed run
    ~ update    same URN, inputs changed in place (the changed input paths are listed)
    +- replace  same URN and an input changed that the provider cannot update in place
                (tools/force_new.py, cited per provider), or a resource renamed under the same parent

Nothing is deployed and no cloud is asked: the committed config stands in for the running stack.
Exit code 0 when nothing stateful is replaced or deleted, 3 when something in STATEFUL is, or when an
update would change a field the Kubernetes API server keeps immutable (tools/k8s_semantics).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from stacks.errors import ConfigError  # noqa: E402
from tools import force_new, k8s_semantics  # noqa: E402
from tools.engine import ProgramRun, ResourceRecord  # noqa: E402
from tools.preview import load_stack_config, run_main, stack_names  # noqa: E402

CREATE, DELETE, UPDATE, REPLACE = "create", "delete", "update", "replace"
SYMBOL = {CREATE: "+", DELETE: "-", UPDATE: "~", REPLACE: "+-"}

# What a routine change must never replace or delete: clusters, networks, node pools, the stores
# holding weights and the claims/volumes that mount them.
STATEFUL_SUFFIXES = (
    ":KubernetesCluster", ":KubernetesNodePool", ":Vpc", ":Nfs",  # DigitalOcean
    "ContainerEngine/cluster:Cluster", "ContainerEngine/nodePool:NodePool", ":Vcn", ":Subnet",
    ":FileSystem", ":MountTarget", ":Export", ":Bucket", ":ClusterNetwork", ":ComputeCluster",  # OCI
    ":PersistentVolume", ":PersistentVolumeClaim",  # Kubernetes
    # OCI Data Science: the invoke URL carries the deployment's OCID; its project holds it.
    "DataScience/modelDeployment:ModelDeployment", "DataScience/project:Project",
)  # fmt: skip


def stateful(type_token: str) -> bool:
    return type_token.endswith(STATEFUL_SUFFIXES)


@dataclass(frozen=True)
class Change:
    op: str
    urn: str
    type: str
    name: str
    paths: tuple[str, ...] = ()  # changed input paths (update/replace)
    replace_because: tuple[str, ...] = ()  # the paths that force the replacement, or "renamed from X"
    notes: tuple[str, ...] = field(default=())
    shown: tuple[str, ...] = ()  # `path: old -> new` per changed path, for the printed plan
    # In-place updates the Kubernetes API server refuses (immutable fields, tools/k8s_semantics) that
    # pulumi-kubernetes would not replace on its own: `pulumi up` would fail on them.
    rejected: tuple[str, ...] = ()

    @property
    def stateful(self) -> bool:
        return stateful(self.type)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) for every leaf of a wire-form input tree; empty containers are leaves."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":")) if value is not ... else "(none)"
    return text if len(text) <= 60 else text[:57] + "..."


def shown_change(old: ResourceRecord, new: ResourceRecord, path: str) -> str:
    """`path: old -> new` for a changed input (secrets stay masked: both sides read [secret])."""
    before, after = dict(leaves(old.inputs)), dict(leaves(new.inputs))
    if path in old.secret_digests or path in new.secret_digests:
        return f"{path}: [secret changed]"
    if path not in before and path not in after:
        return path
    return f"{path}: {_short(before.get(path, ...))} -> {_short(after.get(path, ...))}"


def changed_paths(old: ResourceRecord, new: ResourceRecord) -> list[str]:
    """Input paths whose value differs, including secrets (compared by fingerprint)."""
    before, after = dict(leaves(old.inputs)), dict(leaves(new.inputs))
    paths = {p for p in before.keys() | after.keys() if before.get(p, ...) != after.get(p, ...)}
    paths |= {
        p
        for p in old.secret_digests.keys() | new.secret_digests.keys()
        if old.secret_digests.get(p) != new.secret_digests.get(p)
    }
    # `ignoreChanges`: the engine keeps the old value for these paths, so they never reach the provider.
    return sorted(p for p in paths if not any(force_new.covers(i, p) for i in new.ignore_changes))


def _parent_and_type(r: ResourceRecord) -> tuple[str | None, str]:
    return r.parent, r.type


def plan(old: ProgramRun, new: ProgramRun) -> list[Change]:
    """The changes that take `old`'s resources to `new`'s, in `new`'s registration order."""
    before = {r.urn: r for r in old.registered()}
    after = {r.urn: r for r in new.registered()}
    changes: list[Change] = []
    for urn, r in after.items():
        if urn not in before:
            continue
        paths = changed_paths(before[urn], r)
        if not paths:
            continue
        forcing = tuple(p for p in paths if force_new.forces_replacement(r.type, p))
        notes = () if force_new.table(r.type) is not None else (f"no force-new table for {r.type}",)
        shown = tuple(shown_change(before[urn], r, p) for p in paths)
        rejected = ()
        if r.type.startswith("kubernetes:") and not forcing:
            rejected = tuple(str(c) for c in k8s_semantics.immutable_changes([before[urn].inputs], [r.inputs]))
        op = REPLACE if forcing else UPDATE
        changes.append(Change(op, urn, r.type, r.name, tuple(paths), forcing, notes, shown, rejected))

    # A resource renamed under the same parent (only one of its type gone, one new) is a replacement
    # of that object: Pulumi creates the new one and deletes the old, with nothing carried over.
    created = [r for urn, r in after.items() if urn not in before and r.custom]
    deleted = [r for urn, r in before.items() if urn not in after and r.custom]
    by_slot: dict[tuple[str | None, str], tuple[list[ResourceRecord], list[ResourceRecord]]] = {}
    for r in created:
        by_slot.setdefault(_parent_and_type(r), ([], []))[0].append(r)
    for r in deleted:
        by_slot.setdefault(_parent_and_type(r), ([], []))[1].append(r)
    for (_, type_token), (news, olds) in by_slot.items():
        if len(news) == 1 and len(olds) == 1:
            n, o = news[0], olds[0]
            changes.append(Change(REPLACE, n.urn, type_token, n.name, tuple(changed_paths(o, n)),
                                  (f"renamed from {o.name}",)))  # fmt: skip
            continue
        changes += [Change(CREATE, r.urn, r.type, r.name) for r in news]
        changes += [Change(DELETE, r.urn, r.type, r.name) for r in olds]

    replaced = {c.urn for c in changes if c.op == REPLACE}
    for i, c in enumerate(changes):
        deps = [d for d in after.get(c.urn, before.get(c.urn)).dependencies if d in replaced]  # type: ignore[union-attr]
        if deps and c.op in (UPDATE, REPLACE):
            changes[i] = dataclasses.replace(
                c, notes=(*c.notes, "depends on a replaced resource: its new ID may change inputs")
            )
    order = {urn: i for i, urn in enumerate([*after, *before])}
    return sorted(changes, key=lambda c: order.get(c.urn, 0))


def render(changes: list[Change], stack: str) -> str:
    lines = [f"Stack {stack}: offline day-2 plan (mock engine; nothing was deployed or read from a cloud)", ""]
    if not changes:
        lines.append("No changes.")
    for c in changes:
        lines.append(f"{SYMBOL[c.op]:>2} {c.op:<7} {c.type}  {c.name}" + ("   [stateful]" if c.stateful else ""))
        if c.op == REPLACE:
            lines.append(f"      replaced because: {', '.join(c.replace_because)}")
        if c.op in (UPDATE, REPLACE) and c.paths:
            detail = c.shown or c.paths
            shown = list(detail[:12]) + ([f"... {len(detail) - 12} more"] if len(detail) > 12 else [])
            lines += [f"      ~ {p}" for p in shown]
        lines += [f"      note: {n}" for n in c.notes]
        lines += [f"      ! the API server rejects this update: {r}" for r in c.rejected]
    counts = {op: sum(1 for c in changes if c.op == op) for op in SYMBOL}
    lines += ["", "Plan: " + ", ".join(f"{n} to {op}" for op, n in counts.items())]
    risky = [c for c in changes if c.stateful and c.op in (DELETE, REPLACE)]
    if risky:
        lines.append("WARNING: stateful resources would be replaced or deleted: " + ", ".join(c.name for c in risky))
    if any(c.rejected for c in changes):
        lines.append("WARNING: `pulumi up` would fail on updates the API server rejects (see ! above)")
    return "\n".join(lines)


def blocking(changes: list[Change]) -> bool:
    """Whether the plan replaces or deletes something stateful, or would fail at the API server."""
    return any((c.stateful and c.op in (DELETE, REPLACE)) or c.rejected for c in changes)


def diff_configs(stack: str, old_config: dict[str, Any], new_config: dict[str, Any]) -> list[Change]:
    """The plan between two `config:` mappings of `stack` (ConfigError from either run propagates)."""
    runs = []
    for config in (old_config, new_config):
        run = run_main(config, stack)
        if run.error is not None:
            raise run.error
        runs.append(run)
    return plan(*runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help=f"one of {', '.join(stack_names())}")
    parser.add_argument("--config", type=Path, required=True, help="the new Pulumi.<stack>.yaml-like file")
    args = parser.parse_args(argv)
    if args.stack not in stack_names():
        print(f"error: unknown stack {args.stack!r}; stacks: {', '.join(stack_names())}", file=sys.stderr)
        return 1
    if not args.config.is_file():
        print(f"error: CONFIG={args.config} is not a file", file=sys.stderr)
        return 1
    try:
        changes = diff_configs(args.stack, load_stack_config(args.stack), load_stack_config(args.stack, args.config))
    except ConfigError as error:
        print(f"error: stack {args.stack}: {error}", file=sys.stderr)
        return 1
    print(render(changes, args.stack))
    return 3 if blocking(changes) else 0


if __name__ == "__main__":
    sys.exit(main())
