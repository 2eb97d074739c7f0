"""The refactoring guard: a saved preview compares equal to itself and shows exactly what changed."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from tests.harness import STACKS, default_run
from tools import manifests, observability_summary, policy_check, preview, snapshot
from tools.engine import ProgramRun, ResourceRecord


def _record(urn: str, deps: list[str]) -> ResourceRecord:
    return ResourceRecord(urn=urn, type="t", name=urn, custom=True, parent=None, provider=None, inputs={},
                          dependencies=deps)  # fmt: skip


def test_the_plan_file_does_not_depend_on_the_order_resources_resolved_in():
    a, b = _record("urn:b", ["urn:z", "urn:a"]), _record("urn:a", [])
    first = ProgramRun(project="p", stack="s", resources=[a, b]).to_plan()
    second = ProgramRun(project="p", stack="s", resources=[b, a]).to_plan()
    assert first == second
    assert [r["urn"] for r in first["resources"]] == ["urn:a", "urn:b"]
    assert first["resources"][1]["dependencies"] == ["urn:a", "urn:z"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_summary_and_manifests_do_not_depend_on_the_order_resources_resolved_in(stack: str):
    # The engine records resources as their inputs resolve, from a thread pool: two runs of one config
    # can record them in another order (a `make compare-snapshot` showed two download Jobs swapped).
    run = default_run(stack)

    def rendered(r: ProgramRun) -> tuple[str, list[str], list[str]]:
        checks = [v.line() for v in policy_check.check(r)]
        objects = [manifests.file_name(o) for o in manifests.kubernetes_objects(r)]
        return preview.summary(r, observability_summary.summary_lines(r)), checks, objects

    expected = rendered(run)
    for order in (run.resources[::-1], random.Random(stack).sample(run.resources, len(run.resources))):
        assert rendered(dataclasses.replace(run, resources=order)) == expected


def test_a_changed_added_or_removed_file_is_reported(tmp_path: Path):
    before, after = tmp_path / "before", tmp_path / "after"
    for root in (before, after):
        (root / "doks").mkdir(parents=True)
        (root / "doks" / "plan.json").write_text('{"a": 1}\n')
    assert snapshot.differences(before, after) == []
    (after / "doks" / "plan.json").write_text('{"a": 2}\n')
    (after / "doks" / "new.yaml").write_text("x: 1\n")
    (before / "doks" / "gone.yaml").write_text("y: 1\n")
    lines = snapshot.differences(before, after)
    assert "only before: doks/gone.yaml" in lines
    assert "only after: doks/new.yaml" in lines
    assert '-{"a": 1}' in lines and '+{"a": 2}' in lines


def test_every_committed_stack_and_example_config_is_covered():
    labels = {case.label for case in snapshot.cases()}
    assert {"doks", "oci-a10", "oci-h100-rdma", "existing-cluster"} <= labels
    examples = {p.stem for p in snapshot.EXAMPLE_CONFIGS.glob("*.yaml")}
    assert {f"example-{e}" for e in examples} <= labels
