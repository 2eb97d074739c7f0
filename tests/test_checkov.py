"""checkov's Kubernetes checks over every stack's manifests: each failed check is fixed, or listed in
tools/checkov_skips.yaml with a reason. checkov runs once per session over all stacks (it takes
seconds to start), in its own locked environment (.tools/checkov, tools/checkov/pyproject.toml)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import STACKS, default_run, k8s_objects
from tools import manifests

REPO = Path(__file__).resolve().parent.parent
CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
CHECKOV_CACHE = REPO / "build" / ".cache" / "checkov"
SKIPS: dict[str, Any] = yaml.safe_load((REPO / "tools" / "checkov_skips.yaml").read_text())


def reason(check: str) -> str:
    entry = SKIPS[check]
    return entry if isinstance(entry, str) else entry["reason"]


def skipped(check: str, stack: str, file: str) -> bool:
    """Whether the skip file explains `check` failing on `file` of `stack`."""
    entry = SKIPS.get(check)
    if entry is None:
        return False
    return isinstance(entry, str) or any(f"{stack}/{file}".startswith(prefix) for prefix in entry["only"])


KNOWN_BAD = "known-bad"

# One worker runs every test here (`make test` uses --dist loadgroup): the session fixture below starts
# checkov once per worker, ~5-8 s of CPU each time.
pytestmark = pytest.mark.xdist_group("checkov")

# A pod that breaks rules the stacks keep: privileged, host network, no probes, no resources.
BAD_POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "namespace": "x"},
    "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "busybox:1.37",
                                                  "securityContext": {"privileged": True}}]},
}  # fmt: skip


def pod_templates(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Pods inside a custom resource (RayCluster head and worker groups, ...), as Pod documents:
    checkov only knows the built-in kinds, and these pods are the ones that run vLLM."""
    found: list[dict[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            template = node.get("template")
            if (
                isinstance(template, dict)
                and isinstance(template.get("spec"), dict)
                and "containers" in template["spec"]
            ):
                name = (
                    f"{obj['metadata']['name']}-{path or 'pod'}".lower()
                    .replace(".", "-")
                    .replace("[", "")
                    .replace("]", "")
                )
                meta = {"name": name, "namespace": obj["metadata"].get("namespace", "default")}
                found.append({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {**(template.get("metadata") or {}), **meta}, "spec": template["spec"]})  # fmt: skip
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(obj.get("spec"), "")
    return found


def checkov_input(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return pod_templates(obj) if not manifests._is_builtin(obj.get("apiVersion", "")) else [obj]


def checkov_report(root: Path) -> Any:
    """checkov's JSON report on the manifests under `root`, run once per content: both pytest-xdist workers
    ask (pytest 9.2 made --dist loadgroup ignore the group mark above, pytest-dev/pytest-xdist#1386), the
    second waits on a lock and reads the first's answer, and a later `make test` on the same manifests and
    the same locked checkov reads it from build/.cache (checkov's verdict depends on nothing else)."""
    digest = hashlib.sha256((REPO / "tools" / "checkov" / "uv.lock").read_bytes())
    for path in sorted(root.rglob("*.yaml")):
        digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes() + b"\0")
    CHECKOV_CACHE.mkdir(parents=True, exist_ok=True)
    cached = CHECKOV_CACHE / f"{digest.hexdigest()[:24]}.json"
    with (CHECKOV_CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cached.is_file():
            result = subprocess.run(
                [str(CHECKOV), "--framework", "kubernetes", "--directory", str(root), "--output", "json", "--quiet",
                 "--skip-download"],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert result.returncode in (0, 1), result.stderr[-2000:]
            json.loads(result.stdout)  # a whole report, or nothing is kept
            partial = cached.with_suffix(".tmp")
            partial.write_text(result.stdout)
            partial.replace(cached)
        return json.loads(cached.read_text())


@pytest.fixture(scope="session")
def failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, set[str]]]:
    """{stack: {check id: {file}}} of every failed check, one checkov run for all stacks."""
    root = tmp_path_factory.mktemp("checkov")
    for stack in STACKS:
        manifests.write([o for obj in k8s_objects(default_run(stack)) for o in checkov_input(obj)], root / stack)
    manifests.write([BAD_POD], root / KNOWN_BAD)
    reports = checkov_report(root)
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report in reports if isinstance(reports, list) else [reports]:
        assert report["summary"]["parsing_errors"] == 0
        for check in report["results"]["failed_checks"]:
            stack, _, file = check["file_path"].strip("/").partition("/")
            found[stack][check["check_id"]].add(file)
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_failed_check_is_fixed_or_skipped_with_a_reason(failures, stack):
    unexplained = {
        check: sorted(f for f in files if not skipped(check, stack, f))
        for check, files in failures[stack].items()
        if any(not skipped(check, stack, f) for f in files)
    }
    assert not unexplained, f"fix these, or add the check to tools/checkov_skips.yaml with a reason: {unexplained}"


def test_the_skip_file_lists_only_checks_that_fail_today(failures):
    failing = {check for stack in STACKS for check in failures[stack]}
    assert set(SKIPS) <= failing, f"no longer failing, remove from the skip file: {sorted(set(SKIPS) - failing)}"


def test_each_skip_has_a_one_line_reason():
    for check in SKIPS:
        assert isinstance(reason(check), str) and len(reason(check)) > 20 and "\n" not in reason(check), check


def test_checkov_flags_a_privileged_host_network_pod(failures):
    flagged = set(failures[KNOWN_BAD])
    assert {"CKV_K8S_16", "CKV_K8S_19"} <= flagged  # privileged container, host network
    assert not any(skipped(check, KNOWN_BAD, "pod-bad.yaml") for check in ("CKV_K8S_16", "CKV_K8S_19"))


def test_pods_inside_a_raycluster_are_checked_too():
    ray = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r", "namespace": "n"},
           "spec": {"headGroupSpec": {"template": {"spec": {"containers": [{"name": "head"}]}}},
                    "workerGroupSpecs": [{"template": {"spec": {"containers": [{"name": "w"}]}}}]}}  # fmt: skip
    pods = checkov_input(ray)
    assert [p["kind"] for p in pods] == ["Pod", "Pod"]
    assert [p["spec"]["containers"][0]["name"] for p in pods] == ["head", "w"]
