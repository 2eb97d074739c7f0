"""Pod memory that fits the load: a memory-backed /dev/shm, one vLLM process per GPU and eager
safetensors loading all live in the pod's memory cgroup, so the default is derived from them, a
configured value below it is a config error, and so is a pod the GPU node cannot hold."""

from __future__ import annotations

import pytest

from stacks import capacity
from stacks.config import stack as config
from stacks.config.stack import parse
from tests.harness import KUBERNETES_STACKS, config_error, containers, default_run, k8s_objects, preview
from tools.preview import load_stack_config

H100X8_70B = {
    "doks": {"gpuPool": {"size": "gpu-h100x8-640gb"}},
    "model": {"id": "meta-llama/Llama-3.1-70B-Instruct"},
    "vllm": {"tensorParallelSize": 8},
}


def gpu_memory_limits(run) -> list[float]:
    found = []
    for obj in k8s_objects(run):
        for c in containers(obj):
            limits = c.get("resources", {}).get("limits", {})
            if "nvidia.com/gpu" in limits:
                assert c["resources"]["requests"]["memory"] == limits["memory"], "request = limit: no overcommit"
                found.append(capacity.quantity_gib(limits["memory"]))
    return found


def parsed(stack: str):
    values = {k.split(":", 1)[1]: v for k, v in load_stack_config(stack).items() if k.startswith("llm-serving:")}
    values.pop("secrets", None)
    return parse(values, set())


def test_a_tp8_pod_gets_room_for_shm_and_eight_eager_loads():
    run = preview("doks", **H100X8_70B)
    assert run.error is None, run.error
    (memory,) = gpu_memory_limits(run)
    shm = 16
    five_gb_files = 8 * 2 * 5e9 / 2**30  # every worker holds one 5 GB shard's bytes and tensors
    assert memory >= shm + five_gb_files + 8 * capacity.WORKER_GIB
    single = preview(
        "doks", **{**H100X8_70B, "vllm": {"tensorParallelSize": 1}, "model": {"id": "Qwen/Qwen2.5-7B-Instruct"}}
    )
    assert memory > gpu_memory_limits(single)[0], "memory grows with tensor parallelism"


def test_shm_counts_against_the_memory_limit():
    base = gpu_memory_limits(preview("doks"))[0]
    bigger = gpu_memory_limits(preview("doks", vllm={"shmSizeGi": 48}))[0]
    assert bigger - base == 48 - 16


def test_streaming_from_s3_needs_no_eager_load_room():
    root = parsed("oci-h100-rdma")
    assert root.model_store.kind == "s3"
    assert config.pod_memory(root, root.models[0]).load_gib == 0
    doks = parsed("doks")
    assert config.pod_memory(doks, doks.models[0]).load_gib > 0, "NFS weights load eagerly"


def test_too_little_memory_is_a_config_error_before_any_resource():
    message = config_error(preview("doks", **{**H100X8_70B, "vllm": {"tensorParallelSize": 8, "memory": "32Gi"}}))
    assert "llm-serving:models[0].memory: 32Gi is less than" in message and "/dev/shm" in message


def test_a_ray_pod_with_too_little_memory_is_a_config_error():
    message = config_error(preview("oci-h100-rdma", ray={"memory": "16Gi"}))
    assert "llm-serving:ray.memory: 16Gi is less than" in message


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"vllm": {"shmSizeGi": 230}}, "llm-serving:models[0].shmSizeGi"),  # derived memory beyond the node
        ({"vllm": {"memory": "235Gi"}}, "llm-serving:models[0].memory"),  # 240 GiB Droplet, minus what the node keeps
    ],
)
def test_more_than_the_gpu_node_can_allocate_is_a_config_error(overrides, key):
    message = config_error(preview("doks", **overrides))
    assert message.startswith(f"invalid stack config: {key}: ") and "allocatable" in message


def test_node_reservation_leaves_less_than_the_node_and_grows_with_it():
    for node in (240, 480, 1920):
        assert 0 < capacity.reserved_gib(node) < node * 0.1
    assert capacity.reserved_gib(1920) > capacity.reserved_gib(240)


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_every_stack_gives_its_gpu_pods_what_they_need(stack):
    root = parsed(stack)
    model = root.models[0]
    plan = config.plan_of(root, model)
    need = config.pod_memory(root, model, plan).needed_gib
    limits = gpu_memory_limits(default_run(stack))
    assert limits and all(limit >= need for limit in limits)
    if plan is not None and plan.node_memory_gib is not None:
        assert all(limit <= plan.node_memory_gib - capacity.reserved_gib(plan.node_memory_gib) for limit in limits)
