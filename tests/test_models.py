"""`models:`: several models per stack, each on a named GPU pool, with its own weights and LoRA adapters.

Config-level checks parse only (no engine); the previews reuse one run per config.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import stack
from stacks.config.stack import parse as parse_values
from stacks.errors import ConfigError
from tests.harness import all_of, containers, example_run, k8s_objects, preview, stack_config
from tools import diff, manifests, policy_check

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "tests" / "configs"


def values(stack: str, **overrides: Any) -> dict[str, Any]:
    config = stack_config(stack, **overrides)
    found = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("llm-serving:")}
    found.pop("secrets", None)
    return found


def error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_values(config, set())
    message = str(err.value)
    assert "\n" not in message
    return message


TWO_DOKS_POOLS = {
    "gpuPool": None,
    "gpuPools": [
        {"name": "gpu", "size": "gpu-h100x1-80gb", "nodeCount": 2},
        {"name": "large", "size": "gpu-h100x8-640gb", "nodeCount": 1},
    ],
}


def manifests_problems(run) -> dict[str, list[str]]:
    return {manifests.file_name(o): manifests.validate(o) for o in manifests.kubernetes_objects(run)}


def example(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text())["config"]


# --------------------------------------------------------------------------------------------
# The old keys, the list, names and pools
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("old", ["model", "vllm"])
def test_the_single_model_keys_say_what_to_write_instead(old: str) -> None:
    config = values("doks")
    config[old] = {"id": "Qwen/Qwen2.5-7B-Instruct"} if old == "model" else {"replicas": 2}
    message = error(config)
    assert message.startswith(f"invalid stack config: llm-serving:{old}: `model` and `vllm` became one entry")
    assert "write models: [{" in message


def test_every_committed_stack_is_written_with_models() -> None:
    for path in REPO.glob("Pulumi.*.yaml"):
        config = yaml.safe_load(path.read_text())["config"]
        assert "llm-serving:model" not in config and "llm-serving:vllm" not in config, path.name
        assert len(config["llm-serving:models"]) == 1, "the committed stacks keep their one model"


def test_served_names_and_adapter_names_are_unique_in_the_stack() -> None:
    config = values("doks")
    config["models"] = [{"id": "Qwen/Qwen2.5-7B-Instruct"}, {"id": "Qwen/Qwen2.5-7B-Instruct", "quantization": "fp8"}]
    assert "llm-serving:models[1]: the name 'Qwen2.5-7B-Instruct' is already served by models[0]" in error(config)
    config["models"] = [
        {"id": "Qwen/Qwen2.5-7B-Instruct", "lora": {"adapters": [{"name": "llama", "id": "org/adapter"}]}},
        {"id": "meta-llama/Llama-3.1-8B-Instruct", "servedName": "llama"},
    ]
    assert "models[1]: the name 'llama' is already served by models[0]" in error(config)


def test_a_model_names_one_of_the_stacks_pools() -> None:
    config = values("doks", doks=TWO_DOKS_POOLS)
    config["models"] = [{"id": "Qwen/Qwen2.5-7B-Instruct"}]
    parse_values(config, set())  # no pool named: the pool `gpu`, which a one-pool stack had
    config["doks"]["gpuPools"][0]["name"] = "small"
    assert (
        "llm-serving:models[0].pool: the stack has several GPU pools and none named gpu; name one of small, large"
        in error(config)
    )
    config["models"] = [{"id": "Qwen/Qwen2.5-7B-Instruct", "pool": "tiny"}]
    assert "llm-serving:models[0].pool: no GPU pool 'tiny'; the stack has small, large" in error(config)


def test_one_pool_or_several_not_both() -> None:
    config = values("doks", doks={"gpuPools": [{"name": "large", "size": "gpu-h100x8-640gb"}]})
    assert "llm-serving:doks.gpuPools: give either doks.gpuPool (one pool) or doks.gpuPools" in error(config)
    config = values("doks", doks={"gpuPool": None, "gpuPools": [{"name": "a"}, {"name": "a"}]})
    assert "llm-serving:doks.gpuPools[1].name: 'a' names another pool too" in error(config)


# --------------------------------------------------------------------------------------------
# Fit: per model on its pool, per pool for its models
# --------------------------------------------------------------------------------------------


def test_each_model_is_capacity_checked_on_its_own_pool() -> None:
    config = values("doks", doks=TWO_DOKS_POOLS)
    # 70B in bf16 fits four H100s of the large pool, not the one H100 of the gpu pool.
    config["models"] = [
        {"id": "Qwen/Qwen2.5-7B-Instruct", "pool": "large"},
        {"id": "meta-llama/Llama-3.1-70B-Instruct", "pool": "gpu"},
    ]
    message = error(config)
    assert message.startswith("invalid stack config: llm-serving:models[1].id: Llama-3.1-70B-Instruct needs 145 GB")
    assert "doks.gpuPools[0].size=gpu-h100x8-640gb" in message, "the hint names the key of the model's pool"
    config["models"][1].update(pool="large", tensorParallelSize=4)
    parse_values(config, set())


def test_models_that_together_overflow_a_pool_name_the_model_and_the_pool() -> None:
    config = values("doks", doks=TWO_DOKS_POOLS)
    config["models"] = [
        {"id": "meta-llama/Llama-3.1-70B-Instruct", "pool": "large", "tensorParallelSize": 8},
        {"id": "Qwen/Qwen2.5-7B-Instruct", "pool": "large"},
    ]
    message = error(config)
    assert message.startswith(
        "invalid stack config: llm-serving:models[1].replicas: model Qwen2.5-7B-Instruct (1 replica(s) x 1 GPU(s)) "
        "does not fit pool large next to Llama-3.1-70B-Instruct 1x8: together 9 GPUs"
    )
    assert "doks.gpuPools[1].nodeCount" in message


def test_a_store_holds_every_checkpoint_once() -> None:
    # Two entries of the same weights (fp8 online and bf16) download them once; a second model adds its own.
    config = values("oci-a10", modelStore={"sizeGb": 20})
    config["models"] = [config["models"][0], {**config["models"][0], "servedName": "qwen-fp8", "quantization": "fp8"}]
    assert "modelStore.sizeGb: 20 GB cannot hold the ~15 GB" not in error(config)
    config = values("doks", doks=TWO_DOKS_POOLS, modelStore={"sizeGb": 150})
    config["models"] = [
        {"id": "meta-llama/Llama-3.1-70B-Instruct", "pool": "large", "tensorParallelSize": 4},
        {"id": "Qwen/Qwen2.5-7B-Instruct", "pool": "gpu"},
    ]
    assert "modelStore.sizeGb: 150 GB cannot hold the ~156 GB checkpoints of 2 models; use at least 165" in error(
        config
    )


def test_lora_adapters_need_a_mounted_store() -> None:
    config = values("oci-h100-rdma")
    config["models"][0]["lora"] = {"adapters": [{"name": "sql", "id": "org/sql-lora"}]}
    assert "llm-serving:models[0].lora: vLLM loads adapters from a local path" in error(config)


@pytest.mark.parametrize("stack", ["oci-h100-rdma", "existing-cluster"])
def test_a_ray_stack_serves_one_model(stack: str) -> None:
    config = values(stack)
    config["models"] = [config["models"][0], {**config["models"][0], "servedName": "second"}]
    assert "llm-serving:models: " in error(config) and "list one" in error(config)


@pytest.mark.parametrize("name", ["doks-two-models.yaml", "existing-rhoai-two-models.yaml"])
def test_the_preview_summary_shows_each_model_its_pool_and_each_pools_fit(name: str) -> None:
    lines = stack.headroom_lines(example(name))
    models = [line for line in lines if line.startswith("Model ")]
    pools = [line for line in lines if line.startswith("Pool ")]
    assert len(models) >= 2 and len({line.split(" on pool ")[1].split(":")[0] for line in models}) == 2
    assert all(" replica(s) x TP " in line for line in models)
    assert sum(line.strip().startswith("Capacity: ") for line in lines) == len(models)
    assert len(pools) == 2 and all(line.endswith("(fits)") for line in pools)


def test_the_rhoai_example_is_the_same_model_in_fp8_and_bf16() -> None:
    models = example("existing-rhoai-two-models.yaml")["llm-serving:models"]
    mistral = [m for m in models if m["id"] == "mistralai/Mistral-Small-24B-Instruct-2501"]
    assert {(m.get("quantization"), m["tensorParallelSize"]) for m in mistral} == {("fp8", 2), (None, 4)}


# --------------------------------------------------------------------------------------------
# Preview: LoRA adapters on a one-model stack
# --------------------------------------------------------------------------------------------

LORA = {"adapters": [{"name": "qwen-sql", "id": "org/qwen-sql-lora", "revision": "v1"}], "maxRank": 32}


@functools.cache
def lora_run():
    run = preview("doks", model={"lora": LORA})
    assert run.error is None, run.error
    return run


def test_lora_adapters_are_downloaded_into_the_store_and_served_by_vllm() -> None:
    run = lora_run()
    jobs = {o["metadata"]["name"]: o for o in k8s_objects(run) if o["kind"] == "Job"}
    env = [{e["name"]: e.get("value") for e in c["env"]} for job in jobs.values() for c in containers(job)]
    assert {"MODEL_ID": "org/qwen-sql-lora", "MODEL_DIR": "org--qwen-sql-lora/v1"}.items() <= next(
        e for e in env if e.get("MODEL_ID") == "org/qwen-sql-lora"
    ).items(), "the adapter has its own download Job into its own directory"
    vllm = next(c for o in k8s_objects(run) if o["kind"] == "Deployment" for c in containers(o) if c["name"] == "vllm")
    args = vllm["args"]
    assert args[args.index("--max-lora-rank") + 1] == "32" and "--enable-lora" in args
    modules = [json.loads(a) for a in args[args.index("--lora-modules") + 1 :]]
    assert modules == [
        {"name": "qwen-sql", "path": "/models/org--qwen-sql-lora/v1", "base_model_name": "Qwen2.5-0.5B-Instruct"}
    ]


def test_lora_adapters_are_listed_in_the_served_names_output() -> None:
    assert lora_run().outputs["servedModelNames"] == ["Qwen2.5-0.5B-Instruct", "qwen-sql"]


# --------------------------------------------------------------------------------------------
# Day 2: a second pool next to the first
# --------------------------------------------------------------------------------------------


def test_adding_a_gpu_pool_keeps_the_cluster_the_first_pool_and_the_share() -> None:
    before = preview("doks")
    after = preview("doks", doks={"gpuPool": None, "gpuPools": [
        {"name": "gpu", "size": "gpu-h100x1-80gb", "nodeCount": 1},
        {"name": "large", "size": "gpu-h100x8-640gb", "nodeCount": 1},
    ]})  # fmt: skip
    assert after.error is None, after.error
    changes = diff.plan(before, after)
    assert [c for c in changes if c.op in (diff.DELETE, diff.REPLACE) and c.stateful] == []
    created = [c.name for c in changes if c.op == diff.CREATE and c.type.endswith("KubernetesNodePool")]
    assert created == ["vllm-gpu-large-pool"]
    pools = {r.name: r.inputs for r in all_of(after, "KubernetesNodePool")}
    assert pools["vllm-gpu-large-pool"]["labels"] == {"llm-serving.dev/pool": "large"}


def test_oke_node_pools_of_two_shapes_each_hold_their_models() -> None:
    pools = {"gpuPool": None, "gpuPools": [
        {"name": "gpu", "shape": "VM.GPU.A10.1", "nodeCount": 1, "availabilityDomains": [2, 3]},
        {"name": "a10x2", "shape": "VM.GPU.A10.2", "nodeCount": 1, "availabilityDomains": [2, 3]},
    ]}  # fmt: skip
    config = values("oci-a10", oke=pools)
    first = config["models"][0]
    config["models"] = [first, {**first, "servedName": "qwen-tp2", "pool": "a10x2", "tensorParallelSize": 2}]
    cfg = parse_values(config, set())
    assert [cfg.pool_of(m).shape for m in cfg.models] == ["VM.GPU.A10.1", "VM.GPU.A10.2"]
    config["models"][1]["pool"] = "gpu"
    assert error(config).startswith(
        "invalid stack config: llm-serving:models[1].tensorParallelSize: model qwen-tp2 needs 2 GPUs per replica "
        "but pool gpu (VM.GPU.A10.1) has 1 GPU(s) per node"
    )


# --------------------------------------------------------------------------------------------
# Several models behind the one endpoint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["doks-two-models.yaml", "existing-rhoai-two-models.yaml"])
def test_each_model_gets_its_server_on_its_pool_and_every_manifest_passes_the_judges(name: str) -> None:
    run = example_run(name.removesuffix(".yaml"))
    models = example(name)["llm-serving:models"]
    servers = {
        o["metadata"]["name"]: c
        for o in k8s_objects(run)
        if o["kind"] == "Deployment"
        for c in containers(o)
        if c["name"] == "vllm"
    }
    deployments = {o["metadata"]["name"]: o for o in k8s_objects(run) if o["kind"] == "Deployment"}
    by_name = {c["args"][c["args"].index("--served-model-name") + 1]: deployments[n] for n, c in servers.items()}
    assert set(by_name) >= {m.get("servedName") or m["id"].split("/")[1] for m in models}
    selector = {o["metadata"]["name"]: o["spec"]["template"]["spec"]["nodeSelector"] for o in by_name.values()}
    assert len({json.dumps(s, sort_keys=True) for s in selector.values()}) == 2, "two pools, two node selectors"
    assert {k: v for k, v in manifests_problems(run).items() if v} == {}
    assert [v.line() for v in policy_check.check(run) if v.mandatory] == []
    assert sorted(run.outputs["servedModelNames"]) == sorted(
        m.get("servedName") or m["id"].split("/")[1] for m in models
    )


def test_one_upload_per_checkpoint_in_the_rhoai_example() -> None:
    jobs = [o for o in k8s_objects(example_run("existing-rhoai-two-models")) if o["kind"] == "Job"]
    prefixes = sorted(
        e["value"] for job in jobs for c in containers(job) for e in c.get("env", []) if e["name"] == "PREFIX"
    )
    # Mistral in bf16 and fp8 read one checkpoint; Llama its own: two uploads, each under its own prefix.
    assert sorted(set(prefixes)) == [
        "meta-llama--Llama-3.1-8B-Instruct/main",
        "mistralai--Mistral-Small-24B-Instruct-2501/main",
    ]
    assert len({job["metadata"]["name"] for job in jobs}) == 2


def test_adding_a_model_on_a_new_pool_replaces_nothing_the_first_model_stands_on() -> None:
    first = stack_config("doks")["llm-serving:models"][0]
    pools = copy.deepcopy(TWO_DOKS_POOLS)
    pools["gpuPools"][0]["nodeCount"] = 1  # the committed pool as it is
    after = preview("doks", doks=pools, models=[first, {"id": "meta-llama/Llama-3.1-70B-Instruct",
                    "pool": "large", "tensorParallelSize": 4, "servedName": "llama-70b"}])  # fmt: skip
    assert after.error is None, after.error
    changes = diff.plan(preview("doks"), after)
    assert [f"{c.op} {c.name}" for c in changes if c.op in (diff.DELETE, diff.REPLACE) and c.stateful] == []
    created = {c.name for c in changes if c.op == diff.CREATE}
    assert {"vllm-gpu-large-pool", "vllm-vllm-llama-70b-deployment"} <= created
    assert any(c.type.endswith(":Job") for c in changes if c.op == diff.CREATE), "its own download Job"
    unchanged = {r.name for r in after.registered()} - {c.name for c in changes}
    assert {
        "vllm-vllm-deployment",
        "vllm-gpu-pool",
        "vllm-models-share",
        "vllm-model-store-weights-download",
    } <= unchanged
