"""The GitHub Actions workflows: valid against the GitHub workflow JSON schema (check-jsonschema's
vendored copy, offline) and wired the way the CI design says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
PREVIEW, DEPLOY = WORKFLOWS / "preview.yml", WORKFLOWS / "deploy.yml"
PULUMI_ACTION = "pulumi/actions@"
REAL_STACKS = {"oci-a10", "oci-h100-rdma", "doks", "oci-data-science"}


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the `on:` key as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def test_workflows_exist():
    assert PREVIEW.is_file() and DEPLOY.is_file()


@pytest.mark.parametrize("path", [PREVIEW, DEPLOY], ids=lambda p: p.name)
def test_workflow_is_valid_against_the_github_workflow_schema(path: Path):
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_an_invalid_workflow(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    steps:\n      - run: echo hi\n")  # no runs-on
    result = check_jsonschema(bad)
    assert result.returncode != 0 and "runs-on" in result.stdout


# Every action at a full commit SHA with its release in a comment. The SHAs were read from the
# actions' own repositories (`git rev-parse <tag>^{commit}` in mirrors of actions/checkout,
# actions/setup-python, astral-sh/setup-uv, actions/upload-artifact, pulumi/actions).
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("path", [PREVIEW, DEPLOY], ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_sha_with_the_release_in_a_comment(path: Path):
    uses = [line for line in path.read_text().splitlines() if line.strip().startswith(("uses:", "- uses:"))]
    assert uses
    for line in uses:
        assert PINNED.match(line), line


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    # Default audits and persona; --offline only keeps it from trying GitHub's API (no token here).
    return subprocess.run(
        [str(Path(sys.executable).parent / "zizmor"), "--offline", "--no-progress", *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_zizmor_finds_nothing_in_the_workflows():
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_flags_an_action_pinned_by_tag_and_a_checkout_that_keeps_credentials(tmp_path: Path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v6\n"
    )
    result = zizmor(workflows)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout and "artipacked" in result.stdout


# ------------------------------------------------------------------------------------------
# preview.yml
# ------------------------------------------------------------------------------------------


def test_preview_runs_on_pull_requests():
    assert "pull_request" in load(PREVIEW)["on"]


def test_offline_job_needs_no_secrets_and_runs_tests_preview_and_uploads_build():
    job = load(PREVIEW)["jobs"]["offline"]
    assert "secrets." not in yaml.safe_dump(job)
    runs = " ".join(str(s.get("run", "")) for s in job["steps"])
    assert "make test" in runs and "make preview STACK=all" in runs
    assert "GITHUB_STEP_SUMMARY" in runs
    upload = steps_using(job, "actions/upload-artifact@")
    assert len(upload) == 1 and upload[0]["with"]["path"].rstrip("/") == "build"
    assert steps_using(job, "actions/setup-python@")


def test_real_preview_matrix_uses_pulumi_action_with_pr_comment_policy_and_backend():
    jobs = load(PREVIEW)["jobs"]
    job = jobs["pulumi-preview"]
    assert {entry["stack"] for entry in job["strategy"]["matrix"]["include"]} == REAL_STACKS
    assert "secrets" in job["needs"] and "offline" in job["needs"]
    (step,) = steps_using(job, PULUMI_ACTION)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["comment-on-pr"] is True
    assert inputs["policyPacks"] == "policy"
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert "work-dir" in inputs
    assert step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert job["permissions"]["pull-requests"] == "write"
    # Dependencies come from uv, before the action.
    names = [s.get("uses", s.get("run", "")) for s in job["steps"]]
    pulumi_step = next(i for i, n in enumerate(names) if str(n).startswith(PULUMI_ACTION))
    assert names.index("uv sync --frozen") < pulumi_step
    assert any(str(n).startswith("astral-sh/setup-uv@") for n in names)


def test_real_preview_is_skipped_with_a_notice_without_secrets():
    jobs = load(PREVIEW)["jobs"]
    gate = jobs["secrets"]
    assert {"has-secrets", "has-digitalocean", "has-oci"} <= set(gate["outputs"])
    job = jobs["pulumi-preview"]
    notice = [s for s in job["steps"] if "::notice" in str(s.get("run", ""))]
    assert len(notice) == 1 and "GITHUB_STEP_SUMMARY" in notice[0]["run"]
    assert notice[0]["if"] == "env.CREDENTIALS != 'true'"
    # Every other step runs only with credentials.
    for step in job["steps"]:
        if step is not notice[0]:
            assert step["if"] == "env.CREDENTIALS == 'true'", step


# ------------------------------------------------------------------------------------------
# deploy.yml
# ------------------------------------------------------------------------------------------


def test_deploy_is_manual_with_stack_and_action_choices():
    inputs = load(DEPLOY)["on"]["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["type"] == "choice" and set(inputs["stack"]["options"]) == REAL_STACKS
    assert inputs["action"]["type"] == "choice" and set(inputs["action"]["options"]) == {"up", "destroy"}


def test_deploy_runs_in_the_stack_environment_with_pulumi_up_and_destroy():
    workflow = load(DEPLOY)
    (job,) = workflow["jobs"].values()
    assert job["environment"]["name"] == "${{ inputs.stack }}"
    commands = {step["with"]["command"]: step for step in steps_using(job, PULUMI_ACTION)}
    assert set(commands) == {"up", "destroy"}
    assert commands["up"]["if"] == "inputs.action == 'up'"
    assert commands["destroy"]["if"] == "inputs.action == 'destroy'"
    assert commands["up"]["with"]["policyPacks"] == "policy"
    for step in commands.values():
        assert step["with"]["stack-name"] == "${{ inputs.stack }}"
    assert workflow["concurrency"]["cancel-in-progress"] is False
