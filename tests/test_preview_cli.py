"""`make preview` (python -m tools.preview) writes the plan and manifests, or one error line and nothing."""

from __future__ import annotations

import json

import yaml

from tools import preview


def test_preview_writes_plan_and_manifests(tmp_path, capsys):
    assert preview.main(["--stack", "doks", "--out", str(tmp_path)]) == 0
    plan = json.loads((tmp_path / "doks" / "plan.json").read_text())
    assert plan["stack"] == "doks" and plan["project"] == "llm-serving"
    by_urn = {r["urn"]: r for r in plan["resources"]}
    for r in plan["resources"]:
        assert set(r) >= {"urn", "type", "name", "custom", "parent", "provider", "dependencies", "inputs"}
        assert r["parent"] is None or r["parent"] in by_urn
        assert all(d in by_urn for d in r["dependencies"])
    nfs = next(r for r in plan["resources"] if r["type"] == "digitalocean:index/nfs:Nfs")
    assert nfs["custom"] is True and nfs["inputs"]["region"] == "nyc2"
    assert plan["outputs"]["apiKey"] == "[secret]"

    files = sorted(p.name for p in (tmp_path / "doks" / "manifests").iterdir())
    assert "deployment-vllm.yaml" in files and "gateway-vllm-gateway.yaml" in files
    deployment = yaml.safe_load((tmp_path / "doks" / "manifests" / "deployment-vllm.yaml").read_text())
    assert list(deployment)[:3] == ["apiVersion", "kind", "metadata"]
    assert deployment["metadata"]["namespace"] == "vllm"

    out = capsys.readouterr().out
    assert "llm-serving:doks:Cluster" in out and "Outputs:" in out and "schema-valid" in out


def test_config_file_replaces_the_stack_file_and_a_config_error_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    document = yaml.safe_load((preview.REPO / "Pulumi.doks.yaml").read_text())
    document["config"]["llm-serving:doks"]["region"] = "lon1"
    bad.write_text(yaml.safe_dump(document))
    out = tmp_path / "build"
    assert preview.main(["--stack", "doks", "--config", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "llm-serving:doks.region" in err[0] and "Traceback" not in err[0]
    assert not (out / "doks").exists()


def test_secure_values_in_a_stack_file_preview_as_secrets(tmp_path):
    document = yaml.safe_load((preview.REPO / "Pulumi.doks.yaml").read_text())
    document["config"]["llm-serving:secrets"] = {"hfToken": {"secure": "v1:ciphertext-only-the-cli-can-read"}}
    path = tmp_path / "with-secret.yaml"
    path.write_text(yaml.safe_dump(document))
    assert preview.main(["--stack", "doks", "--config", str(path), "--out", str(tmp_path / "b")]) == 0
    plan = (tmp_path / "b" / "doks" / "plan.json").read_text()
    assert "ciphertext" not in plan and "offline-placeholder" not in plan


def test_unknown_stack_is_one_line(capsys):
    assert preview.main(["--stack", "nope"]) == 1
    assert "unknown stack 'nope'" in capsys.readouterr().err
