"""The existing-cluster stack: the same workloads on a cluster someone already runs (seed 002's
OpenShift on ESXi, seed 004's RHOAI with MinIO), creating no cloud resources."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.harness import all_of, config_error, containers, default_run, env_of, k8s_object, merge, one, preview
from tools.preview import REPO

STACK = "existing-cluster"
MINIO_KNOWN = {"s3AccessKeyId": "minio-access-known", "s3SecretAccessKey": "minio-secret-known-123"}


def minio_config(**overrides):
    """The MinIO example's config with overrides; `vllm`/`model` ones go into its model (as in tests/harness.py)."""
    document = yaml.safe_load((REPO / "tests" / "configs" / "existing-minio.yaml").read_text())
    first = {**overrides.pop("model", {}), **overrides.pop("vllm", {})}
    config = merge(document["config"], {f"llm-serving:{k}": v for k, v in overrides.items()})
    config["llm-serving:models"] = [merge(config["llm-serving:models"][0], first)]
    return config


@pytest.fixture(scope="module")
def openshift():
    return default_run(STACK)


@pytest.fixture(scope="module")
def minio():
    run = preview(STACK, raw=minio_config(), secrets={"secrets": MINIO_KNOWN})
    assert run.error is None, run.error
    return run


def test_no_cloud_resources_only_kubernetes(openshift, minio):
    for run in (openshift, minio):
        clouds = [r.type for r in run.registered() if r.custom and r.type.split(":")[0] in {"oci", "digitalocean"}]
        assert clouds == []
        provider = one(run, "providers:kubernetes")
        assert provider.parent == one(run, "existing:Cluster").urn
        assert {r.provider for r in run.registered() if r.type.startswith("kubernetes:")} == {provider.urn}


def test_kubeconfig_from_a_secret_stays_secret():
    kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: known-kube-token}}]\n"
    run = preview(STACK, existing={"kubeconfig": "secret"}, secrets={"secrets": {"kubeconfig": kubeconfig}})
    assert run.error is None, run.error
    assert one(run, "providers:kubernetes").inputs["kubeconfig"] == "[secret]"
    assert "known-kube-token" not in json.dumps(run.to_plan())


def test_ambient_kubeconfig_sets_none(openshift):
    assert "kubeconfig" not in one(openshift, "providers:kubernetes").inputs


def test_openshift_ray_cluster_spans_16_gpus_over_tcp(openshift):
    ray = k8s_object(openshift, "RayCluster")
    workers = ray["spec"]["workerGroupSpecs"][0]
    assert workers["replicas"] == 7, "8 nodes: the head and 7 workers, one pod per node"
    for container in containers(ray):
        if container["name"] == "vllm" or "nvidia.com/gpu" in container["resources"].get("limits", {}):
            assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
            env = env_of(container)
            assert env["NCCL_IB_DISABLE"] == "1" and env["NCCL_SOCKET_IFNAME"] == "eth0"
    for template in [ray["spec"]["headGroupSpec"]["template"], workers["template"]]:
        pod = template["spec"]
        assert not pod.get("hostNetwork"), "restricted SCC: no host network"
        assert all("hostPath" not in v for v in pod.get("volumes", []))
        assert "runAsUser" not in pod["securityContext"], "the SCC assigns the UID"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    script = k8s_object(openshift, "ConfigMap", "vllm-ray-scripts")
    serve = "\n".join(script["data"].values())
    assert "--tensor-parallel-size 2" in serve or "--tensor-parallel-size=2" in serve
    assert "--pipeline-parallel-size 8" in serve or "--pipeline-parallel-size=8" in serve


def test_openshift_download_job_runs_without_a_fixed_uid(openshift):
    job = k8s_object(openshift, "Job")
    assert "runAsUser" not in job["spec"]["template"]["spec"]["securityContext"]
    volume = job["spec"]["template"]["spec"]["volumes"][0]
    assert volume["persistentVolumeClaim"]["claimName"] == "vllm-model-storage"


def test_tensor_parallel_across_all_16_gpus_per_the_seeds_note():
    run = preview(STACK, vllm={"tensorParallelSize": 16}, ray={"pipelineParallelSize": 1})
    assert run.error is None, run.error
    serve = "\n".join(k8s_object(run, "ConfigMap", "vllm-ray-scripts")["data"].values())
    assert "16" in serve


def test_kuberay_operator_optional():
    run = preview(STACK, ray={"installOperator": False})
    assert all_of(run, "helm.sh/v3:Release") == []


def test_single_node_replicas_without_ray():
    run = preview(
        STACK, ray=None, vllm={"tensorParallelSize": 2, "replicas": 8}, model={"id": "meta-llama/Llama-3.1-8B-Instruct"}
    )
    assert run.error is None, run.error
    deployment = k8s_object(run, "Deployment", "vllm")
    assert deployment["spec"]["replicas"] == 8
    pod = deployment["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"]
    assert next(containers(deployment))["resources"]["limits"]["nvidia.com/gpu"] == "2"


def test_static_nfs_share_as_model_store():
    run = preview(
        STACK,
        modelStore={"kind": "nfs", "server": "nas.example.internal", "path": "/exports/models", "claimName": None},
    )
    assert run.error is None, run.error
    pv = k8s_object(run, "PersistentVolume")
    assert pv["spec"]["nfs"] == {"server": "nas.example.internal", "path": "/exports/models"}


def test_minio_store_streams_weights_with_secret_keys(minio):
    plan = json.dumps(minio.to_plan())
    for value in MINIO_KNOWN.values():
        assert value not in plan
    deployment = k8s_object(minio, "Deployment", "vllm")
    vllm = next(containers(deployment))
    assert vllm["args"][0].startswith("s3://models/")
    assert "runai_streamer" in vllm["args"]
    env = env_of(vllm)
    assert env["RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING"] == "0"
    assert "secretKeyRef" in env["AWS_SECRET_ACCESS_KEY"]
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}


def test_minio_config_installs_the_gpu_operator_and_a_load_balancer(minio):
    release = next(r for r in all_of(minio, "helm.sh/v3:Release") if r.inputs["chart"] == "gpu-operator")
    assert release.inputs["version"] == "v25.10.1"
    assert release.inputs["repositoryOpts"]["repo"] == "https://helm.ngc.nvidia.com/nvidia"
    assert k8s_object(minio, "Service", "vllm")["spec"]["type"] == "ClusterIP", "vLLM only behind the entry point"
    service = k8s_object(minio, "Service", "vllm-entry")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]


def test_fp8_on_one_l4_is_checked_by_the_capacity_planner():
    # Seed 004 serves Mistral-Small-24B in FP8 on one L4; 24B parameters at one byte each do not fit 24 GB x 0.9.
    run = preview(STACK, raw=minio_config(existing={"gpuNodes": {"gpusPerNode": 1}}, vllm={"tensorParallelSize": 1, "quantization": "fp8", "dtype": "auto"}),
                  secrets={"secrets": MINIO_KNOWN})  # fmt: skip
    message = config_error(run)
    assert "GB" in message


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"vllm": {"tensorParallelSize": 4}}, "llm-serving:ray.pipelineParallelSize"),
        (
            {"vllm": {"tensorParallelSize": 3}, "ray": {"pipelineParallelSize": 1}},
            "llm-serving:ray.pipelineParallelSize",
        ),
        ({"ray": {"workerReplicas": 3}}, "llm-serving:ray.workerReplicas"),
        ({"existing": {"installGpuOperator": True}}, "llm-serving:existing.installGpuOperator"),
        ({"existing": {"kubeconfig": "secret"}}, "llm-serving:secrets.kubeconfig"),
        ({"modelStore": {"kind": "nfs", "claimName": None}}, "llm-serving:modelStore.server"),
        ({"doks": {"region": "nyc2"}}, "llm-serving"),
    ],
)
def test_bad_existing_cluster_config_is_rejected(overrides, key):
    message = config_error(preview(STACK, **overrides))
    assert message.startswith(f"invalid stack config: {key}"), message
