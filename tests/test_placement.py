"""Several models on GPU pools: each pool's nodes must hold its models' replicas (pure, no engine)."""

from __future__ import annotations

import json

import pytest

from stacks import catalog
from stacks.config.lora import LoraConfig, lora_args
from stacks.placement import Demand, Pool, check_pool, fit_line, pack, resource_suffix

L4X4 = Pool(name="l4x4", key="existing.gpuPools[1]", shape="g6.12xlarge", gpus_per_node=4, nodes=1)
A10X2 = Pool(name="a10x2", key="oke.gpuPools[0]", shape="VM.GPU.A10.2", gpus_per_node=2, nodes=2)


def model(name: str, replicas: int, gpus: int, key: str = "models[0]") -> Demand:
    return Demand(model=name, key=key, replicas=replicas, gpus_per_replica=gpus)


def test_two_models_share_a_node_when_its_gpus_suffice() -> None:
    # Two TP=2 models on one 4-GPU node: no anti-affinity between different models.
    placed = pack(L4X4, [model("a", 1, 2), model("b", 1, 2, "models[1]")])
    assert placed == {"models[0]": [0], "models[1]": [0]}


def test_one_replica_of_a_model_per_node() -> None:
    # 2 replicas x 1 GPU fit in the 4 GPUs of one node by count, but not one per node.
    with pytest.raises(ValueError) as err:
        check_pool(L4X4, [model("mistral-fp8", 2, 1)])
    message = str(err.value)
    assert message.startswith("models[0].replicas: model mistral-fp8 asks for 2 replicas")
    assert "pool l4x4" in message and "\n" not in message


def test_tensor_parallel_beyond_the_pools_node_names_model_and_pool() -> None:
    with pytest.raises(
        ValueError, match=r"^models\[1\]\.tensorParallelSize: model big needs 4 GPUs per replica but pool a10x2"
    ):
        check_pool(A10X2, [model("small", 1, 1), model("big", 1, 4, "models[1]")])


def test_models_that_fit_alone_but_not_together_name_the_one_that_overflows() -> None:
    # a10x2: 2 nodes x 2 GPUs. big takes both GPUs of both nodes; small has nowhere left.
    demands = [model("big", 2, 2), model("small", 1, 1, "models[1]")]
    with pytest.raises(ValueError) as err:
        check_pool(A10X2, demands)
    message = str(err.value)
    assert message.startswith("models[1].replicas: model small (1 replica(s) x 1 GPU(s)) does not fit pool a10x2")
    assert "together 5 GPUs" in message and "oke.gpuPools[0]" in message
    assert fit_line(A10X2, demands).endswith("= 5 of 4 GPUs (DOES NOT FIT)")


def test_the_biggest_replicas_are_placed_first() -> None:
    # In config order, a and b would take 2 GPUs of each node and leave no node for c's 4; the biggest
    # replica first puts c on one node and a and b together on the other.
    pool = Pool(name="l4x4", key="existing.gpuPools[1]", shape="g6.12xlarge", gpus_per_node=4, nodes=2)
    demands = [model("a", 1, 2), model("b", 1, 2, "models[1]"), model("c", 1, 4, "models[2]")]
    assert pack(pool, demands) == {"models[2]": [0], "models[0]": [1], "models[1]": [1]}
    assert fit_line(pool, demands) == (
        "Pool l4x4: 2 x g6.12xlarge (4 GPU(s) per node): a 1 x 2 GPU(s), b 1 x 2 GPU(s), c 1 x 4 GPU(s) "
        "= 8 of 8 GPUs (fits)"
    )


def test_a_small_models_replicas_on_every_node_leave_no_room_for_a_whole_node_replica() -> None:
    # 4 GPUs of 4 by count, but small's 2 replicas (one per node) leave no node with 2 free GPUs.
    with pytest.raises(ValueError, match=r"^models\[1\]\.replicas: model big .* does not fit pool a10x2"):
        check_pool(A10X2, [model("small", 2, 1), model("big", 1, 2, "models[1]")])


def test_a_ray_replica_takes_whole_nodes() -> None:
    rdma = Pool(name="gpu", key="rdma", shape="BM.GPU.H100.8", gpus_per_node=8, nodes=2, nodes_key="rdma.nodeCount")
    ray = Demand(model="llama", key="models[0]", replicas=1, gpus_per_replica=16, nodes_per_replica=2)
    assert pack(rdma, [ray]) == {"models[0]": [0, 1]}
    with pytest.raises(ValueError, match=r"needs 1 x 3 whole node\(s\) but rdma.nodeCount is 2"):
        check_pool(rdma, [Demand(model="llama", key="models[0]", replicas=1, gpus_per_replica=24, nodes_per_replica=3)])


def test_resource_suffix_is_a_dns_label() -> None:
    assert resource_suffix("Mistral-Small-24B-Instruct-2501.FP8") == "mistral-small-24b-instruct-2501-fp8"
    assert resource_suffix("__") == "model"


def test_lora_flags_are_vllm_flags_and_its_module_format() -> None:
    lora = LoraConfig.model_validate(
        {"adapters": [{"name": "sql", "id": "org/sql-lora"}, {"name": "chat", "id": "org/chat-lora", "revision": "v2"}]}
    )
    args = lora_args("base", lora, ["/models/org--sql-lora/main", "/models/org--chat-lora/v2"])
    flags = [a for a in args if a.startswith("--")]
    assert flags == ["--enable-lora", "--max-lora-rank", "--max-loras", "--lora-modules"]
    for flag in flags:
        assert flag in catalog.VLLM_FLAGS, flag
    assert catalog.VLLM_FLAGS["--enable-lora"] == "none"
    assert args[args.index("--max-loras") + 1] == "2"  # default: every adapter in one batch
    # One --lora-modules followed by every adapter (LoRAParserAction replaces the list per occurrence);
    # JSON items (they contain a comma) with LoRAModulePath's fields, the base as parent in /v1/models.
    modules = args[args.index("--lora-modules") + 1 :]
    assert [json.loads(m) for m in modules] == [
        {"name": "sql", "path": "/models/org--sql-lora/main", "base_model_name": "base"},
        {"name": "chat", "path": "/models/org--chat-lora/v2", "base_model_name": "base"},
    ]
    assert all("," in m for m in modules)
    assert lora_args("base", None, []) == []


def test_lora_adapter_names_are_unique() -> None:
    with pytest.raises(ValueError, match=r"adapters\[1\]\.name: 'sql' is already the name of another adapter"):
        LoraConfig.model_validate({"adapters": [{"name": "sql", "id": "a/b"}, {"name": "sql", "id": "c/d"}]})
