"""`existing.serving: kserve`: vLLM served as OpenShift AI serves models, through a KServe
ServingRuntime and one InferenceService per model reading its weights from MinIO, with OpenShift AI's
token authentication and a Route with TLS at the router."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from components.kserve import InferenceServiceArgs, inference_service_body
from components.kserve.inference_service import knative_deployment_pattern
from components.openshift import OpenShiftRouteArgs, route_spec
from components.workloads.engine import EngineFlags
from components.workloads.network_policy import policy_specs
from components.workloads.types import GpuPlacement
from policy import policies
from stacks import catalog
from stacks.builders.kserve import api_key_env, isvc_name, serving_policies_args
from stacks.builders.observability import KServeModel, kserve_scrape
from stacks.config.common import stored_weights_gb
from stacks.config.existing import ExistingStack
from stacks.config.stack import parse
from stacks.errors import ConfigError
from tests import knative
from tests.harness import default_run, example_run, k8s_object, k8s_objects, merge, preview
from tests.test_network_policies import allowed
from tools import k8s_semantics, kserve_pods, manifests, observability_summary
from tools.preview import REPO

STACK = "existing-cluster"
EXAMPLE = REPO / "tests" / "configs" / "existing-rhoai-kserve.yaml"
KNOWN = {"s3AccessKeyId": "minio-access-known", "s3SecretAccessKey": "minio-secret-known-123"}
SERVERLESS = {"deploymentMode": "Serverless", "tokenAuth": False}
"""The example under Serverless: without OpenShift AI's token auth (RawDeployment's only), vLLM checks the API key."""


def example(**overrides: Any) -> dict[str, Any]:
    """The example's config mapping without its mock `secure:` secrets, with `llm-serving:` overrides."""
    document = yaml.safe_load(EXAMPLE.read_text())["config"]
    document.pop("llm-serving:secrets")
    # `model`/`vllm` overrides go into the example's one model (as in tests/harness.py stack_config).
    first = {**overrides.pop("model", {}), **overrides.pop("vllm", {})}
    config = merge(document, {f"llm-serving:{k}": v for k, v in overrides.items()})
    models = config["llm-serving:models"]
    config["llm-serving:models"] = [merge(models[0], first), *models[1:]]
    return config


def parse_example(**overrides: Any):
    values = {k.removeprefix("llm-serving:"): v for k, v in example(**overrides).items()}
    return parse({**values, "secrets": KNOWN}, {"secrets"})


@pytest.fixture(scope="module")
def rhoai():
    run = preview(STACK, raw=example(), secrets={"secrets": KNOWN})
    assert run.error is None, run.error
    return run


def test_every_kserve_object_is_valid_against_the_v0_20_crds(rhoai):
    kinds = {o["kind"] for o in k8s_objects(rhoai)}
    assert {"ServingRuntime", "InferenceService", "Route"} <= kinds
    assert "Deployment" not in kinds, "serving kserve replaces the plain vLLM Deployment"
    assert k8s_object(rhoai, "Namespace")["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
    for api_version, kind in [("serving.kserve.io/v1alpha1", "ServingRuntime"),
                              ("serving.kserve.io/v1beta1", "InferenceService"), ("route.openshift.io/v1", "Route")]:  # fmt: skip
        assert manifests.crd_schema(api_version, kind) is not None, f"{kind}: validated against its upstream CRD"
    for obj in k8s_objects(rhoai):
        assert manifests.validate(obj) == [], obj["kind"]


def test_the_runtime_runs_the_pinned_vllm_on_port_8080_with_a_memory_shm(rhoai):
    runtime = k8s_object(rhoai, "ServingRuntime")
    assert runtime["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
    assert runtime["spec"]["supportedModelFormats"] == [{"name": "vLLM", "autoSelect": True}]
    (container,) = runtime["spec"]["containers"]
    assert container["name"] == "kserve-container" and container["image"] == catalog.VLLM_IMAGE
    assert container["command"] == ["vllm", "serve"]
    assert container["args"][0] == "/mnt/models", "the storage initializer's download directory"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert {"name": "shm", "mountPath": "/dev/shm"} in container["volumeMounts"]
    shm = next(v for v in runtime["spec"]["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Gi"}
    assert container["securityContext"]["runAsNonRoot"] is True
    assert "runAsUser" not in json.dumps(runtime), "OpenShift's restricted SCC assigns the UID"
    assert "VLLM_API_KEY" not in json.dumps(container), "token auth: the platform checks the caller"


def test_one_inference_service_reads_the_model_from_minio_on_the_l4_pool(rhoai):
    isvc = k8s_object(rhoai, "InferenceService", "mistral-small-24b-tp4")
    runtime = k8s_object(rhoai, "ServingRuntime")
    meta, predictor = isvc["metadata"], isvc["spec"]["predictor"]
    assert meta["name"] == "mistral-small-24b-tp4"
    assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert meta["annotations"]["security.opendatahub.io/enable-auth"] == "true"
    model = predictor["model"]
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["modelFormat"] == {"name": "vLLM"}
    assert model["storageUri"] == "s3://models/mistralai--Mistral-Small-24B-Instruct-2501/main"
    assert {"--tensor-parallel-size=4", "--dtype=bfloat16", "--served-model-name=mistral-small-24b-tp4"} <= set(
        model["args"]
    )
    assert model["resources"]["limits"]["nvidia.com/gpu"] == "4" == model["resources"]["requests"]["nvidia.com/gpu"]
    assert model["startupProbe"]["failureThreshold"] * model["startupProbe"]["periodSeconds"] >= 1800
    assert predictor["nodeSelector"] == {"node.kubernetes.io/instance-type": "g6.12xlarge"}, "its pool's nodes"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in predictor["tolerations"]
    assert predictor["deploymentStrategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert "runAsUser" not in predictor["securityContext"]


def test_the_predictor_asks_for_node_disk_to_hold_the_weights_the_storage_initializer_copies(rhoai):
    """KServe copies the checkpoint into an emptyDir on the node's disk: the scheduler must place the pod on a
    node with room for it (the storage initializer's own resources are the cluster's, not per model)."""
    cfg = parse_example()
    assert isinstance(cfg, ExistingStack)
    for m in cfg.models:
        isvc = k8s_object(rhoai, "InferenceService", isvc_name(m.name))
        requested = k8s_semantics.quantity(
            isvc["spec"]["predictor"]["model"]["resources"]["requests"]["ephemeral-storage"]
        )
        weights = stored_weights_gb(m)
        assert weights is not None and weights * 10**9 <= requested <= 1.2 * weights * 10**9, m.name
        (pod,) = [t for t in k8s_semantics.Plan(k8s_objects(rhoai)).templates if t.owner is isvc]
        server = next(c for c in pod.spec["containers"] if c["name"] == "kserve-container")
        assert "ephemeral-storage" not in server["resources"].get("limits", {}), "a larger copy is not evicted"


def test_the_s3_connection_reaches_the_storage_initializer_and_stays_secret(rhoai):
    isvc = k8s_object(rhoai, "InferenceService", "mistral-small-24b-fp8")
    account = k8s_object(rhoai, "ServiceAccount", isvc["spec"]["predictor"]["serviceAccountName"])
    (listed,) = account["secrets"]
    secret = k8s_object(rhoai, "Secret", listed["name"])
    assert secret["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
    assert secret["metadata"]["annotations"]["opendatahub.io/connection-type"] == "s3"
    # KServe's keys (access keys, S3_ENDPOINT, AWS_DEFAULT_REGION) and OpenShift AI's, every value a secret.
    assert set(secret["stringData"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ENDPOINT",
                                         "AWS_DEFAULT_REGION", "AWS_S3_ENDPOINT", "AWS_S3_BUCKET"}  # fmt: skip
    assert set(secret["stringData"].values()) == {"[secret]"}
    plan = json.dumps(rhoai.to_plan())
    assert KNOWN["s3AccessKeyId"] not in plan and KNOWN["s3SecretAccessKey"] not in plan


def test_the_route_reencrypts_to_the_auth_proxy_when_token_auth_is_on(rhoai):
    route = k8s_object(rhoai, "Route", "mistral-small-24b-tp4")
    assert route["spec"]["to"]["name"] == "mistral-small-24b-tp4-predictor"
    assert route["spec"]["port"] == {"targetPort": "https"}
    assert route["spec"]["tls"] == {"termination": "reencrypt", "insecureEdgeTerminationPolicy": "Redirect"}
    assert route["metadata"]["annotations"]["haproxy.router.openshift.io/timeout"] == "600s"


def test_without_token_auth_the_route_is_edge_tls_to_the_http_port():
    spec = route_spec(OpenShiftRouteArgs(namespace="ns", name="m", service_name="m-predictor", target_port="http"))
    assert spec["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    assert spec["port"] == {"targetPort": "http"} and "host" not in spec


ENGINE = EngineFlags(served_model_name="M", tensor_parallel_size=1, max_model_len=8192, gpu_memory_utilization=0.9,
                     dtype="auto")  # fmt: skip


def _isvc(**overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    args = dict(namespace="ns", name="m", runtime_name="vllm-runtime", storage_uri="s3://b/m",
                service_account_name="sa", engine=ENGINE,
                placement=GpuPlacement(node_selector={}))  # fmt: skip
    return inference_service_body(InferenceServiceArgs(**{**args, **overrides}))


def test_serverless_is_a_choice_with_knatives_progress_deadline_for_slow_loads():
    meta, spec = _isvc(deployment_mode="Serverless", startup_timeout_seconds=1800)
    assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    assert spec["predictor"]["annotations"]["serving.knative.dev/progress-deadline"] == "40m"
    assert "deploymentStrategy" not in spec["predictor"], "a Deployment strategy is RawDeployment's"


def test_token_auth_off_leaves_no_auth_annotation_and_quantization_reaches_vllm():
    meta, spec = _isvc(token_auth=False, engine=dataclasses.replace(ENGINE, quantization="fp8"))
    assert "security.opendatahub.io/enable-auth" not in meta["annotations"]
    assert "--quantization=fp8" in spec["predictor"]["model"]["args"]


def test_predictor_pods_get_an_api_token_only_for_openshift_ais_auth_proxy(rhoai):
    """checkov CKV_K8S_38 on the predictor pod KServe builds (tools/kserve_pods.py): without token auth nothing in
    it calls the API server; with it, OpenShift AI's kube-rbac-proxy does and its KServe mounts the token."""
    without = preview(STACK, raw=example(existing={"kserve": {"tokenAuth": False}}), secrets={"secrets": KNOWN})
    assert without.error is None, without.error
    for run, automount in ((without, False), (rhoai, None)):
        pods = [t for t in k8s_semantics.Plan(k8s_objects(run)).templates if t.owner["kind"] == "InferenceService"]
        assert len(pods) == 2 and {t.spec.get("automountServiceAccountToken") for t in pods} == {automount}


def test_inference_service_names_are_kserve_names():
    assert isvc_name("Mistral-Small-24B-Instruct-2501") == "mistral-small-24b-instruct-2501"
    assert isvc_name("qwen2.5_0.5b") == "qwen2-5-0-5b"
    assert isvc_name("7b-" + "x" * 80).startswith("m-7b-") and len(isvc_name("7b-" + "x" * 80)) <= 53


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        (
            {
                "modelStore": {
                    "kind": "existingClaim",
                    "claimName": "weights",
                    "endpoint": None,
                    "bucket": None,
                    "createBucket": None,
                    "scratchSizeGb": None,
                }
            },
            "llm-serving:modelStore.kind",
            "use kind s3",
        ),
        (
            {"existing": {"openshift": False, "kserve": {"tokenAuth": True}}},
            "llm-serving:existing.kserve.tokenAuth",
            "OpenShift AI",
        ),
        (
            {"existing": {"kserve": {"deploymentMode": "Knative"}}},
            "llm-serving:existing.kserve.deploymentMode",
            "RawDeployment",
        ),
        ({"existing": {"installGpuOperator": True}}, "llm-serving:existing.installGpuOperator", "OperatorHub"),
        (
            {"existing": {"kserve": SERVERLESS}, "model": {"terminationGracePeriodSeconds": 900}},
            "llm-serving:models[0].terminationGracePeriodSeconds",
            "max-revision-timeout-seconds",
        ),
        (
            {"existing": {"kserve": {"knativeNamespaces": ["istio-system"]}}},
            "llm-serving:existing.kserve.knativeNamespaces",
            "only read with deploymentMode: Serverless",
        ),
        # OpenShift AI's token auth (tokenAuth's default on OpenShift) exists in RawDeployment only.
        (
            {"existing": {"kserve": {"deploymentMode": "Serverless"}}},
            "llm-serving:existing.kserve.deploymentMode",
            "tokenAuth: false",
        ),
        ({"existing": {"serving": "deployments"}}, "llm-serving:existing.kserve", "only read with"),
        (
            {"existing": {"openshift": False, "route": {"enabled": True}, "kserve": {"tokenAuth": False}}},
            "llm-serving:existing.route",
            "OpenShift's",
        ),
    ],
)
def test_bad_kserve_input_is_one_line_naming_the_key(overrides, key, says):
    with pytest.raises(ConfigError) as error:
        parse_example(**overrides)
    message = str(error.value)
    assert "\n" not in message and key in message and says in message, message


def test_openshift_plain_deployments_get_an_edge_route_to_the_entry_point():
    run = default_run(STACK)  # the committed existing-cluster stack: OpenShift, serving deployments
    route = k8s_object(run, "Route")
    entry = next(o for o in k8s_objects(run) if o["kind"] == "Deployment" and o["metadata"]["name"] == "vllm-entry")
    ports = [p["containerPort"] for c in entry["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
    assert route["spec"]["to"] == {"kind": "Service", "name": "vllm-entry", "weight": 100}
    assert route["spec"]["port"]["targetPort"] in ports, "the entry point's port, never vLLM's own"
    assert route["spec"]["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    assert manifests.validate(route) == []


def test_token_auth_comes_with_a_client_that_may_only_get_these_inference_services(rhoai):
    names = sorted(o["metadata"]["name"] for o in k8s_objects(rhoai) if o["kind"] == "InferenceService")
    assert names == ["mistral-small-24b-fp8", "mistral-small-24b-tp4"], "one InferenceService per model"
    role = k8s_object(rhoai, "Role")
    (rule,) = role["rules"]
    assert rule["verbs"] == ["get"] and rule["resources"] == ["inferenceservices"]
    assert sorted(rule["resourceNames"]) == names
    binding = k8s_object(rhoai, "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    (subject,) = binding["subjects"]
    token = k8s_object(rhoai, "Secret", "vllm-client-token")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"]["kubernetes.io/service-account.name"] == subject["name"]
    assert "data" not in token and "stringData" not in token, "the cluster writes the token, not the stack"
    assert "tokenCommand" in rhoai.outputs and "apiKey" not in rhoai.outputs


def _policy_findings(run, validate) -> list[str]:
    found: list[str] = []
    for r in run.registered():
        if r.custom and r.type.endswith(("InferenceService", "ServingRuntime")):
            args = SimpleNamespace(resource_type=r.type, props=r.inputs, urn=r.urn, name=r.name)
            validate(args, lambda message, urn=None: found.append(message))
    return found


def test_the_policy_pack_checks_the_inference_service_as_the_vllm_server(rhoai):
    servers = [m for r in rhoai.registered() for m, _ in policies.vllm_servers(r.type, r.inputs)]
    assert [s.get("storageUri") for s in servers] == ["s3://models/mistralai--Mistral-Small-24B-Instruct-2501/main"] * 2
    assert _policy_findings(rhoai, policies.gpu_request_matches_tensor_parallel) == []
    isvc = next(r for r in rhoai.registered() if r.type == "kubernetes:serving.kserve.io/v1beta1:InferenceService"
                and r.name.endswith("-tp4-isvc"))  # the TP=4 model's  # fmt: skip
    bad = copy.deepcopy(isvc.inputs)
    bad["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"] = "1"
    found: list[str] = []
    args: Any = SimpleNamespace(resource_type=isvc.type, props=bad, urn=isvc.urn, name=isvc.name)
    policies.gpu_request_matches_tensor_parallel(args, lambda message, urn=None: found.append(message))
    assert found and "--tensor-parallel-size is 4" in found[0]
    assert _policy_findings(rhoai, policies.images_pinned) == []
    runtime = next(r for r in rhoai.registered() if r.type == "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
    latest = copy.deepcopy(runtime.inputs)
    latest["spec"]["containers"][0]["image"] = "vllm/vllm-openai:latest"
    found = []
    args: Any = SimpleNamespace(resource_type=runtime.type, props=latest, urn=runtime.urn, name=runtime.name)
    policies.images_pinned(args, lambda message, urn=None: found.append(message))
    assert found, "the runtime's image is checked like every container's"


def test_with_token_auth_only_the_auth_proxy_is_open_and_vllms_own_port_stays_in_the_namespace_and_prometheus(rhoai):
    policies_by_name = {o["metadata"]["name"]: o["spec"] for o in k8s_objects(rhoai) if o["kind"] == "NetworkPolicy"}
    assert policies_by_name["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    door = policies_by_name["allow-entry-point"]
    assert door["podSelector"] == {"matchLabels": {"component": "predictor"}}
    assert door["ingress"] == [{"ports": [{"port": 8443, "protocol": "TCP"}]}], "the kube-rbac-proxy, from anywhere"
    vllm = policies_by_name["allow-vllm-api"]["ingress"]
    scraper = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING}}}  # named on purpose
    assert vllm == [{"from": [{"podSelector": {}}, scraper], "ports": [{"port": 8080, "protocol": "TCP"}]}]


def test_without_token_auth_vllm_checks_the_stacks_api_key_and_with_it_not():
    assert api_key_env(True, "vllm-api-key") == []
    (env,) = api_key_env(False, "vllm-api-key")
    assert env["name"] == "VLLM_API_KEY" and env["valueFrom"]["secretKeyRef"]["name"] == "vllm-api-key"


def test_the_fp8_model_reads_the_same_weights_quantized_on_two_gpus(rhoai):
    fp8 = k8s_object(rhoai, "InferenceService", "mistral-small-24b-fp8")["spec"]["predictor"]["model"]
    assert {"--quantization=fp8", "--tensor-parallel-size=2", "--served-model-name=mistral-small-24b-fp8"} <= set(
        fp8["args"]
    )
    assert fp8["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert len([o for o in k8s_objects(rhoai) if o["kind"] == "Job"]) == 1, "one upload for the one checkpoint"


def test_fp8_on_one_l4_is_refused_naming_the_model():
    """Seed 004's FP8 replica on a g6.4xlarge (one 24 GB L4): 23.6 GB of FP8 weights alone exceed it."""
    one_l4 = {"name": "l4x1", "nodeSelector": {"node.kubernetes.io/instance-type": "g6.4xlarge"}, "count": 1,
              "gpusPerNode": 1, "gpuModel": "L4", "gpuMemoryGb": 24}  # fmt: skip
    document = example()
    document["llm-serving:existing"]["gpuPools"].append(one_l4)
    fp8 = document["llm-serving:models"][1]
    fp8.update(pool="l4x1", tensorParallelSize=1)
    values = {k.removeprefix("llm-serving:"): v for k, v in document.items()}
    with pytest.raises(ConfigError) as error:
        parse({**values, "secrets": KNOWN}, {"secrets"})
    message = str(error.value)
    assert "\n" not in message and "models[1]" in message and "Mistral-Small-24B" in message, message


def test_one_serving_runtime_means_one_vllm_image_for_every_model():
    document = example()
    document["llm-serving:models"][1]["image"] = "vllm/vllm-openai:v0.32.0"
    values = {k.removeprefix("llm-serving:"): v for k, v in document.items()}
    with pytest.raises(ConfigError) as error:
        parse({**values, "secrets": KNOWN}, {"secrets"})
    assert "llm-serving:models[1].image" in str(error.value) and "one ServingRuntime" in str(error.value)


def _predictor_pod_labels(isvc: dict[str, Any]) -> dict[str, str]:
    """The labels KServe v0.20.0 puts on an InferenceService's predictor pods (components/predictor.go
    buildObjectMeta: the isvc's labels, the predictor's, then serving.kserve.io/inferenceservice and
    component=predictor; reconcilers/deployment/deployment_reconciler.go copies them to the pod template)."""
    labels = {**isvc["metadata"].get("labels", {}), **isvc["spec"]["predictor"].get("labels", {})}
    return {**labels, "serving.kserve.io/inferenceservice": isvc["metadata"]["name"], "component": "predictor"}


MONITORING = "openshift-user-workload-monitoring"


@pytest.fixture(scope="module")
def monitored(rhoai):
    """The example: OpenShift's monitoring for user-defined projects (a Prometheus Operator) admitted to
    vLLM's own port on purpose (with token auth that port answers /v1 unchecked)."""
    config = example()
    assert config["llm-serving:observability"] == {"prometheusOperator": True, "namespace": MONITORING}
    assert config["llm-serving:endpoint"]["monitoringNamespace"] == MONITORING
    return rhoai


def test_without_a_namespace_named_on_purpose_token_auth_predictors_are_not_scraped():
    config = example()
    del config["llm-serving:endpoint"]["monitoringNamespace"]
    run = preview(STACK, raw=config, secrets={"secrets": KNOWN})
    assert run.error is None, run.error
    assert not [o for o in k8s_objects(run) if o["kind"] == "PodMonitor"], "Prometheus could not reach them"


def test_each_models_predictor_pods_are_scraped_on_vllms_port(monitored):
    rhoai = monitored
    isvcs = [o for o in k8s_objects(rhoai) if o["kind"] == "InferenceService"]
    monitors = [o for o in k8s_objects(rhoai) if o["kind"] == "PodMonitor"]
    runtime = k8s_object(rhoai, "ServingRuntime")["spec"]["containers"][0]
    assert len(isvcs) == len(monitors) == 2
    for obj in k8s_objects(rhoai):
        assert manifests.validate(obj) == [], obj["kind"]  # PodMonitor, PrometheusRule: the v0.93.0 CRDs
    for isvc in isvcs:
        pods = _predictor_pod_labels(isvc)
        selecting = [m for m in monitors if m["spec"]["selector"]["matchLabels"].items() <= pods.items()]
        assert len(selecting) == 1, "one PodMonitor per model, none selecting another model's pods"
        (endpoint,) = selecting[0]["spec"]["podMetricsEndpoints"]
        (port,) = [p for p in runtime["ports"] if p["name"] == endpoint["port"]]
        assert f"--port={port['containerPort']}" in runtime["args"]  # where vLLM serves /metrics
        assert pods[selecting[0]["spec"]["jobLabel"]] == isvc["metadata"]["name"], "the job names the model"
        rules = next(r for r in k8s_objects(rhoai) if r["kind"] == "PrometheusRule"
                     and r["metadata"]["name"] == selecting[0]["metadata"]["name"])  # fmt: skip
        no_replica = next(
            r["expr"] for g in rules["spec"]["groups"] for r in g["rules"] if r["alert"] == "VllmNoReadyReplica"
        )
        # KServe's RawDeployment Deployment: constants.PredictorServiceName, "<isvc>-predictor".
        assert f'deployment="{isvc["metadata"]["name"]}-predictor"' in no_replica
    # Prometheus (OpenShift's user-workload monitoring) may reach that port of the predictor pods.
    scraper = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "openshift-user-workload-monitoring"}}
    }
    admitted = [rule for p in k8s_objects(rhoai) if p["kind"] == "NetworkPolicy"
                and p["spec"]["podSelector"].get("matchLabels", {}).items() <= _predictor_pod_labels(isvcs[0]).items()
                for rule in p["spec"].get("ingress", []) if scraper in rule.get("from", [])]  # fmt: skip
    assert [p["port"] for rule in admitted for p in rule["ports"]] == [8080]


def _serving_container(runtime: dict[str, Any], isvc: dict[str, Any]) -> dict[str, Any]:
    """The predictor's kserve-container as KServe v0.20.0 writes it (tools/kserve_pods.py)."""
    pod = kserve_pods.predictor_pod(isvc, [runtime])
    assert pod is not None and not pod.problems, pod
    return pod.template["spec"]["containers"][0]


@pytest.fixture(scope="module")
def serverless():
    run = preview(STACK, raw=example(existing={"kserve": SERVERLESS}), secrets={"secrets": KNOWN})
    assert run.error is None, run.error
    return run


def test_under_serverless_knative_accepts_the_predictor_and_its_probes_find_the_port(serverless):
    runtime = k8s_object(serverless, "ServingRuntime")
    for isvc in [o for o in k8s_objects(serverless) if o["kind"] == "InferenceService"]:
        container = _serving_container(runtime, isvc)
        assert knative.webhook_errors(container) == [], "Knative's webhook would refuse the Knative Service"
        pod = knative.pod_container(container)
        names = {p["name"] for p in pod["ports"]}
        for probe in ("startupProbe", "livenessProbe"):
            port = pod[probe]["httpGet"]["port"]
            assert port in names or port == knative.DEFAULT_USER_PORT, f"{probe} names no port of the pod"


def test_in_raw_deployment_the_probes_keep_the_named_port(rhoai):
    runtime = k8s_object(rhoai, "ServingRuntime")
    (port,) = runtime["spec"]["containers"][0]["ports"]
    assert port["name"] == "http"  # KServe's raw Service port takes this name; the Route targets it
    for isvc in [o for o in k8s_objects(rhoai) if o["kind"] == "InferenceService"]:
        assert {isvc["spec"]["predictor"]["model"][p]["httpGet"]["port"] for p in
                ("startupProbe", "readinessProbe", "livenessProbe")} == {"http"}  # fmt: skip


def _revision_pod(runtime: dict[str, Any], isvc: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    """The pod of one Serverless predictor revision, as far as this program can know it: the labels and
    container KServe writes (tools/kserve_pods.py; kserve v0.20.0 ksvc_reconciler.go createKnativeService
    puts the same labels on the revision template, only networking.kserve.io/visibility disallowed by
    default), Knative's revision label and its serving container (tests/knative.py)."""
    pod = kserve_pods.predictor_pod(isvc, [runtime])
    assert pod is not None and not pod.problems, pod
    labels = {k: v for k, v in pod.template["metadata"]["labels"].items() if k != "networking.kserve.io/visibility"}
    revision = knative.revision_name(f"{isvc['metadata']['name']}-predictor", generation)
    (main, *others) = pod.template["spec"]["containers"]
    return {
        "labels": {**labels, knative.REVISION_LABEL: revision},
        "containers": [knative.pod_container(main), *others, knative.queue_proxy_container(main)],
        "target_port": knative.revision_target_port(main),
    }


@pytest.fixture(scope="module")
def serverless_monitored(serverless, monitored):
    """The example under Serverless, monitored as the example is (the `monitored` fixture checks how)."""
    return serverless


def test_under_serverless_each_pod_monitor_selects_its_revision_pods_on_vllms_port(serverless_monitored):
    run = serverless_monitored
    runtime = k8s_object(run, "ServingRuntime")
    isvcs = [o for o in k8s_objects(run) if o["kind"] == "InferenceService"]
    monitors = [o for o in k8s_objects(run) if o["kind"] == "PodMonitor"]
    assert len(isvcs) == len(monitors) == 2
    for obj in k8s_objects(run):
        assert manifests.validate(obj) == [], obj["kind"]
    for isvc in isvcs:
        pod = _revision_pod(runtime, isvc)
        selecting = [m for m in monitors if m["spec"]["selector"]["matchLabels"].items() <= pod["labels"].items()]
        assert len(selecting) == 1, "one PodMonitor per model, none selecting another model's pods"
        (endpoint,) = selecting[0]["spec"]["podMetricsEndpoints"]
        ports = {p["name"]: p["containerPort"] for c in pod["containers"] for p in c["ports"]}
        assert endpoint["port"] == knative.USER_PORT_NAME and endpoint["port"] in ports
        assert f"--port={ports[endpoint['port']]}" in runtime["spec"]["containers"][0]["args"], "vLLM's /metrics"
        assert endpoint["port"] not in knative.QUEUE_PROXY_METRICS_PORTS, "not queue-proxy's request metrics"
        # The job is the isvc's name (KServe's label), whichever pod of whichever revision answers.
        assert pod["labels"][selecting[0]["spec"]["jobLabel"]] == isvc["metadata"]["name"]
    # Prometheus (OpenShift's user-workload monitoring) may reach that port of the predictor pods.
    scraper = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING}}}
    pod = _revision_pod(runtime, isvcs[0])
    admitted = [rule for p in k8s_objects(run) if p["kind"] == "NetworkPolicy"
                and p["spec"]["podSelector"].get("matchLabels", {}).items() <= pod["labels"].items()
                for rule in p["spec"].get("ingress", []) if scraper in rule.get("from", [])]  # fmt: skip
    assert [p["port"] for rule in admitted for p in rule["ports"]] == [
        pod["containers"][0]["ports"][0]["containerPort"]
    ]


def _no_ready_replica(run, isvc: str) -> str:
    rules = next(r for r in k8s_objects(run) if r["kind"] == "PrometheusRule" and r["metadata"]["name"] == isvc)
    return next(r["expr"] for g in rules["spec"]["groups"] for r in g["rules"] if r["alert"] == "VllmNoReadyReplica")


def test_under_serverless_no_ready_replica_counts_every_revisions_deployment_of_its_model(serverless_monitored):
    names = [o["metadata"]["name"] for o in k8s_objects(serverless_monitored) if o["kind"] == "InferenceService"]
    for isvc in names:
        expr = _no_ready_replica(serverless_monitored, isvc)
        patterns = set(re.findall(r'deployment=~"([^"]+)"', expr))
        assert len(patterns) == 1 and "sum(kube_deployment_spec_replicas{" in expr
        (pattern,) = patterns
        for generation in (1, 2, 99999):
            mine = knative.deployment_name(knative.revision_name(f"{isvc}-predictor", generation))
            assert re.fullmatch(pattern, mine), mine
            for other in set(names) - {isvc}:
                theirs = knative.deployment_name(knative.revision_name(f"{other}-predictor", generation))
                assert not re.fullmatch(pattern, theirs), "another model's replicas would hide this one's outage"


@pytest.mark.parametrize("length", range(30, 54))
def test_the_deployment_pattern_exists_exactly_when_knative_does_not_hash_the_name(length):
    isvc = ("m" + "-x" * 30)[:length].rstrip("-") + "y"
    name = knative.deployment_name(knative.revision_name(f"{isvc}-predictor", 1))
    pattern = knative_deployment_pattern(isvc)
    assert (pattern is not None) == name.startswith(f"{isvc}-predictor-")
    if pattern is not None:
        assert re.fullmatch(pattern, name)


def test_a_model_name_knative_hashes_is_watched_through_its_scrape_job(serverless_monitored):
    # No scrape target up means no replica only because Knative never scales these to zero: min-scale is
    # minReplicas (kserve v0.20.0 SetAutoScalingAnnotations), models[].replicas, at least 1.
    for isvc in [o for o in k8s_objects(serverless_monitored) if o["kind"] == "InferenceService"]:
        assert isvc["spec"]["predictor"]["minReplicas"] >= 1
    with pytest.raises(ConfigError):
        parse_example(model={"replicas": 0})
    long_name = "mistral-small-24b-instruct-2501-bf16-tp4"
    assert knative_deployment_pattern(long_name) is None
    target, watched = kserve_scrape(KServeModel("m", long_name), "Serverless", "http")
    assert watched.kind == "scrapeJob" and watched.name == long_name
    assert target.job_label == "serving.kserve.io/inferenceservice" and target.port_name == "user-port"
    assert kserve_scrape(KServeModel("m", "short"), "RawDeployment", "http")[1].name == "short-predictor"


def test_the_preview_says_what_is_scraped_under_serverless(serverless_monitored):
    lines = observability_summary.scrape_lines(serverless_monitored)
    assert len(lines) == 2 and all("port user-port /metrics" in line for line in lines)
    assert any("serving.kserve.io/inferenceservice=mistral-small-24b-fp8" in line for line in lines)


@pytest.mark.parametrize("example_name", [None, "existing-kserve-serverless"])
def test_under_serverless_only_the_knative_namespaces_reach_queue_proxy_and_vllms_port_stays_closed(
    serverless, example_name
):
    """Knative's activator and ingress send requests to queue-proxy's serving port, its autoscaler scrapes
    queue-proxy's metrics port (tests/knative.py); queue-proxy reaches vLLM inside the pod. The policies of
    the example under Serverless, and of the Serverless example, evaluated over the pod Knative builds for
    each predictor revision."""
    if example_name is not None:
        serverless = example_run(example_name)
    runtime = k8s_object(serverless, "ServingRuntime")
    namespace = next(o for o in k8s_objects(serverless) if o["kind"] == "NetworkPolicy")["metadata"]["namespace"]
    for isvc in [o for o in k8s_objects(serverless) if o["kind"] == "InferenceService"]:
        pod = _revision_pod(runtime, isvc)
        labels, serving = pod["labels"], pod["target_port"]
        pod_ports = {p["containerPort"] for c in pod["containers"] for p in c["ports"]}
        vllm_port = pod["containers"][0]["ports"][0]["containerPort"]
        assert {serving, knative.AUTOSCALER_SCRAPE_PORT, vllm_port} <= pod_ports
        client = {"app": "anything"}
        assert allowed(serverless, knative.SYSTEM_NAMESPACES["activator"], client, labels, serving)
        assert allowed(serverless, knative.SYSTEM_NAMESPACES["ingress"], client, labels, serving)
        assert allowed(
            serverless, knative.SYSTEM_NAMESPACES["autoscaler"], client, labels, knative.AUTOSCALER_SCRAPE_PORT
        )
        knative_namespaces = set(knative.SYSTEM_NAMESPACES.values())
        for port in sorted(pod_ports | {knative.QUEUE_ADMIN_PORT}):
            admitted = {ns for ns in (*knative_namespaces, "default", "istio-system", MONITORING, namespace)
                        if allowed(serverless, ns, client, labels, port)}  # fmt: skip
            expected = {
                serving: knative_namespaces,
                knative.AUTOSCALER_SCRAPE_PORT: knative_namespaces,
                vllm_port: {namespace, MONITORING},  # the namespace's pods and Prometheus, as on the plain path
            }.get(port, set())
            assert admitted == expected, f"port {port}"
    policies_by_name = {
        o["metadata"]["name"]: o["spec"] for o in k8s_objects(serverless) if o["kind"] == "NetworkPolicy"
    }
    assert "allow-entry-point" not in policies_by_name, "no port of the predictor is open to everyone"


def test_an_istio_ingress_is_admitted_by_naming_its_namespace():
    knative_namespaces = ["knative-serving", "knative-serving-ingress", "istio-system"]
    cfg = parse_example(existing={"kserve": {**SERVERLESS, "knativeNamespaces": knative_namespaces}})
    assert isinstance(cfg, ExistingStack)
    spec: Any = policy_specs(serving_policies_args(cfg, "private-ai", False, None))["allow-knative"]
    (rule,) = spec["ingress"]
    names = [peer["namespace_selector"]["match_labels"]["kubernetes.io/metadata.name"] for peer in rule["from_"]]
    assert names == knative_namespaces


PREDICTOR_FEATURES = frozenset({"kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations"})
"""The Knative config-features flags a predictor's pod fields need (GPU pool placement), both enabled by the
KnativeServing OpenShift AI documents (Red Hat OpenShift AI Self-Managed 2.10, "Creating a Knative Serving
instance"); docs/existing-cluster.md says so. Not kubernetes.podspec-securitycontext: that one it leaves off."""


def test_under_serverless_knatives_webhook_accepts_the_predictors_pod_fields(serverless):
    runtime = k8s_object(serverless, "ServingRuntime")
    for isvc in [o for o in k8s_objects(serverless) if o["kind"] == "InferenceService"]:
        pod = kserve_pods.predictor_pod(isvc, [runtime])
        assert pod is not None and not pod.problems, pod
        spec = pod.template["spec"]  # KServe's ksvc template spec (ksvc_reconciler.go: PodSpec: *podSpec)
        assert knative.pod_spec_errors(spec, PREDICTOR_FEATURES) == []
        refused = {e.split(": ")[1].split(" ")[0] for e in knative.pod_spec_errors(spec)}
        assert refused <= {"nodeSelector", "tolerations"}, "only what a feature flag allows"
        (server,) = spec["containers"]  # still non-root with the default seccomp profile, from its container
        assert server["securityContext"]["runAsNonRoot"] is True
        assert server["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_under_serverless_the_drain_lasts_the_models_grace_period(serverless):
    """Knative makes the pod's terminationGracePeriodSeconds the revision's timeoutSeconds (knative/serving
    v0.48.1 pkg/reconciler/revision/resources/deploy.go BuildPodSpec) and drains through queue-proxy
    (deploy.go userLifecycle: the serving container's preStop waits on queue-proxy's /wait-for-drain); KServe
    writes the predictor's `timeout` there (kserve v0.20.0 ksvc_reconciler.go createKnativeService)."""
    graces = {m["servedName"]: m.get("terminationGracePeriodSeconds", 120) for m in example()["llm-serving:models"]}
    for isvc in [o for o in k8s_objects(serverless) if o["kind"] == "InferenceService"]:
        predictor = isvc["spec"]["predictor"]
        grace = graces[isvc["metadata"]["annotations"]["openshift.io/display-name"]]
        assert predictor["timeout"] == grace
        assert "terminationGracePeriodSeconds" not in predictor, "Knative's webhook refuses it"
