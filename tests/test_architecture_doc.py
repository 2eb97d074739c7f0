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
