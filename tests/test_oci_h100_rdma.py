"""The oci-h100-rdma stack: RDMA workers in both modes, their IAM, KubeRay + vLLM across nodes with the
per-shape NCCL env, the S3 model store (OCI Object Storage and any S3-compatible endpoint), the TP x PP
arithmetic, and S3 credentials that stay secret."""

from __future__ import annotations

import base64
import hashlib
import json

import pulumi
import pytest

from components.workloads.s3_model_store import S3ModelStore, S3ModelStoreArgs
from components.workloads.types import ModelDownload
from stacks import catalog
from tests.harness import (
    all_of,
    config_error,
    containers,
    default_run,
    env_of,
    k8s_object,
    k8s_objects,
    one,
    preview,
)
from tools import manifests
from tools.engine import run_program
from tools.mocks import CloudMocks

STACK = "oci-h100-rdma"
MODES = ["clusterNetwork", "computeCluster"]
RDMA_PLUGINS = {"Compute HPC RDMA Authentication", "Compute HPC RDMA Auto-Configuration"}
MINIO = {"kind": "s3", "endpoint": "http://minio.minio.svc:9000", "region": "us-east-1", "bucket": "models",
         "createBucket": True, "keyUserId": None}  # fmt: skip
S3_KEYS = {"s3AccessKeyId": "AKIAKNOWNACCESSKEY01", "s3SecretAccessKey": "known-s3-secret-key-value-xyz"}


def run_mode(mode: str):
    if mode == "clusterNetwork":
        return default_run(STACK)
    return _compute_cluster_run()


_cache: dict[str, object] = {}


def _compute_cluster_run():
    if "cc" not in _cache:
        run = preview(STACK, rdma={"mode": "computeCluster"})
        assert run.error is None, run.error
        _cache["cc"] = run
    return _cache["cc"]


def gpu_containers(run):
    cluster = k8s_object(run, "RayCluster", "vllm")
    found = [c for c in containers(cluster) if "nvidia.com/gpu" in c.get("resources", {}).get("limits", {})]
    assert len(found) == 2, "one head and one worker group template, each holding 8 GPUs"
    return found


# ---------------------------------------------------------------------------------------------
# Both modes preview; every manifest, the RayCluster included, is schema-valid
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_both_rdma_modes_preview_and_all_manifests_are_schema_valid(mode):
    run = run_mode(mode)
    assert run.error is None
    objects = k8s_objects(run)
    assert {"RayCluster", "Job", "Service", "Secret", "ConfigMap", "Namespace"} <= {o["kind"] for o in objects}
    for obj in objects:
        assert manifests.validate(obj) == [], (obj["kind"], obj["metadata"]["name"])
    assert run.outputs["rdmaMode"] == mode


def test_the_raycluster_is_validated_against_the_kuberay_crd():
    assert manifests.crd_schema("ray.io/v1", "RayCluster") is not None
    broken = json.loads(json.dumps(k8s_object(default_run(STACK), "RayCluster")))
    del broken["spec"]["workerGroupSpecs"][0]["minReplicas"]
    assert any("minReplicas" in p for p in manifests.validate(broken))


# ---------------------------------------------------------------------------------------------
# Cluster network mode: instance configuration, agent plugins, cloud-init, deletion order, IAM
# ---------------------------------------------------------------------------------------------


def test_instance_configuration_enables_the_rdma_agent_plugins_and_joins_oke():
    run = default_run(STACK)
    config = one(run, "InstanceConfiguration")
    launch = config.inputs["instanceDetails"]["launchDetails"]
    assert config.inputs["instanceDetails"]["instanceType"] == "compute"
    assert launch["shape"] == "BM.GPU.H100.8"
    plugins = {p["name"]: p["desiredState"] for p in launch["agentConfig"]["pluginsConfigs"]}
    assert plugins == catalog.RDMA_AGENT_PLUGINS
    assert all(plugins[name] == "ENABLED" for name in RDMA_PLUGINS)
    assert launch["agentConfig"]["areAllPluginsDisabled"] is False
    source = launch["sourceDetails"]
    assert source["sourceType"] == "image" and source["imageId"].startswith("ocid1.image.")
    assert source["bootVolumeSizeInGbs"] == "512" and source["bootVolumeVpusPerGb"] == "10"
    assert launch["createVnicDetails"]["assignPublicIp"] is False
    # Self-managed join: the private API endpoint (IP, no port) and the CA, plus our labels and GPU taint.
    metadata = launch["metadata"]
    script = base64.b64decode(metadata["user_data"]).decode()
    assert metadata["apiserver_host"] == "10.0.0.3"
    # What the script does with them is executed in tests/test_rdma_bootstrap.py.
    assert "APISERVER_HOST=10.0.0.3" in script
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule" in script
    assert "cluster-network=vllm-rdma-rdma" in script


def test_cluster_network_has_one_pool_of_node_count_in_one_ad_and_is_deleted_before_its_config():
    run = default_run(STACK)
    network = one(run, "ClusterNetwork")
    config = one(run, "InstanceConfiguration")
    policy = one(run, "policy:Policy")
    pools = network.inputs["instancePools"]
    assert len(pools) == 1 and pools[0]["size"] == 2
    placement = network.inputs["placementConfiguration"]
    assert placement["availabilityDomain"] == "Uocm:US-ASHBURN-AD-1"
    assert placement["primaryVnicSubnets"]["subnetId"].startswith("ocid1.subnet.")
    # terraform-oci-oke#939: the cluster network depends on its instance configuration (so it is deleted
    # first), and on the IAM policy (nodes must be allowed to join when they boot).
    assert config.urn in network.dependencies
    assert policy.urn in network.dependencies


def test_self_managed_nodes_get_a_dynamic_group_and_a_cluster_join_policy_for_this_cluster_only():
    run = default_run(STACK)
    group = one(run, "DynamicGroup")
    assert group.inputs["compartmentId"].startswith("ocid1.tenancy.")
    assert group.inputs["matchingRule"] == ("ANY {instance.compartment.id = '" + run_compartment(run) + "'}")
    policy = one(run, "policy:Policy")
    cluster_id = run.outputs["clusterId"]
    assert cluster_id.startswith("ocid1.cluster.")
    # Least privilege: the dynamic group is the whole compartment, so the grant names the one cluster.
    assert policy.inputs["statements"] == [
        f"Allow dynamic-group {group.inputs['name']} to {{CLUSTER_JOIN}} in compartment id {run_compartment(run)} "
        f"where target.cluster.id = '{cluster_id}'"
    ]
    assert run.outputs["rdmaPolicyStatements"] == policy.inputs["statements"]


def run_compartment(run) -> str:
    return one(run, "ContainerEngine/cluster:Cluster").inputs["compartmentId"]


def test_iam_as_a_prerequisite_creates_nothing_but_exports_the_statements():
    run = preview(STACK, rdma={"iam": {"create": False, "tenancyId": None}})
    assert run.error is None, run.error
    assert not all_of(run, "DynamicGroup") and not all_of(run, "policy:Policy")
    assert "{CLUSTER_JOIN}" in run.outputs["rdmaPolicyStatements"][0]


def test_iam_goes_through_a_home_region_provider():
    run = preview(STACK, rdma={"iam": {"homeRegion": "us-phoenix-1"}})
    assert run.error is None, run.error
    provider = one(run, "pulumi:providers:oci")
    assert provider.inputs["region"] == "us-phoenix-1"
    for iam in [one(run, "DynamicGroup"), one(run, "policy:Policy"), one(run, "CustomerSecretKey")]:
        assert iam.provider == provider.urn


# ---------------------------------------------------------------------------------------------
# Compute cluster mode: an OKE managed node pool placed in a compute cluster
# ---------------------------------------------------------------------------------------------


def test_compute_cluster_mode_places_a_managed_node_pool_in_the_compute_cluster():
    run = _compute_cluster_run()
    assert not all_of(run, "ClusterNetwork") and not all_of(run, "InstanceConfiguration")
    compute = one(run, "ComputeCluster")
    assert compute.inputs["availabilityDomain"] == "Uocm:US-ASHBURN-AD-1"
    pool = one(run, "nodePool:NodePool", "rdma-rdma")
    details = pool.inputs["nodeConfigDetails"]
    assert details["computeClusterId"].startswith("ocid1.computecluster.")
    assert details["size"] == 2
    assert [p["availabilityDomain"] for p in details["placementConfigs"]] == ["Uocm:US-ASHBURN-AD-1"]
    assert pool.inputs["nodeShape"] == "BM.GPU.H100.8"
    labels = {label["key"]: label["value"] for label in pool.inputs["initialNodeLabels"]}
    assert labels["cluster-network"] == "vllm-rdma-rdma"
    script = base64.b64decode(pool.inputs["nodeMetadata"]["user_data"]).decode()
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule" in script
    assert "oke_init_script" in script


def test_compute_cluster_mode_grants_node_pools_compute_cluster_launch():
    run = _compute_cluster_run()
    assert not all_of(run, "DynamicGroup")
    policy = one(run, "policy:Policy")
    assert policy.inputs["statements"] == [
        f"Allow any-user to {{COMPUTE_CLUSTER_LAUNCH_INSTANCE}} in compartment id {run_compartment(run)} "
        "where request.principal.type = 'nodepool'"
    ]


# ---------------------------------------------------------------------------------------------
# Multi-node vLLM on Ray
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_gpu_container_gets_the_shape_nccl_env_and_rdma_access(mode):
    run = run_mode(mode)
    cluster = k8s_object(run, "RayCluster", "vllm")
    for container in gpu_containers(run):
        env = env_of(container)
        for key, value in catalog.NCCL_ENV["BM.GPU.H100.8"].items():
            assert env[key] == value, (container["name"], key)
        assert env["NCCL_DEBUG"] == "WARN"
        assert env["VLLM_HOST_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
        assert "IPC_LOCK" in container["securityContext"]["capabilities"]["add"]
        assert {"name": "infiniband", "mountPath": "/dev/infiniband"} in container["volumeMounts"]
    templates = [cluster["spec"]["headGroupSpec"]["template"], cluster["spec"]["workerGroupSpecs"][0]["template"]]
    for template in templates:
        pod = template["spec"]
        assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["infiniband"]["hostPath"]["path"] == "/dev/infiniband"
        assert volumes["shm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "32Gi"}
        assert pod["nodeSelector"]["cluster-network"] == "vllm-rdma-rdma"
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_the_nccl_table_is_read_per_shape():
    run = preview(STACK, rdma={"shape": "BM.GPU.H200.8"}, ray={"ncclDebug": "INFO"})
    assert run.error is None, run.error
    for container in gpu_containers(run):
        env = env_of(container)
        assert env["NCCL_IB_HCA"] == catalog.NCCL_ENV["BM.GPU.H200.8"]["NCCL_IB_HCA"]
        assert env["NCCL_DEBUG"] == "INFO"


def test_ray_cluster_is_one_head_and_nodes_minus_one_workers_serving_tp8_pp2():
    run = default_run(STACK)
    spec = k8s_object(run, "RayCluster", "vllm")["spec"]
    (group,) = spec["workerGroupSpecs"]
    assert group["replicas"] == group["minReplicas"] == group["maxReplicas"] == 1
    assert group["rayStartParams"] == {"num-gpus": "8"}
    assert spec["headGroupSpec"]["rayStartParams"]["num-gpus"] == "8"
    assert spec["enableInTreeAutoscaling"] is False
    script = k8s_object(run, "ConfigMap", "vllm-ray-scripts")["data"]["serve.sh"]
    serve = script.split("exec vllm serve ", 1)[1]
    assert serve.startswith("s3://vllm-rdma-models/meta-llama--Llama-3.1-405B-Instruct/main ")
    for flag in ["--tensor-parallel-size 8", "--pipeline-parallel-size 2", "--distributed-executor-backend ray",
                 "--load-format runai_streamer"]:  # fmt: skip
        assert flag in serve
    # vLLM starts only once every node's GPUs are in the Ray cluster.
    head = next(c for c in gpu_containers(run) if c["name"] == "ray-head")
    assert env_of(head)["EXPECTED_GPUS"] == "16" and env_of(head)["EXPECTED_NODES"] == "2"
    assert script.index("until python3") < script.index("exec vllm serve")
    assert "bash /scripts/serve.sh &" in head["args"][0] and "$KUBERAY_GEN_RAY_START_CMD" in head["args"][0]


def test_kuberay_operator_is_the_official_chart_at_a_pinned_version():
    release = one(default_run(STACK), "helm.sh/v3:Release")
    assert release.inputs["chart"] == "kuberay-operator"
    assert release.inputs["repositoryOpts"]["repo"] == "https://ray-project.github.io/kuberay-helm/"
    assert release.inputs["version"] == catalog.KUBERAY_CHART["version"]
    raycluster = one(default_run(STACK), "ray.io/v1:RayCluster")
    assert release.urn in raycluster.dependencies


def test_openai_api_is_a_load_balancer_on_the_entry_point_to_the_head_with_the_allow_list_and_api_key():
    run = default_run(STACK)
    door = k8s_object(run, "Service", "vllm-entry")
    assert door["spec"]["type"] == "LoadBalancer"
    assert door["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    service = k8s_object(run, "Service", "vllm")
    assert service["spec"]["type"] == "ClusterIP", "vLLM's own port is not exposed"
    assert service["spec"]["selector"]["llm-serving.dev/ray-node"] == "head"
    # The door's router reaches the replica (the head) through the model's headless Service.
    replicas = k8s_object(run, "Service", "vllm-entry-replicas-0")["spec"]
    assert replicas["clusterIP"] == "None" and replicas["selector"]["llm-serving.dev/ray-node"] == "head"
    head = next(c for c in gpu_containers(run) if c["name"] == "ray-head")
    assert env_of(head)["VLLM_API_KEY"] == {"secretKeyRef": {"name": "vllm-api-key", "key": "api-key"}}
    assert k8s_object(run, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_pipeline_parallel_defaults_to_the_node_count():
    run = preview(STACK, rdma={"nodeCount": 3}, ray={"pipelineParallelSize": None, "workerReplicas": None})
    assert run.error is None, run.error
    assert k8s_object(run, "RayCluster")["spec"]["workerGroupSpecs"][0]["replicas"] == 2
    assert "--pipeline-parallel-size 3" in k8s_object(run, "ConfigMap", "vllm-ray-scripts")["data"]["serve.sh"]
    assert one(run, "ClusterNetwork").inputs["instancePools"][0]["size"] == 3


# ---------------------------------------------------------------------------------------------
# Config errors: TP x PP arithmetic, worker replicas, RDMA-only shapes, store and IAM rules
# ---------------------------------------------------------------------------------------------

BAD = [
    ({"ray": {"pipelineParallelSize": 1}}, "ray.pipelineParallelSize", "= 8 GPUs"),
    ({"vllm": {"tensorParallelSize": 4}}, "ray.pipelineParallelSize", "must be equal"),
    ({"rdma": {"nodeCount": 3}}, "ray.pipelineParallelSize", "rdma.nodeCount 3"),
    ({"ray": {"workerReplicas": 2}}, "ray.workerReplicas", "use 1"),
    ({"rdma": {"nodeCount": 3}, "ray": {"pipelineParallelSize": 3}}, "ray.workerReplicas", "use 2"),
    (
        {"vllm": {"tensorParallelSize": 16}, "ray": {"pipelineParallelSize": 1}},
        "models[0].tensorParallelSize",
        "8 GPUs",
    ),
    ({"vllm": {"replicas": 2}}, "models[0].replicas", "use 1"),
    ({"rdma": {"shape": "VM.GPU.A10.1"}}, "rdma.shape", "no RDMA"),
    ({"rdma": {"shape": "BM.GPU.A10.4"}}, "rdma.shape", "no RDMA"),
    ({"rdma": {"shape": "BM.GPU.L40S.4"}}, "rdma.shape", "no NCCL parameters"),
    ({"rdma": {"nodeCount": 1}}, "rdma.nodeCount", "greater than or equal to 2"),
    ({"rdma": {"imageId": None}}, "rdma.imageId", "required"),
    ({"rdma": {"iam": {"tenancyId": None}}}, "rdma.iam.tenancyId", "tenancy OCID"),
    (
        {
            "modelStore": {
                "kind": "nfs",
                "keyUserId": None,
                "scratchSizeGb": None,
                "uploadTimeoutMinutes": None,
                "versioning": None,
            }
        },
        "modelStore.kind",
        "supports s3",
    ),
    ({"modelStore": MINIO}, "secrets.s3AccessKeyId", "secrets.s3SecretAccessKey"),
    ({"modelStore": {"keyUserId": None}}, "secrets.s3AccessKeyId", "keyUserId"),
    ({"endpoint": {"kind": "gateway"}}, "endpoint.kind", "load balancer"),
    ({"oke": {"gpuPool": {"shape": "VM.GPU.A10.1"}}}, "oke.gpuPool", "rdma workers"),
    ({"ray": {"memory": "lots"}}, "ray.memory", "pattern"),
]


@pytest.mark.parametrize(("overrides", "key", "hint"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)])
def test_bad_rdma_config_is_one_line_naming_the_key(overrides, key, hint):
    message = config_error(preview(STACK, **overrides))
    assert message.startswith(f"invalid stack config: llm-serving:{key}: "), message
    assert hint in message, message


def test_rdma_sections_belong_to_platform_oke_rdma():
    message = config_error(preview("doks", rdma={"imageId": "x"}))
    assert "llm-serving:rdma" in message and "belongs to another platform" in message


# ---------------------------------------------------------------------------------------------
# The S3 model store: OCI Object Storage, and any S3-compatible endpoint
# ---------------------------------------------------------------------------------------------


def test_oci_bucket_is_private_with_a_customer_secret_key_and_the_compat_endpoint():
    run = default_run(STACK)
    bucket = one(run, "ObjectStorage/bucket:Bucket")
    assert bucket.inputs["accessType"] == "NoPublicAccess"
    assert bucket.inputs["versioning"] == "Disabled"
    assert bucket.inputs["namespace"] == "axofflinens01"  # looked up (tools/mocks_oci_rdma.py)
    key = one(run, "CustomerSecretKey")
    assert key.inputs["userId"].startswith("ocid1.user.")
    secret = k8s_object(run, "Secret", "model-store-s3")
    assert secret["stringData"] == {
        k: "[secret]" for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    job = k8s_object(run, "Job")
    download, upload = job["spec"]["template"]["spec"]["containers"]
    assert upload["image"] == catalog.S3_UPLOADER_IMAGE and download["image"] == catalog.DOWNLOADER_IMAGE
    assert ".upload-complete" in upload["args"][0]
    check = job["spec"]["template"]["spec"]["initContainers"][0]
    assert "head-object" in check["args"][0] and "SKIP" in check["args"][0]
    # The weights stream through a small node-local emptyDir (tests/test_staging.py runs the scripts).
    scratch = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}["scratch"]
    assert scratch == {"name": "scratch", "emptyDir": {"sizeLimit": "100Gi"}}


def test_versioned_bucket_with_your_own_keys_creates_no_customer_secret_key():
    run = preview(STACK, modelStore={"keyUserId": None, "versioning": "Enabled"}, secrets={"secrets": S3_KEYS})
    assert run.error is None, run.error
    assert one(run, "ObjectStorage/bucket:Bucket").inputs["versioning"] == "Enabled"
    assert not all_of(run, "CustomerSecretKey")


def test_vllm_streams_path_style_from_the_bucket_with_credentials_from_the_secret():
    run = default_run(STACK)
    for container in gpu_containers(run):
        env = env_of(container)
        assert env["RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING"] == "0"
        assert env["AWS_REGION"] == "us-ashburn-1"
        for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[key] == {"secretKeyRef": {"name": "model-store-s3", "key": key}}


def test_minio_endpoint_uses_the_same_component_with_your_keys():
    run = preview(STACK, modelStore=MINIO, secrets={"secrets": S3_KEYS})
    assert run.error is None, run.error
    assert not all_of(run, "ObjectStorage/bucket:Bucket") and not all_of(run, "CustomerSecretKey")
    job = k8s_object(run, "Job")
    check = job["spec"]["template"]["spec"]["initContainers"][0]
    assert "create-bucket" in check["args"][0]
    assert env_of(check)["BUCKET"] == "models" and env_of(check)["AWS_DEFAULT_REGION"] == "us-east-1"
    assert run.outputs["modelUri"].startswith("s3://models/")
    for container in gpu_containers(run):
        assert env_of(container)["AWS_REGION"] == "us-east-1"


def test_s3_model_store_component_alone_against_digitalocean_spaces():
    """The component needs nothing from OCI: endpoint + keys in, ModelSource out."""
    holder: dict[str, S3ModelStore] = {}

    def program() -> None:
        store = S3ModelStore(
            "spaces",
            S3ModelStoreArgs(
                namespace="serving",
                endpoint_url="https://nyc3.digitaloceanspaces.com",
                region="nyc3",
                bucket="weights",
                access_key_id=pulumi.Output.secret("DO00KNOWNSPACESKEY"),
                secret_access_key=pulumi.Output.secret("known-spaces-secret"),
                model=ModelDownload(
                    model_id="Qwen/Qwen2.5-0.5B-Instruct",
                    model_revision="main",
                    model_directory="Qwen--Qwen2.5-0.5B-Instruct/main",
                    downloader_image=catalog.DOWNLOADER_IMAGE,
                    huggingface_hub_version=catalog.HUGGINGFACE_HUB_VERSION,
                ),
                uploader_image=catalog.S3_UPLOADER_IMAGE,
            ),
        )
        holder["store"] = store
        pulumi.export("model", store.source.model)

    run = run_program(program, project="llm-serving", stack="test", config={}, secret_keys=[], mocks=CloudMocks())
    assert run.error is None, run.error
    assert run.outputs["model"] == "s3://weights/Qwen--Qwen2.5-0.5B-Instruct/main"
    plan = json.dumps(run.to_plan())
    assert "DO00KNOWNSPACESKEY" not in plan and "known-spaces-secret" not in plan
    for obj in k8s_objects(run):
        assert manifests.validate(obj) == [], obj["kind"]
    assert holder["store"].source.args == ["--load-format", "runai_streamer"]


# ---------------------------------------------------------------------------------------------
# S3 credentials stay secret
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["oci", "minio"])
def test_s3_credentials_never_appear_in_plan_manifests_or_outputs(store, tmp_path):
    known = {**S3_KEYS, "hfToken": "hf_known_token_rdma", "apiKey": "sk-known-rdma-api-key-0123456789"}
    overrides = {"modelStore": MINIO} if store == "minio" else {"modelStore": {"keyUserId": None}}
    run = preview(STACK, secrets={"secrets": known}, **overrides)
    assert run.error is None, run.error
    plan = json.dumps(run.to_plan())
    manifests.write(k8s_objects(run), tmp_path)
    rendered = "".join(p.read_text() for p in tmp_path.iterdir())
    for value in known.values():
        assert value not in plan and value not in rendered
    assert "minio.minio.svc" not in rendered  # the endpoint is in the Secret only, masked


def test_the_created_customer_secret_key_is_secret():
    run = default_run(STACK)
    key = one(run, "CustomerSecretKey")
    # The mocked secret key (tools/mocks_oci_rdma.py) must not leak into anything recorded.
    value = hashlib.sha256(f"secret/{key.name}".encode()).hexdigest()[:44]
    assert value not in json.dumps(run.to_plan())
    assert run.outputs["apiKey"] == "[secret]" and run.outputs["kubeconfig"] == "[secret]"


# ---------------------------------------------------------------------------------------------
# OCIR: a vLLM image from Oracle's registry works on oke-rdma as on oke
# ---------------------------------------------------------------------------------------------

OCIR_IMAGE = "iad.ocir.io/axaxnpcrorw5/vllm-openai:v0.33.0"


def test_ocir_pull_secret_reaches_every_ray_pod():
    run = preview(
        STACK,
        secrets={"secrets": {"hfToken": "hf_known_token_value", "ocirAuthToken": "an-auth-token"}},
        oke={"ocir": {"tenancyNamespace": "axaxnpcrorw5", "username": "jane@example.com"}},
        vllm={"image": OCIR_IMAGE},
    )
    assert run.error is None, run.error
    secret = k8s_object(run, "Secret", "ocir-pull")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    cluster = k8s_object(run, "RayCluster", "vllm")["spec"]
    templates = [cluster["headGroupSpec"]["template"], *[g["template"] for g in cluster["workerGroupSpecs"]]]
    assert [t["spec"]["imagePullSecrets"] for t in templates] == [[{"name": "ocir-pull"}]] * len(templates)
    assert {c["image"] for c in containers(k8s_object(run, "RayCluster", "vllm"))} == {OCIR_IMAGE}
    assert "an-auth-token" not in str(run.to_plan())


def test_an_ocir_image_without_the_login_is_refused_on_oke_rdma_too():
    message = config_error(preview(STACK, vllm={"image": OCIR_IMAGE}))
    assert "oke.ocir" in message


# ---------------------------------------------------------------------------------------------
# GPU enablement follows the image family in config (rdma.imageOs)
# ---------------------------------------------------------------------------------------------

UBUNTU_RDMA_IMAGE = (
    "Canonical-Ubuntu-22.04-2026.02.28-0-KERNEL-ORACLE-6.8-DOCA-OFED-3.4.0-GPU-595-OPEN-CUDA-13.2-2026.07.13-0"
)
OL_RDMA_IMAGE = "Oracle-Linux-8.10-2025.10.23-0-RDMA-GPU-imported"


def addons(run) -> dict[str, object]:
    return {a.inputs["addonName"]: a for a in all_of(run, "addon:Addon")}


@pytest.mark.parametrize("mode", MODES)
def test_ubuntu_gpu_images_get_the_gpu_operator_with_its_driver_off_and_toolkit_on(mode):
    run = run_mode(mode)
    found = addons(run)
    # oci-hpc-oke terraform/oke-addons.tf: NodeFeatureDiscovery, then NvidiaGpuOperator; no plugin add-on.
    assert set(found) == {"NodeFeatureDiscovery", "NvidiaGpuOperator"}
    operator = found["NvidiaGpuOperator"]
    assert found["NodeFeatureDiscovery"].urn in operator.dependencies
    settings = {c["key"]: c["value"] for c in operator.inputs["configurations"]}
    assert settings["driver.enabled"] == "false" and settings["toolkit.enabled"] == "true"
    assert settings["devicePlugin.enabled"] == "true" and settings["disableNvidiaGpuPlugin"] == "true"
    assert operator.inputs["version"] == "v25.10.1"
    # And OKE's device plugin add-on keeps off these nodes (oci-hpc-oke terraform/oke-workers.tf node_labels).
    if mode == "clusterNetwork":
        launch = one(run, "InstanceConfiguration").inputs["instanceDetails"]["launchDetails"]
        assert "oci.oraclecloud.com/disable-gpu-device-plugin=true" in launch["metadata"]["oke-initial-node-labels"]
        assert (
            "oci.oraclecloud.com/disable-gpu-device-plugin=true"
            in base64.b64decode(launch["metadata"]["user_data"]).decode()
        )
    else:
        labels = one(run, "nodePool:NodePool", "rdma-pool").inputs["initialNodeLabels"]
        assert {"key": "oci.oraclecloud.com/disable-gpu-device-plugin", "value": "true"} in labels


def test_oracle_linux_gpu_images_get_okes_device_plugin_add_on():
    from tools.mocks_oci import image_ocid

    run = preview(STACK, rdma={"imageOs": "oracleLinux", "imageId": image_ocid(OL_RDMA_IMAGE)})
    assert run.error is None, run.error
    assert set(addons(run)) == {"NvidiaGpuPlugin"}
    labels = one(run, "InstanceConfiguration").inputs["instanceDetails"]["launchDetails"]["metadata"]
    assert "disable-gpu-device-plugin" not in labels["oke-initial-node-labels"]


def test_the_image_os_in_config_must_be_the_images():
    from tools.mocks_oci import image_ocid

    message = config_error(preview(STACK, rdma={"imageOs": "oracleLinux", "imageId": image_ocid(UBUNTU_RDMA_IMAGE)}))
    assert "rdma.imageOs: is oracleLinux but rdma.imageId" in message and "set it to ubuntu" in message
    assert preview(STACK, rdma={"imageId": image_ocid(UBUNTU_RDMA_IMAGE)}).error is None


def test_an_rdma_image_that_does_not_exist_is_refused():
    missing = "ocid1.image.oc1.iad.aaaaaaaanosuchrdmaimage00000000000000000000000000000000000000000"
    assert "rdma.imageId: image " in config_error(preview(STACK, rdma={"imageId": missing}))
