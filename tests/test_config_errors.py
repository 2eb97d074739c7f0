"""A wrong config fails in the first second, with one line that names the key, and creates nothing."""

from __future__ import annotations

import pytest

from tests.harness import config_error, preview, stack_config

BAD_DOKS_CONFIGS = [
    ({"doks": {"region": "sfo3"}}, "llm-serving:doks.region", "nyc2, atl1"),
    (
        {"doks": {"gpuPool": {"nodeCount": 1}}, "vllm": {"replicas": 2}},
        "llm-serving:models[0].replicas",
        "nodeCount is 1",
    ),
    ({"doks": {"clusterSubnet": "10.200.0.0/20"}}, "llm-serving:doks", "overlaps"),
    ({"doks": {"vpcCidr": "10.200.0.0/33"}}, "llm-serving:doks.vpcCidr", "IPv4 CIDR"),
    ({"vllm": {"image": "vllm/vllm-openai:latest"}}, "llm-serving:models[0].image", "latest"),
    ({"vllm": {"image": "vllm/vllm-openai"}}, "llm-serving:models[0].image", "no tag"),
    ({"vllm": {"tensorParallelSize": 2}}, "llm-serving:models[0].tensorParallelSize", "1 GPU(s) per node"),
    ({"vllm": {"gpuMemoryUtilization": 1.5}}, "llm-serving:models[0].gpuMemoryUtilization", "0.98"),
    ({"vllm": {"extraArgs": ["--api-key=oops"]}}, "llm-serving:models[0].extraArgs[0]", "secrets.apiKey"),
    ({"vllm": {"replica": 2}}, "llm-serving:models[0].replica", "unknown key"),
    ({"model": {"id": "not a model"}}, "llm-serving:models[0].id", "Hugging Face model id"),
    ({"doks": {"gpuPool": {"size": "gpu-mi300x1-192gb"}}}, "llm-serving:doks.gpuPool.size", "gpu-h100x1-80gb"),
    ({"doks": {"kubernetesVersion": "1.32"}}, "llm-serving:doks.kubernetesVersion", "Gateway API"),
    ({"endpoint": {"kind": "loadBalancer"}}, "llm-serving:endpoint.allowedCidrs", "at least one"),
    ({"endpoint": {"kind": "nodePort"}}, "llm-serving:endpoint.kind", "'gateway'"),
    ({"platform": "aws"}, "llm-serving:platform", "'doks'"),
    ({"modelStore": {"sizeGb": 10}}, "llm-serving:modelStore.sizeGb", "50"),
]


@pytest.mark.parametrize(("overrides", "key", "hint"), BAD_DOKS_CONFIGS, ids=lambda v: str(v)[:40])
def test_bad_doks_config_names_the_key_and_registers_nothing(overrides, key, hint):
    message = config_error(preview("doks", **overrides))
    assert message.startswith(f"invalid stack config: {key}: "), message
    assert hint in message


def test_credentials_in_plain_text_are_refused():
    plain = stack_config("doks", secrets={"apiKey": "in-plain-text"})  # not marked secret
    message = config_error(preview("doks", raw=plain))
    assert "llm-serving:secrets" in message and "--secret" in message


def test_a_secret_outside_the_secrets_section_is_refused():
    message = config_error(preview("doks", secrets={"name": "vllm"}))
    assert "llm-serving:name" in message and "secret" in message
