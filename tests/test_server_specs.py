"""The vLLM servers' pod specs, built by pure functions from typed arguments (no engine): the flags
`vllm serve` gets, where the single-node and the Ray pods run, and what each Ray role carries."""

from __future__ import annotations

import dataclasses

import pytest

from components.conventions import DEFAULT_UID, GPU_RESOURCE
from components.kserve import InferenceServiceArgs, inference_service_body, runtime_body
from components.kserve.runtime import VllmRuntimeArgs
from components.workloads.engine import PORT, EngineFlags, vllm_args
from components.workloads.ray_vllm import (
    RayVllmServerArgs,
    RdmaPodAccess,
    check_layout,
    ray_pod_template,
    raycluster_spec,
)
from components.workloads.types import GpuPlacement, ModelSource, PodRuntime, ServerExposure
from components.workloads.vllm import VllmServerArgs, vllm_pod_spec
from components.workloads.wire import camel

ENGINE = EngineFlags(
    served_model_name="llama",
    tensor_parallel_size=8,
    max_model_len=32768,
    gpu_memory_utilization=0.92,
    dtype="bfloat16",
    extra_args=["--enable-prefix-caching"],
)
RUNTIME = PodRuntime(
    image="vllm/vllm-openai:v0.33.0",
    cpu="64",
    memory="512Gi",
    shm_size_gi=32,
    startup_timeout_seconds=3600,
    termination_grace_period_seconds=120,
)
SOURCE = ModelSource(
    model="s3://weights/llama",
    env=[{"name": "AWS_REGION", "value": "us-ashburn-1"}],
    volume_mounts=[{"name": "models", "mount_path": "/models", "read_only": True}],
    args=["--load-format", "runai_streamer"],
)
PLACEMENT = GpuPlacement(node_selector={"llm-serving.dev/pool": "gpu"})
EXPOSURE = ServerExposure(namespace="serving", api_key_secret_name="vllm-api-key", port=8000)


def ray_args(nodes: int = 2, rdma: RdmaPodAccess | None = None, **runtime) -> RayVllmServerArgs:
    return RayVllmServerArgs(
        engine=ENGINE,
        runtime=dataclasses.replace(RUNTIME, **runtime),
        exposure=EXPOSURE,
        source=SOURCE,
        placement=PLACEMENT,
        nodes=nodes,
        gpus_per_node=8,
        pipeline_parallel_size=nodes,
        dashboard_host="127.0.0.1",
        rdma=rdma,
    )


def test_vllm_flags_put_the_stores_flags_before_configs_extra_ones():
    flags = vllm_args(dataclasses.replace(ENGINE, quantization="fp8"), SOURCE, [("--pipeline-parallel-size", "2")])
    assert flags[0] == "s3://weights/llama"
    assert flags[flags.index("--port") + 1] == str(PORT)
    assert flags.index("--pipeline-parallel-size") == flags.index("--tensor-parallel-size") + 2
    assert flags[flags.index("--quantization") + 1] == "fp8"
    # The store's loader flags come first, so config's extra_args can still override them.
    assert flags[-3:] == ["--load-format", "runai_streamer", "--enable-prefix-caching"]
    assert "--quantization" not in vllm_args(ENGINE, SOURCE)


def test_kserve_gets_the_same_engine_flags_and_container_as_the_plain_server():
    """One engine shape everywhere: what `vllm serve` is told about the model, and the GPUs, probes and
    hardening of its container, are the same on a Deployment, the Ray head and KServe."""
    engine = dataclasses.replace(ENGINE, tensor_parallel_size=2, quantization="fp8")
    plain = VllmServerArgs(engine=engine, runtime=RUNTIME, exposure=EXPOSURE, source=SOURCE, placement=PLACEMENT)
    (deployment,) = vllm_pod_spec(plain, {})["containers"]
    _, isvc = inference_service_body(
        InferenceServiceArgs(namespace="ns", name="llama", runtime_name="vllm-runtime", storage_uri="s3://b/llama",
                             service_account_name="sa", engine=engine, placement=PLACEMENT, cpu=RUNTIME.cpu,
                             memory=RUNTIME.memory, startup_timeout_seconds=RUNTIME.startup_timeout_seconds)
    )  # fmt: skip
    _, runtime = runtime_body(VllmRuntimeArgs(namespace="ns", image=RUNTIME.image, vllm_version="0.33.0"))
    model, (served,) = isvc["predictor"]["model"], runtime["containers"]
    head = ray_pod_template(ray_args(), "head")["spec"]["containers"][0]

    # Deployment: `--flag value`; KServe: the runtime's `--flag=value`, after its model path, host and port.
    deployment_flags = deployment["args"][1:]
    for flag in ("--host", "--port", "--load-format"):  # the runtime's and the S3 store's own
        i = deployment_flags.index(flag)
        del deployment_flags[i : i + 2]
    assert [t for a in model["args"] for t in a.split("=", 1)] == deployment_flags
    assert served["args"] == ["/mnt/models", "--host=0.0.0.0", "--port=8080"]

    wire = camel(deployment)
    assert model["resources"] == wire["resources"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert model[probe] == wire[probe] == head[probe]
    assert served["securityContext"] == wire["securityContext"] == head["securityContext"]
    # Offline weights, no usage stats, and a user name for an arbitrary UID (vLLM asks getpass for one).
    for container in (wire, served, head):
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert {k: env.get(k) for k in ("HF_HUB_OFFLINE", "HOME", "USER", "VLLM_NO_USAGE_STATS")} == {
            "HF_HUB_OFFLINE": "1",
            "HOME": "/tmp",
            "USER": "vllm",
            "VLLM_NO_USAGE_STATS": "1",
        }, container["name"]


def test_single_node_pod_holds_its_gpus_on_a_gpu_node_as_a_fixed_uid():
    args = VllmServerArgs(
        engine=dataclasses.replace(ENGINE, tensor_parallel_size=2),
        runtime=RUNTIME,
        exposure=EXPOSURE,
        source=SOURCE,
        placement=PLACEMENT,
    )
    spec = vllm_pod_spec(args, {"app.kubernetes.io/instance": "vllm"})
    (container,) = spec["containers"]
    assert container["resources"]["limits"][GPU_RESOURCE] == "2"
    assert spec["node_selector"] == PLACEMENT.node_selector
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["security_context"]["run_as_user"] == DEFAULT_UID
    assert {"name": "AWS_REGION", "value": "us-ashburn-1"} in container["env"]


def test_vllm_servers_take_no_load_balancer_settings():
    """vLLM answers routes without its key: only the entry point is ever exposed beyond the cluster."""
    for args in (VllmServerArgs, RayVllmServerArgs):
        names = {f.name for f in dataclasses.fields(args)}
        assert not names & {"service_type", "service_annotations", "load_balancer_source_ranges"}, args


def test_only_the_ray_head_serves_and_knows_the_key():
    head = ray_pod_template(ray_args(), "head")["spec"]
    worker = ray_pod_template(ray_args(), "worker")["spec"]
    (head_container,), (worker_container,) = head["containers"], worker["containers"]
    head_env = {e["name"] for e in head_container["env"]}
    worker_env = {e["name"] for e in worker_container["env"]}
    assert {"VLLM_API_KEY", "EXPECTED_NODES", "EXPECTED_GPUS"} <= head_env
    assert not worker_env & {"VLLM_API_KEY", "EXPECTED_NODES", "EXPECTED_GPUS"}
    assert "startupProbe" in head_container and "startupProbe" not in worker_container
    assert "bash /scripts/serve.sh &" in head_container["args"][0]
    assert "scripts" in {v["name"] for v in head["volumes"]} - {v["name"] for v in worker["volumes"]}
    # The store's typed parts arrive in wire form (the RayCluster is an untyped custom resource).
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in worker_container["volumeMounts"]


def test_rdma_ray_pods_use_the_host_network_and_the_nics_others_run_non_root():
    rdma = ray_pod_template(ray_args(rdma=RdmaPodAccess()), "worker")["spec"]
    assert rdma["hostNetwork"] is True and rdma["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert {"name": "infiniband", "hostPath": {"path": "/dev/infiniband"}} in rdma["volumes"]
    assert rdma["containers"][0]["securityContext"]["capabilities"] == {"add": ["IPC_LOCK"]}
    plain = ray_pod_template(ray_args(), "worker")["spec"]
    assert "hostNetwork" not in plain
    assert plain["securityContext"]["runAsUser"] == DEFAULT_UID
    assigned = ray_pod_template(ray_args(run_as_user=None), "worker")["spec"]
    assert "runAsUser" not in assigned["securityContext"], "OpenShift assigns the UID"


@pytest.mark.parametrize("nodes", [1, 3])
def test_ray_cluster_has_a_fixed_worker_group_beyond_the_head(nodes):
    spec = raycluster_spec(ray_args(nodes))
    assert spec["headGroupSpec"]["rayStartParams"] == {"dashboard-host": "127.0.0.1", "num-gpus": "8"}
    groups = spec.get("workerGroupSpecs", [])
    assert [(g["replicas"], g["minReplicas"], g["maxReplicas"]) for g in groups] == (
        [(nodes - 1,) * 3] if nodes > 1 else []
    )


def test_ray_layout_must_use_every_gpu_once():
    check_layout(ray_args(2))
    with pytest.raises(ValueError, match="must equal nodes 3 x gpus_per_node 8"):
        check_layout(dataclasses.replace(ray_args(2), nodes=3))


def test_camel_converts_keys_recursively_and_leaves_values():
    typed = {"persistent_volume_claim": {"claim_name": "my_claim", "read_only": True}, "items": [{"key_path": "a_b"}]}
    assert camel(typed) == {
        "persistentVolumeClaim": {"claimName": "my_claim", "readOnly": True},
        "items": [{"keyPath": "a_b"}],
    }
