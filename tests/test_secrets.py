"""Secrets stay secret end to end: never in plain text in plan.json, rendered manifests or outputs."""

from __future__ import annotations

import json

import pytest

from tests.harness import KUBERNETES_STACKS, preview
from tools import manifests

KNOWN = {"apiKey": "sk-known-api-key-123456", "hfToken": "hf_known_token_abcdef"}


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_known_secret_values_never_appear_in_the_plan_or_manifests(stack, tmp_path):
    run = preview(stack, secrets={"secrets": KNOWN})
    assert run.error is None, run.error
    plan = json.dumps(run.to_plan())
    manifests.write(manifests.kubernetes_objects(run), tmp_path)
    rendered = "".join(p.read_text() for p in tmp_path.iterdir())
    for value in KNOWN.values():
        assert value not in plan
        assert value not in rendered
    assert "[secret]" in plan


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_generated_api_key_and_kubeconfig_are_secret_outputs(stack):
    run = preview(stack)
    assert run.outputs["apiKey"] == "[secret]"
    if "kubeconfig" in run.outputs:
        assert run.outputs["kubeconfig"] == "[secret]"
    for secret in [r for r in run.registered() if r.type == "kubernetes:core/v1:Secret"]:
        data = secret.inputs.get("stringData") or secret.inputs.get("data") or {}
        assert set(data.values()) <= {"[secret]"}, f"{secret.name} holds plain text"
