"""How the components are written, checked on their source (ast, no engine): one way to install a Helm
chart, ordering through `depends_on`, functions a reader can hold, comments about the product."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from functools import cache
from pathlib import Path

from components.helm import HelmChart
from components.oke import OkeClusterArgs, OkeNodePoolArgs
from components.oke.rdma.args import OkeRdmaWorkersArgs
from stacks import catalog
from tests.harness import all_of, default_run

REPO = Path(__file__).resolve().parent.parent
PROGRAM = ("components", "stacks", "tools", "policy")


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse((REPO / path).read_text(), str(path))


def _trees(*packages: str) -> dict[Path, ast.Module]:
    paths = [p.relative_to(REPO) for package in packages for p in sorted((REPO / package).rglob("*.py"))]
    return {path: _tree(path) for path in paths}


def _dotted(node: ast.expr) -> str:
    """`a.b.c` of an attribute chain ("" for anything else)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def test_helm_charts_are_installed_only_through_the_helm_helper():
    releases = [
        str(path)
        for path, tree in _trees("components", "stacks").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _dotted(node.func).endswith("helm.v3.Release")
    ]
    assert releases == ["components/helm.py"]


def test_every_release_in_the_previews_is_a_catalog_pin():
    pins = {
        HelmChart.from_row(row)
        for row in (
            catalog.KUBERAY_CHART,
            catalog.GPU_OPERATOR_CHART,
            catalog.KEDA_CHART,
            catalog.KUBE_PROMETHEUS_STACK_CHART,
        )
    }
    releases = [
        r
        for stack in ("doks", "existing-cluster", "oci-h100-rdma")
        for r in all_of(default_run(stack), "helm.sh/v3:Release")
    ]
    assert releases
    for release in releases:
        chart = HelmChart(release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]["repo"])
        assert chart in pins, release.name


def test_no_output_is_combined_only_to_order_resources():
    """`Output.all(x, other.id).apply(lambda v: v[0])` passes x on and hides an ordering in a value:
    `depends_on` says it."""
    found = []
    for path, tree in _trees(*PROGRAM).items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "apply"):
                continue
            combined = node.func.value
            if not (isinstance(combined, ast.Call) and _dotted(combined.func).endswith("Output.all")):
                continue
            fn = node.args[0] if node.args else None
            if (
                isinstance(fn, ast.Lambda)
                and isinstance(fn.body, ast.Subscript)
                and isinstance(fn.body.value, ast.Name)
                and isinstance(fn.body.slice, ast.Constant)
            ):
                found.append(f"{path}:{node.lineno}")
    assert not found


LONG = 80
WHY_LONG = "# Over 80 lines:"
"""The comment a longer function carries to say why it stays whole."""


def test_component_functions_are_short_or_say_why_not():
    too_long = []
    for path, tree in _trees("components").items():
        lines = (REPO / path).read_text().splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                body = lines[node.lineno - 1 : node.end_lineno]
                if len(body) > LONG and not any(line.strip().startswith(WHY_LONG) for line in body):
                    too_long.append(f"{path}:{node.lineno} {node.name} ({len(body)} lines)")
    assert not too_long


def test_comments_speak_of_the_product_not_of_its_history():
    """Cite an upstream repo/path or a doc page, never "seed 3" or "issue 6" of this project."""
    history = re.compile(r"(?<![/\w])(seed|issue)\s*#?\d+", re.IGNORECASE)
    found = [
        f"{path}:{i}"
        for path in _trees(*PROGRAM)
        for i, line in enumerate((REPO / path).read_text().splitlines(), 1)
        if history.search(line)
    ]
    assert not found


def test_oke_components_take_the_network_and_the_cluster_not_their_ids():
    """Like pulumi-eks's `ManagedNodeGroupArgs(cluster=...)`: an OKE cluster or pool is given the network
    (and the cluster) it joins, so its subnets, NSGs, CNI and compartment cannot disagree with them."""
    network_ids = {"compartment_id", "vcn_id", "api_subnet_id", "api_nsg_ids", "service_lb_subnet_ids", "cni_type",
                   "cluster_id", "subnet_id", "pod_subnet_ids", "nsg_ids", "api_public"}  # fmt: skip
    for args in (OkeClusterArgs, OkeNodePoolArgs, OkeRdmaWorkersArgs):
        names = {f.name for f in fields(args)}
        assert "network" in names, args.__name__
        assert not names & network_ids, (args.__name__, names & network_ids)
