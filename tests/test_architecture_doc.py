"""docs/architecture.md keeps up with the stacks: one Mermaid diagram per stack, the component map
names every component type the code registers, and the workflows it describes exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness import STACKS, default_run

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "architecture.md"
DOCUMENTED_STACKS = ["doks", "oci-a10", "oci-h100-rdma", "existing-cluster", "oci-data-science"]


def text() -> str:
    return DOC.read_text()


def section(stack: str) -> str:
    match = re.search(rf"^### `{re.escape(stack)}`.*?(?=^### |^## )", text(), re.M | re.S)
    assert match, f"no '### `{stack}`' section in {DOC.name}"
    return match.group(0)


@pytest.mark.parametrize("stack", [s for s in DOCUMENTED_STACKS if s in STACKS])
def test_each_stack_has_a_mermaid_architecture_diagram(stack: str):
    body = section(stack)
    assert "```mermaid" in body and "flowchart" in body


@pytest.mark.parametrize("stack", [s for s in DOCUMENTED_STACKS if s in STACKS])
def test_component_map_names_every_component_type_of_the_stack(stack: str):
    components = {r.type for r in default_run(stack).registered() if not r.custom}
    missing = sorted(t for t in components if f"(`{t}`)" not in text())
    assert not missing, f"component map lacks {missing}"


def test_workflows_described_exist():
    for name in re.findall(r"\.github/workflows/([\w-]+\.yml)", text()):
        assert (REPO / ".github" / "workflows" / name).is_file(), name


def test_troubleshooting_cites_the_upstream_issues():
    body = text().split("## Troubleshooting", 1)[1]
    for ref in ("production-stack#276", "oci-hpc-oke#6", "kserve/kserve#5062", "aibrix#909", "kz8s/tack#73"):
        assert ref in body, ref


def _definitions() -> tuple[set[str], dict[str, set[str]]]:
    """Every function, class and assigned name in the program's packages, and each class's members."""
    import ast

    names: set[str] = set()
    members: dict[str, set[str]] = {}
    for package in ("stacks", "components", "tools", "policy"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                if isinstance(node, ast.ClassDef):
                    own = members.setdefault(node.name, set())
                    for item in node.body:
                        if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
                            own.add(item.name)
                        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                            own.add(item.target.id)
                elif isinstance(node, ast.Assign):
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names, members


def test_the_walk_from_yaml_to_the_manifest_names_files_and_functions_that_exist():
    walk = text().split("## One value from YAML to the manifest", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"`([^`]+)`", walk)
    files = [s for s in spans if re.fullmatch(r"[\w./-]+\.(py|yaml)", s)]
    assert len(files) >= 10 and [f for f in files if not (REPO / f).is_file()] == []
    names, members = _definitions()
    missing = []
    for span in spans:
        # `name()`, `Class.member()`, `Class(field=...)`, `Class.field`, `CONSTANT`, `Class`
        match = re.fullmatch(r"([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?:\(.*\))?", span)
        if match is None or not ("(" in span or span[0].isupper()):
            continue  # a config key (`ray.pipelineParallelSize`), a flag, a value
        owner, member = match.groups()
        if owner not in names or (member is not None and member not in members.get(owner, set())):
            missing.append(span)
    assert missing == [], f"docs/architecture.md's walk names what the code does not define: {missing}"
