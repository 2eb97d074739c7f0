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

from tests.harness import EXAMPLES, STACKS, default_run, example_run, k8s_objects
from tools import k8s_semantics, manifests

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


def checkov_inputs(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The built-in objects as they are, and every pod a custom resource makes as a Pod document, found as
    the API-server judge finds them (tools/k8s_semantics.py Plan): RayCluster head and worker groups, and
    each InferenceService's predictor pod as KServe builds it from its ServingRuntime. checkov only knows
    the built-in kinds, and these pods are the ones that run vLLM."""
    found = [obj for obj in objects if manifests._is_builtin(obj.get("apiVersion", ""))]
    for t in k8s_semantics.Plan(objects).templates:
        if manifests._is_builtin(t.owner.get("apiVersion", "")):
            continue
        path = t.path.removeprefix("spec").removeprefix(".") or "pod"
        name = f"{t.owner['metadata']['name']}-{path}".lower().replace(".", "-").replace("[", "").replace("]", "")
        meta = {"name": name, "namespace": t.owner["metadata"].get("namespace", "default")}
        found.append({"apiVersion": "v1", "kind": "Pod", "metadata": {**(t.template.get("metadata") or {}), **meta},
                      "spec": t.spec})  # fmt: skip
    return found


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


# Each committed stack, and each example config of tests/configs under `example-<name>` (its folder, and
# the prefix of its skips in tools/checkov_skips.yaml).
FOLDERS = {**{stack: lambda stack=stack: default_run(stack) for stack in STACKS},
           **{f"example-{name}": lambda name=name: example_run(name) for name in EXAMPLES}}  # fmt: skip


@pytest.fixture(scope="session")
def failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, set[str]]]:
    """{folder: {check id: {file}}} of every failed check, one checkov run for all stacks and examples."""
    root = tmp_path_factory.mktemp("checkov")
    for folder, run in FOLDERS.items():
        manifests.write(checkov_inputs(k8s_objects(run())), root / folder)
    manifests.write([BAD_POD], root / KNOWN_BAD)
    reports = checkov_report(root)
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report in reports if isinstance(reports, list) else [reports]:
        assert report["summary"]["parsing_errors"] == 0
        for check in report["results"]["failed_checks"]:
            stack, _, file = check["file_path"].strip("/").partition("/")
            found[stack][check["check_id"]].add(file)
    return found


@pytest.mark.parametrize("stack", sorted(FOLDERS))
def test_every_failed_check_is_fixed_or_skipped_with_a_reason(failures, stack):
    unexplained = {
        check: sorted(f for f in files if not skipped(check, stack, f))
        for check, files in failures[stack].items()
        if any(not skipped(check, stack, f) for f in files)
    }
    assert not unexplained, f"fix these, or add the check to tools/checkov_skips.yaml with a reason: {unexplained}"


def test_the_skip_file_lists_only_checks_that_fail_today(failures):
    failing = {check for folder in FOLDERS for check in failures[folder]}
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
    pods = checkov_inputs([ray])
    assert [p["kind"] for p in pods] == ["Pod", "Pod"]
    assert [p["spec"]["containers"][0]["name"] for p in pods] == ["head", "w"]
    assert [p["metadata"]["name"] for p in pods] == ["r-headgroupspec-template", "r-workergroupspecs0-template"]


def test_kserve_predictor_pods_are_checked_as_kserve_builds_them():
    """A ServingRuntime and an InferenceService are one pod: the runtime's container with the model's fields."""
    objects = k8s_objects(example_run("existing-rhoai-kserve"))
    pods = {p["metadata"]["name"]: p for p in checkov_inputs(objects) if p["kind"] == "Pod"}
    isvcs = [o["metadata"]["name"] for o in objects if o["kind"] == "InferenceService"]
    assert sorted(pods) == sorted(f"{name}-predictor" for name in isvcs) and len(isvcs) == 2
    for pod in pods.values():
        (server,) = pod["spec"]["containers"]
        assert server["image"].startswith("vllm/vllm-openai:") and "livenessProbe" in server  # runtime + model
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True  # the predictor's pod field
        # KServe's webhook adds the storage initializer, with the S3 keys as env (CKV_K8S_35 on it)
        assert [c["name"] for c in pod["spec"]["initContainers"]] == ["storage-initializer"]
