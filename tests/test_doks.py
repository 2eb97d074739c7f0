"""The doks stack does everything the DigitalOcean "vLLM on DOKS with Managed NFS" reference
architecture does, in one stack, and hardens what it leaves open."""

from __future__ import annotations

import re
import runpy

import pytest

from stacks.builders.doks import _release, pick_version
from stacks.errors import ConfigError
from tests.harness import all_of, config_error, containers, default_run, env_of, k8s_object, one, preview
from tools.engine import config_map, run_program
from tools.mocks import CloudMocks
from tools.mocks_do import DOKS_OFFERED_VERSIONS, FETCHED_TOKEN_PREFIX
from tools.preview import REPO, load_stack_config

STACK = "doks"


@pytest.fixture(scope="module")
def run():
    return default_run(STACK)


def test_vpc_cluster_and_pools_follow_config(run):
    vpc = one(run, "vpc:Vpc")
    assert vpc.inputs == {**vpc.inputs, "region": "nyc2", "ipRange": "10.200.0.0/22"}

    cluster = one(run, "kubernetesCluster:KubernetesCluster")
    assert cluster.inputs["region"] == "nyc2"
    assert cluster.inputs["version"] == max(DOKS_OFFERED_VERSIONS, key=_release), "the newest DOKS offers"
    assert cluster.inputs["clusterSubnet"] == "172.16.0.0/20"
    assert cluster.inputs["serviceSubnet"] == "192.168.0.0/22"
    assert cluster.inputs["ha"] is False
    assert cluster.inputs["destroyAllAssociatedResources"] is True, "LBs and volumes go with the cluster"
    assert vpc.urn in cluster.dependencies, "the cluster is placed in the stack's VPC"
    system = cluster.inputs["nodePool"]
    assert system["autoScale"] is True and (system["minNodes"], system["maxNodes"]) == (2, 3)
    assert system["labels"] == {"llm-serving.dev/pool": "system"}


def test_gpu_pool_is_tainted_and_labelled(run):
    pool = one(run, "kubernetesNodePool:KubernetesNodePool")
    assert pool.inputs["size"] == "gpu-h100x1-80gb"
    assert pool.inputs["nodeCount"] == 1
    assert {"key": "nvidia.com/gpu", "value": "", "effect": "NoSchedule"} in pool.inputs["taints"]
    assert pool.inputs["labels"] == {"llm-serving.dev/pool": "gpu"}


# ---------------------------------------------------------------------------------------------
# Kubernetes version: the newest DOKS offers, or the newest patch of a configured minor
# ---------------------------------------------------------------------------------------------


def test_a_configured_minor_takes_its_newest_patch_and_pins_upgrades_to_config():
    run = preview(STACK, doks={"kubernetesVersion": "1.34"})
    cluster = one(run, "kubernetesCluster:KubernetesCluster")
    assert cluster.inputs["version"] == max((v for v in DOKS_OFFERED_VERSIONS if v.startswith("1.34.")), key=_release)
    assert cluster.ignore_changes == [], "a configured version is applied (an upgrade) when it changes"


def test_the_default_version_is_kept_after_create(run):
    # "Newest offered" moves; a routine `pulumi up` must not upgrade the cluster because DOKS offers more.
    assert one(run, "kubernetesCluster:KubernetesCluster").ignore_changes == ["version"]


def test_a_minor_doks_no_longer_offers_is_a_config_error_before_any_resource():
    message = config_error(preview(STACK, doks={"kubernetesVersion": "1.33"}))
    assert message.startswith("invalid stack config: llm-serving:doks.kubernetesVersion: DOKS does not offer")
    assert "1.35" in message, "says what is offered"


def test_version_pick_is_by_release_not_by_string_order():
    offered = ["1.34.10-do.0", "1.34.9-do.3", "1.35.0-do.0"]
    assert pick_version(offered, "1.34", gateway=True) == "1.34.10-do.0"
    assert pick_version(offered, None, gateway=True) == "1.35.0-do.0"
    with pytest.raises(ConfigError, match=r"DOKS >= 1\.33"):
        pick_version(["1.32.5-do.0"], None, gateway=True)
    assert pick_version(["1.32.5-do.0"], None, gateway=False) == "1.32.5-do.0"


# ---------------------------------------------------------------------------------------------
# Credentials: fetched on every run, never a stale kubeconfig in state
# ---------------------------------------------------------------------------------------------


class _Recording(CloudMocks):
    """The mocked cloud, plus what the program asked of it (invokes) and gave it (unmasked inputs)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.created: dict[str, dict] = {}

    def call(self, args):
        result = super().call(args)
        self.calls.append((args.token, dict(args.args)))
        return result

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        self.created[args.typ] = state
        return resource_id, state


def test_the_kubernetes_provider_uses_credentials_fetched_on_this_run():
    mocks = _Recording()
    values, secret_keys = config_map("llm-serving", load_stack_config(STACK))
    run = run_program(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        project="llm-serving", stack=STACK, config=values, secret_keys=secret_keys, mocks=mocks,
    )  # fmt: skip
    assert run.error is None, run.error
    cluster = mocks.created["digitalocean:index/kubernetesCluster:KubernetesCluster"]
    reads = [args for token, args in mocks.calls if token.endswith("getKubernetesCluster")]
    assert [r["name"] for r in reads] == [cluster["name"]], "the cluster is read again on every run"
    secret = mocks.created["pulumi:providers:kubernetes"]["kubeconfig"]  # a secret, as the wire carries it
    kubeconfig = secret["value"]
    assert kubeconfig != cluster["kubeConfigs"][0]["rawConfig"], "the kubeconfig stored with the cluster expires"
    assert f"token: {FETCHED_TOKEN_PREFIX}" in kubeconfig
    # Fresh credentials update the provider; only another cluster replaces it (and everything on it).
    record = one(run, "providers:kubernetes")
    assert record.inputs["clusterIdentifier"] == run.outputs["clusterId"]
    assert record.inputs["kubeconfig"] == "[secret]"


def test_surge_upgrades_are_off_unless_asked_for(run):
    # A GPU quota has no spare node to surge into (the reference defaults surge_upgrade = false).
    assert one(run, "kubernetesCluster:KubernetesCluster").inputs["surgeUpgrade"] is False
    surging = preview(STACK, doks={"surgeUpgrade": True})
    assert one(surging, "kubernetesCluster:KubernetesCluster").inputs["surgeUpgrade"] is True


def test_ha_control_plane_and_api_allow_list_by_config():
    run = preview(
        STACK, doks={"haControlPlane": True, "apiAllowedCidrs": ["203.0.113.0/24"], "apiOpenToInternet": None}
    )
    cluster = one(run, "kubernetesCluster:KubernetesCluster")
    assert cluster.inputs["ha"] is True
    assert cluster.inputs["controlPlaneFirewall"] == {"enabled": True, "allowedAddresses": ["203.0.113.0/24"]}


def test_nfs_share_lives_in_the_vpc(run):
    share = one(run, "nfs:Nfs")
    vpc = one(run, "vpc:Vpc")
    assert share.inputs["region"] == "nyc2"
    assert share.inputs["size"] == 1000
    assert vpc.urn in share.dependencies
    assert share.retain_on_delete is False


def test_model_store_can_survive_destroy():
    run = preview(STACK, modelStore={"retainOnDelete": True})
    assert one(run, "nfs:Nfs").retain_on_delete is True


def test_kubernetes_provider_is_the_clusters_child_and_used_by_every_object(run):
    provider = one(run, "providers:kubernetes")
    cluster_component = one(run, "doks:Cluster")
    assert provider.parent == cluster_component.urn
    assert provider.inputs["kubeconfig"] == "[secret]"
    k8s_resources = [r for r in run.registered() if r.type.startswith("kubernetes:")]
    assert k8s_resources, "the stack deploys Kubernetes objects"
    assert {r.provider for r in k8s_resources} == {provider.urn}


def test_persistent_volume_points_at_the_share(run):
    pv = k8s_object(run, "PersistentVolume")
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["nfs"]["server"] == "10.200.0.2"
    assert re.fullmatch(r"/\d+/[0-9a-f-]{36}", pv["spec"]["nfs"]["path"])
    # The reference architecture's pv.yaml sets no mount options; nothing sourced says the share takes nconnect.
    assert pv["spec"].get("mountOptions", []) == []
    pvc = k8s_object(run, "PersistentVolumeClaim")
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    assert pvc["spec"]["storageClassName"] == ""
    assert pvc["metadata"]["namespace"] == "vllm"


def test_download_job_runs_once_on_the_system_pool(run):
    job = k8s_object(run, "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-serving.dev/pool": "system"}, "overlaps GPU node provisioning"
    assert "tolerations" not in pod
    (container,) = containers(job)
    script = container["args"][0]
    assert ".download-complete" in script and "exit 0" in script, "a finished model is skipped"
    assert "hf download" in script and "--local-dir" in script
    env = env_of(container)
    assert env["MODEL_ID"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert env["MODEL_DIR"] == "Qwen--Qwen2.5-0.5B-Instruct/main"
    assert not container["image"].endswith(":latest")


def test_a_new_model_or_revision_gets_a_new_job_and_directory(run):
    other = preview(
        STACK, model={"id": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "7ae557604adf67be50417f59c2c2f167def9a775"}
    )
    old, new = k8s_object(run, "Job"), k8s_object(other, "Job")
    assert old["metadata"]["name"] != new["metadata"]["name"]
    assert env_of(next(containers(new)))["MODEL_DIR"].endswith("/7ae557604adf67be50417f59c2c2f167def9a775")


def test_hf_token_secret_is_optional_and_wired_when_given(run):
    assert [o for o in all_of(run, "core/v1:Secret") if o.inputs["metadata"]["name"] == "hf-token"] == []
    gated = preview(STACK, secrets={"secrets": {"hfToken": "hf_test"}})
    hf_secret = k8s_object(gated, "Secret", "hf-token")
    assert hf_secret["stringData"] == {"token": "[secret]"}
    env = env_of(next(containers(k8s_object(gated, "Job"))))
    assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "hf-token", "key": "token"}}


def test_vllm_deployment_is_hardened(run):
    deployment = k8s_object(run, "Deployment", "vllm")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (vllm,) = containers(deployment)
    args = vllm["args"]

    assert vllm["image"] == "vllm/vllm-openai:v0.33.0"
    assert vllm["command"] == ["vllm", "serve"]
    assert args[0] == "/models/Qwen--Qwen2.5-0.5B-Instruct/main"
    flags = dict(zip(args[1::2], args[2::2], strict=False))
    assert flags["--served-model-name"] == "Qwen2.5-0.5B-Instruct"
    assert flags["--max-model-len"] == "8192"
    assert flags["--gpu-memory-utilization"] == "0.9"
    assert flags["--safetensors-load-strategy"] == "eager", "sequential reads over NFS"
    assert "--api-key" not in args, "the key comes from a Secret, never the command line"

    env = env_of(vllm)
    assert env["VLLM_API_KEY"] == {"secretKeyRef": {"name": "vllm-api-key", "key": "api-key"}}
    assert env["HF_HUB_OFFLINE"] == "1"

    assert vllm["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["nodeSelector"] == {"llm-serving.dev/pool": "gpu"}

    startup = vllm["startupProbe"]
    assert startup["httpGet"]["path"] == "/health"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800, "room for a large model to load"
    assert vllm["readinessProbe"]["httpGet"]["path"] == "/health"
    assert vllm["livenessProbe"]["httpGet"]["path"] == "/health"

    drain = vllm["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert "vllm:num_requests_running" in drain and "vllm:num_requests_waiting" in drain
    assert pod["terminationGracePeriodSeconds"] == 120
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}

    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert vllm["securityContext"]["allowPrivilegeEscalation"] is False
    shm = next(v for v in pod["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"]["medium"] == "Memory"
    assert {"name": "shm", "mountPath": "/dev/shm"} in vllm["volumeMounts"]
    models = next(m for m in vllm["volumeMounts"] if m["name"] == "models")
    assert models["readOnly"] is True


def test_vllm_waits_for_the_download_and_the_gpu_pool(run):
    deployment = one(run, "apps/v1:Deployment", "vllm-vllm")
    assert one(run, "batch/v1:Job").urn in deployment.dependencies
    # A dependency on a component reaches the engine as its resources' URNs.
    assert one(run, "kubernetesNodePool:KubernetesNodePool").urn in deployment.dependencies


def test_quantization_and_replicas_by_config():
    run = preview(
        STACK,
        doks={"gpuPool": {"nodeCount": 3}},
        model={"id": "Qwen/Qwen2.5-72B-Instruct"},
        vllm={"replicas": 3, "quantization": "fp8"},
    )
    deployment = k8s_object(run, "Deployment", "vllm")
    assert deployment["spec"]["replicas"] == 3
    args = next(containers(deployment))["args"]
    assert args[args.index("--quantization") + 1] == "fp8"
    assert one(run, "kubernetesNodePool:KubernetesNodePool").inputs["nodeCount"] == 3


def test_pdb_service_gateway_and_route(run):
    pdb = k8s_object(run, "PodDisruptionBudget", "vllm")
    assert pdb["spec"]["maxUnavailable"] == 1
    service = k8s_object(run, "Service", "vllm")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == 8000
    gateway = k8s_object(run, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "cilium"
    route = k8s_object(run, "HTTPRoute")
    rule = route["spec"]["rules"][0]
    assert rule["backendRefs"] == [{"name": "vllm-entry", "port": 8000}], (
        "the Gateway reaches vLLM only through the entry point"
    )
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}], "/metrics stays in-cluster"
    assert route["spec"]["parentRefs"][0]["name"] == gateway["metadata"]["name"]


def test_outputs_tell_the_user_how_to_call_the_endpoint(run):
    out = run.outputs
    assert out["servedModelName"] == "Qwen2.5-0.5B-Instruct"
    assert out["namespace"] == "vllm"
    assert out["nfsHost"] == "10.200.0.2"
    assert out["nfsMountPath"].startswith("/")
    assert out["clusterName"] and out["clusterId"]
    assert out["endpoint"].endswith("/v1")
    assert out["curlModels"].startswith("curl -s ") and "/v1/models" in out["curlModels"]
    assert "pulumi stack output apiKey --show-secrets" in out["curlModels"]
    assert out["apiKey"] == "[secret]"
    assert "kubeconfig" not in out, "a kubeconfig in state goes stale when its token expires"
    assert out["kubeconfigCommand"] == f"doctl kubernetes cluster kubeconfig save {out['clusterName']}"
    assert "kubectl get gateway" in out["gatewayAddressCommand"]
