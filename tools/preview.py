"""Offline preview: run the real program under Pulumi's mock engine and show what `pulumi up` would do.

    python -m tools.preview --stack doks            # or --stack all
    python -m tools.preview --stack doks --config my-doks.yaml

Runs the policy pack (policy/) on the plan in-process; writes build/<stack>/plan.json and
build/<stack>/manifests/<kind>-<name>.yaml, validates every manifest against the real schemas, and
prints a summary. A config error, a malformed stack file or a mandatory policy violation prints one
line each, exits 1 and writes no plan.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from stacks.config.source import check_stack_config, parse_stack_file  # noqa: E402
from stacks.config.stack import headroom_lines  # noqa: E402
from stacks.errors import ConfigError  # noqa: E402
from tools import estimates, manifests, observability_summary, policy_check  # noqa: E402
from tools.engine import ProgramRun, ResourceRecord, config_map, lookup, run_program  # noqa: E402
from tools.mocks import CloudMocks  # noqa: E402


def project_name() -> str:
    return yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))


def load_stack_config(stack: str, config_file: Path | None = None) -> dict[str, Any]:
    """The `config:` mapping of the stack file; a malformed file raises a one-line ConfigError."""
    path = config_file or REPO / f"Pulumi.{stack}.yaml"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror})") from None
    return parse_stack_file(data, str(path) if config_file else path.name)


def run_main(raw_config: dict[str, Any], stack: str, secret_values: dict[str, str] | None = None,
             plaintext: dict[str, str] | None = None) -> ProgramRun:  # fmt: skip
    """Run __main__.py for `stack` with a `config:` mapping; `secret_values` adds secret keys;
    `plaintext` gives the value a `secure:` leaf stands for (`llm-serving:secrets.apiKey`), so the
    shape checks see it. A stack-file mistake is returned like the program's own ConfigError."""
    project = project_name()
    try:
        check_stack_config(raw_config, project)
    except ConfigError as exc:
        return ProgramRun(project=project, stack=stack, error=exc)
    values, secret_keys = config_map(project, raw_config, plaintext)
    for key, value in (secret_values or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        values[full] = value
        secret_keys.append(full)
    return run_program(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        project=project,
        stack=stack,
        config=values,
        secret_keys=secret_keys,
        mocks=CloudMocks(),
    )


# ------------------------------------------------------------------------------------------
# Summary
# ------------------------------------------------------------------------------------------

# What is worth showing for a resource, by type token suffix; paths into the wire-form inputs.
KEY_PROPERTIES: dict[str, list[str]] = {
    "Vpc": ["region", "ipRange"],
    "KubernetesCluster": ["region", "version", "ha", "clusterSubnet", "serviceSubnet", "nodePool.size",
                          "nodePool.minNodes", "nodePool.maxNodes"],
    "KubernetesNodePool": ["size", "nodeCount", "labels", "taints"],
    "Nfs": ["region", "size"],
    "Deployment": ["spec.replicas", "spec.template.spec.containers[0].image",
                   "spec.template.spec.containers[0].resources.limits"],
    "Service": ["spec.type", "spec.loadBalancerSourceRanges"],
    "PersistentVolume": ["spec.capacity.storage", "spec.nfs"],
    "Job": ["spec.template.spec.nodeSelector"],
    "Release": ["chart", "version", "repositoryOpts.repo"],
}  # fmt: skip
# The RDMA stack (oci-h100-rdma): what each RDMA worker mode and the Ray cluster amount to.
KEY_PROPERTIES.update({
    "InstanceConfiguration": ["instanceDetails.launchDetails.shape", "instanceDetails.launchDetails.sourceDetails.imageId"],
    "ClusterNetwork": ["instancePools[0].size", "placementConfiguration.availabilityDomain"],
    "ComputeCluster": ["availabilityDomain"],
    "Policy": ["statements"],
    "Bucket": ["name", "accessType", "versioning"],
    "RayCluster": ["spec.workerGroupSpecs[0].replicas", "spec.headGroupSpec.rayStartParams"],
})  # fmt: skip


def _describe(r: ResourceRecord) -> str:
    suffix = r.type.rsplit(":", 1)[-1]
    parts = []
    if r.type.startswith("kubernetes:") and isinstance(r.inputs.get("metadata"), dict):
        meta = r.inputs["metadata"]
        parts.append(f"{meta.get('namespace', '-')}/{meta.get('name')}")
    for path in KEY_PROPERTIES.get(suffix, []):
        value = lookup(r.inputs, path)
        if value not in (None, [], {}):
            parts.append(f"{path.rsplit('.', 1)[-1]}={json.dumps(value, separators=(',', ':'))}")
    return "  ".join(parts)


def summary(run: ProgramRun, extra_lines: list[str] | None = None) -> str:
    by_parent: dict[str | None, list[ResourceRecord]] = {}
    for r in run.resources:
        by_parent.setdefault(r.parent, []).append(r)
    lines = [f"Stack {run.project}/{run.stack} (offline preview: mock engine, nothing was deployed)", ""]

    def walk(urn: str | None, depth: int) -> None:
        # Siblings by name, not in the order their inputs happened to resolve: one config, one summary.
        for r in sorted(by_parent.get(urn, []), key=lambda r: (r.name, r.type)):
            marker = "+" if r.custom else "#"
            detail = _describe(r)
            lines.append(f"{'  ' * depth}{marker} {r.type}  {r.name}" + (f"   {detail}" if detail else ""))
            walk(r.urn, depth + 1)

    walk(None, 0)
    counts = Counter(r.type for r in run.registered())
    custom = sum(1 for r in run.registered() if r.custom)
    lines += ["", f"Resources: {custom} to create, {len(run.registered()) - custom} components"]
    lines += [f"  {n:3d}  {t}" for t, n in sorted(counts.items())]
    lines += ["", "Outputs:"]
    for key, value in sorted(run.outputs.items()):
        shown = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"  {key}: {shown if len(shown) < 160 else shown[:157] + '...'}")
    lines += estimates.summary_lines(run)
    lines += extra_lines or []
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------


def preview(stack: str, out: Path, config_file: Path | None, plaintext: dict[str, str] | None = None) -> int:
    target = out / stack
    shutil.rmtree(target, ignore_errors=True)
    try:
        raw_config = load_stack_config(stack, config_file)
    except ConfigError as exc:
        print(f"error: stack {stack}: {exc}", file=sys.stderr)
        return 1
    run = run_main(raw_config, stack, plaintext=plaintext)
    if isinstance(run.error, ConfigError):
        print(f"error: stack {stack}: {run.error}", file=sys.stderr)
        return 1
    if run.error is not None:
        print(f"error: stack {stack}: the program failed (this is a bug):", file=sys.stderr)
        traceback.print_exception(run.error, file=sys.stderr)
        return 2

    violations = policy_check.check(run)
    mandatory = [v for v in violations if v.mandatory]
    if mandatory:  # what `pulumi preview --policy-pack policy` would refuse: no plan
        for v in mandatory:
            print(f"error: stack {stack}: {v.line()}", file=sys.stderr)
        return 1

    objects = manifests.kubernetes_objects(run)
    problems = {manifests.file_name(o): manifests.validate(o) for o in objects}
    invalid = {name: p for name, p in problems.items() if p}
    (target / "manifests").mkdir(parents=True, exist_ok=True)
    (target / "plan.json").write_text(json.dumps(run.to_plan(), indent=2, sort_keys=False) + "\n")
    manifests.write(objects, target / "manifests")

    extra = ["", f"Kubernetes objects: {len(objects)} written to {target / 'manifests'}, "
                 f"{len(objects) - len(invalid)} schema-valid (Kubernetes {manifests.KUBERNETES_VERSION}, strict)"]  # fmt: skip
    for name, issues in invalid.items():
        extra += [f"  INVALID {name}: {issue}" for issue in issues]
    extra.append(
        f"Policy pack: {len(policy_check.policies.POLICIES)} policies, no mandatory violation"
        + (f", {len(violations)} advisory:" if violations else "")
    )
    extra += [f"  advisory {v.line()}" for v in violations]
    extra.append(f"Plan: {target / 'plan.json'}")
    extra += headroom_lines(raw_config)  # the models' GPU headroom (stacks/capacity.py)
    extra += observability_summary.summary_lines(run)  # scrape targets, alerts, scaling bounds
    print(summary(run, extra))
    print()
    return 1 if invalid else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="all", help=f"one of {', '.join(stack_names())}, or all")
    parser.add_argument("--config", type=Path, help="a file like Pulumi.<stack>.yaml to use instead of it")
    parser.add_argument("--out", type=Path, default=REPO / "build")
    parser.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="KEY=ENV",
        help="offline stand-in for a secure: value: the plaintext of KEY (e.g. secrets.apiKey) is read from "
        "environment variable ENV, so the secret's shape is checked (default: a well-formed placeholder)",
    )
    args = parser.parse_args(argv)
    plaintext: dict[str, str] = {}
    for item in args.secret_env:
        key, sep, env = item.partition("=")
        if not sep or env not in os.environ:
            print(f"error: --secret-env {key}: give KEY=ENV with ENV set in the environment", file=sys.stderr)
            return 1
        plaintext[key if ":" in key else f"{project_name()}:{key}"] = os.environ[env]
    stacks = stack_names() if args.stack == "all" else [args.stack]
    unknown = [s for s in stacks if s not in stack_names() and args.config is None]
    if unknown:
        print(f"error: unknown stack {unknown[0]!r}; stacks: {', '.join(stack_names())}", file=sys.stderr)
        return 1
    if args.config is not None and len(stacks) != 1:
        print("error: --config needs a single --stack", file=sys.stderr)
        return 1
    worst = 0
    for stack in stacks:
        worst = max(worst, preview(stack, args.out, args.config, plaintext))
    return worst


def hard_exit(code: int) -> NoReturn:
    """Exit without tearing the interpreter down: freeing the provider SDKs' hundreds of thousands of objects took
    ~0.9 s of each `make preview` after its last line was printed. mypy exits the same way for the same
    reason (python/mypy mypy/main.py, `fast_exit` -> mypy/util.py `hard_exit`). Everything is written by
    then (files closed, output flushed here), and nothing the preview imports registers atexit work."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    hard_exit(main())
