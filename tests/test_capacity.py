"""The capacity and fit planner, and the semantic config checks (Kubernetes versions, OCIDs)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from stacks import capacity
from stacks.config import stack as config
from stacks.config.base import CompartmentOcid, KubernetesVersion, Ocid, SubnetOcid
from stacks.errors import ConfigError
from tests.harness import PROJECT, STACKS, config_error, preview, stack_config
from tools.preview import load_stack_config


def parse(stack: str, **overrides: Any) -> config.StackConfig:
    raw = stack_config(stack, **overrides)
    values = {k.removeprefix(f"{PROJECT}:"): v for k, v in raw.items() if k.startswith(f"{PROJECT}:")}
    values.pop("secrets", None)
    return config.parse(values, set())


def error(stack: str, **overrides: Any) -> str:
    with pytest.raises(ConfigError) as exc:
        parse(stack, **overrides)
    message = str(exc.value)
    assert "\n" not in message
    return message


X = "\N{MULTIPLICATION SIGN}"
H100X8 = {"gpuPool": {"size": "gpu-h100x8-640gb", "nodeCount": 1}}

# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------

REQUIRED = [
    "Qwen/Qwen2.5-0.5B-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
    "meta-llama/Llama-3.1-405B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "openai/gpt-oss-20b",
]


@pytest.mark.parametrize("model_id", REQUIRED)
def test_catalog_rows_cite_the_published_config(model_id: str) -> None:
    facts = capacity.MODELS[model_id]
    assert f"https://huggingface.co/{model_id}/blob/main/config.json" in facts.source
    assert facts.params_b > 0 and facts.layers > 0 and facts.kv_heads > 0 and facts.head_dim > 0
    assert facts.max_context >= 32768


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("meta-llama/Meta-Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8", "meta-llama/Llama-3.1-70B-Instruct"),
        ("Qwen/Qwen2.5-72B-Instruct-AWQ", "Qwen/Qwen2.5-72B-Instruct"),
        ("Qwen/Qwen2.5-72B-Instruct-GPTQ-Int4", "Qwen/Qwen2.5-72B-Instruct"),
        ("someone/unknown-model", None),
    ],
)
def test_lookup_matches_renamed_and_quantized_repos(model_id: str, expected: str | None) -> None:
    facts = capacity.lookup(model_id)
    assert (facts.id if facts else None) == expected


def test_kv_cache_arithmetic_llama_70b() -> None:
    # 2 (K, V) x 80 layers x 8 KV heads x 128 head dim x 2 bytes = 327,680 bytes per token.
    cfg = parse("doks", model={"id": "meta-llama/Llama-3.1-70B-Instruct"}, vllm={"tensorParallelSize": 4},
                doks=H100X8)  # fmt: skip
    assert cfg.doks is not None
    model = cfg.models[0]
    est = capacity.estimate(model, cfg.gpu_plan(model), capacity.MODELS["meta-llama/Llama-3.1-70B-Instruct"])
    assert est.kv_per_token_gb * 4 == pytest.approx(327_680 / 1e9)  # two KV heads per GPU at TP 4
    assert est.weights_gb == pytest.approx(141.2)
    assert est.fits


# --------------------------------------------------------------------------------------------
# Fit errors: one line, needed vs available, nearest configurations that fit
# --------------------------------------------------------------------------------------------


def test_too_big_model_fails_before_anything_is_registered() -> None:
    run = preview("doks", model={"id": "meta-llama/Llama-3.1-70B-Instruct"})
    message = config_error(run)
    assert f"{PROJECT}:models[0].id: Llama-3.1-70B-Instruct needs 145 GB per GPU" in message
    assert f"141 GB of bf16 weights over 1{X}H100 80 GB" in message
    assert "each GPU offers 77.0 GB (85.5 GB visible on a H100 x gpuMemoryUtilization 0.90)" in message
    assert "nearest configurations that fit: models[0].quantization=fp8 (74.3 GB/GPU of 77.0 GB); " in message
    assert "doks.gpuPool.size=gpu-h100x8-640gb + models[0].tensorParallelSize=2 (72.9 GB/GPU of 77.0 GB)" in message


def test_405b_on_one_h100x8_suggests_fp8() -> None:
    message = error("doks", model={"id": "meta-llama/Llama-3.1-405B-Instruct"}, vllm={"tensorParallelSize": 8},
                    doks=H100X8)  # fmt: skip
    assert f"812 GB of bf16 weights over 8{X}H100 80 GB" in message
    assert "nearest configurations that fit: models[0].quantization=fp8" in message
    cfg = parse("doks", model={"id": "meta-llama/Llama-3.1-405B-Instruct"},
                vllm={"tensorParallelSize": 8, "quantization": "fp8"}, doks=H100X8)  # fmt: skip
    assert f"fp8 weights 406 GB over 8{X}H100 80 GB" in config.headroom(cfg)


def test_kv_cache_that_does_not_fit_names_max_model_len() -> None:
    message = error("doks", model={"id": "meta-llama/Llama-3.1-70B-Instruct"},
                    vllm={"quantization": "fp8", "maxModelLen": 32768})  # fmt: skip
    assert (
        f"{PROJECT}:models[0].maxModelLen: one 32768-token sequence of Llama-3.1-70B-Instruct needs 10.7 GB" in message
    )
    assert "70.6 GB of fp8 weights + 1 GB reserve leave 5.4 GB" in message
    assert "nearest configurations that fit: models[0].maxModelLen=15360" in message


def test_context_longer_than_the_model_is_an_error() -> None:
    message = error("doks", vllm={"maxModelLen": 65536})
    assert "models[0].maxModelLen: 65536 is more than Qwen2.5-0.5B-Instruct's context of 32768" in message
    parse("doks", vllm={"maxModelLen": 65536, "extraArgs": ['--hf-overrides={"rope_scaling":{"type":"yarn"}}']})


def test_tensor_parallel_must_split_the_heads() -> None:
    message = error("doks", vllm={"tensorParallelSize": 4}, doks=H100X8)
    assert "models[0].tensorParallelSize: 4 does not evenly split the 14 attention heads and 2 KV heads" in message
    assert "use one of 1, 2" in message


def test_gpt_oss_uses_its_mxfp4_checkpoint_and_refuses_other_quantization() -> None:
    cfg = parse("doks", model={"id": "openai/gpt-oss-20b"}, vllm={"maxModelLen": 131072})
    assert "gpt-oss-20b mxfp4 weights 13.8 GB" in config.headroom(cfg)
    assert "models[0].quantization: gpt-oss-20b ships mxfp4 weights" in error(
        "doks", model={"id": "openai/gpt-oss-20b"}, vllm={"quantization": "fp8"}
    )


def test_unknown_model_is_skipped_unless_described() -> None:
    cfg = parse("doks", model={"id": "acme/private-model"})
    assert "not checked" in config.headroom(cfg)
    arch = {"params": 100, "layers": 80, "kvHeads": 8, "headDim": 128, "maxContext": 32768}
    assert "models[0].id: private-model needs" in error(
        "doks", model={"id": "acme/private-model", "architecture": arch}
    )
    assert "models[0].architecture.params" in error(
        "doks", model={"id": "acme/private-model", "architecture": {**arch, "params": 8_030_000_000}}
    )


# --------------------------------------------------------------------------------------------
# Every stack: the platform section's plan, the headroom line
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_committed_stack_has_a_headroom_line(stack: str) -> None:
    lines = config.headroom_lines(load_stack_config(stack))
    # Each model on its pool with its capacity line, then each pool's fit.
    assert lines and lines[1].startswith("Model ") and " on pool gpu: 1 replica(s) x TP " in lines[1], lines
    assert lines[2].startswith("  Capacity: "), lines
    assert lines[-1].startswith("Pool gpu: ") and lines[-1].endswith("(fits)"), lines


def test_doks_offers_a_gpu_plan() -> None:
    cfg = parse("doks")
    plan = cfg.gpu_plan(cfg.models[0])
    assert plan is not None
    assert (plan.gpu_model, plan.gpu_memory_gb, plan.gpus_per_node, plan.nodes, plan.gpus) == ("H100", 80, 1, 1, 1)
    assert plan.visible_memory_gb == pytest.approx(85.52)  # 81559 MiB


# --------------------------------------------------------------------------------------------
# Semantic checks: Kubernetes versions, OCIDs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "problem"),
    [(1.3, 'quoted string ("1.3")'), ("1.3", "minor version such as 1.33"), ("v1.33", "minor version")],
)
def test_doks_kubernetes_version_format(version: Any, problem: str) -> None:
    assert problem in error("doks", doks={"kubernetesVersion": version})


def test_oke_kubernetes_version_type() -> None:
    assert TypeAdapter(KubernetesVersion).validate_python("v1.33.1") == "v1.33.1"
    with pytest.raises(ValidationError, match="leading v"):
        TypeAdapter(KubernetesVersion).validate_python("1.33.1")


TENANCY = "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq"
SUBNET = "ocid1.subnet.oc1.iad.aaaaaaaaxyz1234567890abcdefghijklmnop"


def test_ocid_types() -> None:
    assert TypeAdapter(Ocid).validate_python(SUBNET) == SUBNET
    assert TypeAdapter(CompartmentOcid).validate_python(TENANCY) == TENANCY  # the root compartment
    with pytest.raises(ValidationError, match="OCID of a tenancy; expected a subnet OCID"):
        TypeAdapter(SubnetOcid).validate_python(TENANCY)
    with pytest.raises(ValidationError, match="is not an OCID"):
        TypeAdapter(Ocid).validate_python("ocid1.subnet")
