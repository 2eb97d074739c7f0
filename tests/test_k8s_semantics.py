"""What a real API server and its controllers would reject or never run, beyond the schemas: every
stack's plan passes every rule, and every rule catches a known-bad object."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests import harness
from tests.harness import STACKS, default_run, example_config, example_run, k8s_objects, preview, stack_config
from tools import k8s_semantics
from tools.k8s_semantics import Obj

NS = "serving"
LABELS = {"app.kubernetes.io/name": "vllm"}


def external_objects(stack: str, config: dict[str, Any] | None = None) -> dict[k8s_semantics.Ref, str]:
    """Objects a stack (or `config`) refers to without creating them, from the config keys that name them."""
    config = config if config is not None else stack_config(stack)
    namespace = config.get("llm-serving:namespace", "vllm")
    store = config.get("llm-serving:modelStore") or {}
    external: dict[k8s_semantics.Ref, str] = {}
    if store.get("kind") == "existingClaim":
        external[("PersistentVolumeClaim", namespace, store["claimName"])] = (
            "modelStore.claimName: the user's existing claim holding the weights"
        )
    return external


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_of_every_stack_passes_the_api_server_rules(stack):
    objects = k8s_objects(default_run(stack))
    findings = k8s_semantics.check(objects, external_objects(stack))
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("name", sorted(harness.EXAMPLES))
def test_every_object_of_every_example_config_passes_the_api_server_rules(name):
    stack = harness.EXAMPLES[name].stack
    findings = k8s_semantics.check(k8s_objects(example_run(name)), external_objects(stack, example_config(name)))
    assert [str(f) for f in findings] == []


def test_kserve_predictor_pods_are_checked_as_kserve_builds_them():
    """Each InferenceService of the KServe example is one pod: the ServingRuntime's container with the model's
    fields over it, the runtime's volumes and the predictor's pod fields (tools/kserve_pods.py)."""
    plan = k8s_semantics.Plan(k8s_objects(example_run("existing-rhoai-kserve")))
    pods = [t for t in plan.templates if t.owner["kind"] == "InferenceService"]
    assert len(pods) == 2 and not [t for t in plan.templates if t.owner["kind"] == "ServingRuntime"]
    for pod in pods:
        (server,) = pod.spec["containers"]
        assert server["name"] == "kserve-container" and server["image"].startswith("vllm/vllm-openai:")
        assert server["args"][:3] == ["/mnt/models", "--host=0.0.0.0", "--port=8080"]  # runtime's, then the model's
        assert f"--served-model-name={pod.owner['metadata']['name']}" in server["args"]
        assert (
            "nvidia.com/gpu" in server["resources"]["limits"] and server["readinessProbe"]["httpGet"]["port"] == "http"
        )
        assert {v["name"] for v in pod.spec["volumes"]} == {m["name"] for m in server["volumeMounts"]} == {
            "shm", "tmp", "kserve-provision-location"}  # fmt: skip
        assert pod.spec["serviceAccountName"] == "kserve-models" and pod.spec["nodeSelector"]
        assert pod.labels["component"] == "predictor"
        assert pod.labels["app"] == f"isvc.{pod.owner['metadata']['name']}-predictor"
        # What KServe's webhook adds: the storage initializer downloading storageUri, with the S3 keys of the
        # service account's secret (the example's Secret holds both keys KServe references).
        (init,) = pod.spec["initContainers"]
        assert init["name"] == "storage-initializer" and init["image"] == "kserve/storage-initializer:v0.20.0"
        assert init["args"] == [pod.owner["spec"]["predictor"]["model"]["storageUri"], "/mnt/models"]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in init["env"] if "valueFrom" in e}
        assert refs == {"AWS_ACCESS_KEY_ID": {"name": "model-weights-s3", "key": "AWS_ACCESS_KEY_ID"},
                        "AWS_SECRET_ACCESS_KEY": {"name": "model-weights-s3", "key": "AWS_SECRET_ACCESS_KEY"}}  # fmt: skip
        assert "S3_ENDPOINT" in {e["name"] for e in init["env"]}  # from the secret's data (a Pulumi secret here)


def test_pod_templates_inside_custom_resources_are_checked():
    """The Ray head and worker templates of a RayCluster are pod templates like a Deployment's."""
    plan = k8s_semantics.Plan(k8s_objects(default_run("oci-h100-rdma")))
    paths = sorted(t.path for t in plan.templates if t.owner["kind"] == "RayCluster")
    assert paths == ["spec.headGroupSpec.template", "spec.workerGroupSpecs[0].template"]


# ------------------------------------------------------------------------------------------------
# Each rule on a known-bad and a known-good example.


def container(name: str = "vllm", **fields: Any) -> Obj:
    return {"name": name, "image": "vllm/vllm-openai:v0.33.0", "ports": [{"name": "http", "containerPort": 8000}],
            **fields}  # fmt: skip


def deployment(*containers: Obj, init: list[Obj] | None = None, volumes: list[Obj] | None = None,
               labels: dict[str, str] | None = None, selector: dict[str, str] | None = None,
               name: str = "vllm") -> Obj:  # fmt: skip
    spec: Obj = {"containers": list(containers) or [container()], "volumes": volumes or []}
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"matchLabels": selector or LABELS},
                 "template": {"metadata": {"labels": labels or LABELS}, "spec": spec}},
    }  # fmt: skip


def service(selector: dict[str, str] | None = None, target: Any = "http", name: str = "vllm") -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": selector or LABELS, "ports": [{"name": "http", "port": 80, "targetPort": target}]}}  # fmt: skip


def secret(name: str = "api", **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS}, "stringData": data}


def pv(**spec: Any) -> Obj:
    base = {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "",
            "nfs": {"server": "10.0.0.2", "path": "/share"}}  # fmt: skip
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "models-pv"}, "spec": {**base, **spec}}


def pvc(**spec: Any) -> Obj:
    base = {"accessModes": ["ReadWriteMany"], "storageClassName": "", "volumeName": "models-pv",
            "resources": {"requests": {"storage": "100Gi"}}}  # fmt: skip
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "models", "namespace": NS},
            "spec": {**base, **spec}}  # fmt: skip


def job(restart: str = "Never", name: str = "model-download-1", resources: Obj | None = None) -> Obj:
    c = container("download", resources=resources or {})
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
            "spec": {"template": {"spec": {"restartPolicy": restart, "initContainers": [c],
                                           "containers": [container("main")]}}}}  # fmt: skip


def ray_cluster(head_labels: dict[str, str], worker_mounts: list[Obj]) -> Obj:
    head = {"metadata": {"labels": head_labels}, "spec": {"containers": [container("ray-head")]}}
    worker = {"spec": {"containers": [container("ray-worker", volumeMounts=worker_mounts)], "volumes": []}}
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "vllm", "namespace": NS},
            "spec": {"headGroupSpec": {"template": head},
                     "workerGroupSpecs": [{"groupName": "gpu", "replicas": 1, "minReplicas": 1, "maxReplicas": 1,
                                           "template": worker}]}}  # fmt: skip


Example = tuple[list[Obj], list[Obj]]

EXAMPLES: dict[str, Example] = {
    "requests-within-limits": (
        # The S3 model store's check init container, as first written: 1Gi requested, 512Mi limit.
        [job(resources={"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}})],
        [job(resources={"requests": {"memory": "256Mi"}, "limits": {"memory": "0.5Gi"}})],
    ),
    "object-names": (
        [job(name="model-download-" + "a" * 60)],
        [job(name="model-download-" + "a" * 40)],
    ),
    "labels": (
        [deployment(labels={**LABELS, "model": "meta-llama/Llama-3.1-8B-Instruct"})],
        [deployment(labels={**LABELS, "model": "Llama-3.1-8B-Instruct"})],
    ),
    "pod-field-names": (
        [deployment(container("vllm", ports=[{"name": "vllm-openai-http", "containerPort": 8000}]))],
        [deployment(container("vllm", ports=[{"name": "openai-api", "containerPort": 8000}]))],
    ),
    "data-keys": (
        [secret(**{"api key": "x"})],
        [secret(**{"api-key": "x"})],
    ),
    "unique-names": (
        [deployment(container("vllm"), init=[container("vllm")])],
        [deployment(container("vllm"), init=[container("download")])],
    ),
    "selector-matches-template": (
        [deployment(selector={"app.kubernetes.io/name": "other"})],
        [deployment(selector=LABELS)],
    ),
    "selectors-reach-pods": (
        [deployment(), service(selector={"app.kubernetes.io/name": "vllm", "role": "head"})],
        [deployment(), service()],
    ),
    "volume-mounts-name-volumes": (
        [ray_cluster(LABELS, [{"name": "models", "mountPath": "/models"}])],
        [ray_cluster(LABELS, [])],
    ),
    "named-ports-exist": (
        [deployment(), service(target="api")],
        [deployment(), service(target="http")],
    ),
    "references-exist": (
        [
            deployment(
                container(
                    env=[{"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]
                )
            ),
            secret(**{"api-key": "x"}),
        ],
        [
            deployment(
                container(
                    env=[{"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "api-key"}}}]
                )
            ),
            secret(**{"api-key": "x"}),
        ],
    ),
    "pvc-pv-binding": (
        [pv(accessModes=["ReadWriteOnce"]), pvc()],
        [pv(), pvc()],
    ),
    "workload-specs": (
        [job(restart="Always")],
        [job(restart="OnFailure")],
    ),
}


def test_every_rule_has_a_failing_and_a_passing_example():
    assert sorted(EXAMPLES) == sorted(rule.name for rule in k8s_semantics.RULES)


@pytest.mark.parametrize("rule", sorted(EXAMPLES))
def test_rule_rejects_the_bad_example_and_accepts_the_good_one(rule):
    bad, good = EXAMPLES[rule]
    assert [f.rule for f in k8s_semantics.check(bad)] and {f.rule for f in k8s_semantics.check(bad)} == {rule}
    assert k8s_semantics.check(good) == []


def test_every_rule_cites_what_it_mirrors():
    for rule in k8s_semantics.RULES:
        assert any(word in rule.mirrors for word in ("Validate", "validate", "kubelet", "controller", "KubeRay"))


# ------------------------------------------------------------------------------------------------
# The details that are easy to get wrong.


def test_quantities_compare_across_units():
    q = k8s_semantics.quantity
    assert q("1Gi") > q("512Mi") and q("0.5Gi") == q("512Mi") and q("1500m") == q("1.5") and q("1e3") == q("1k")


def test_gpus_must_be_requested_exactly_at_their_limit():
    gpu = {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}}
    assert [f.rule for f in k8s_semantics.check([job(resources=gpu)])] == ["requests-within-limits"]


def test_a_secret_outside_the_plan_passes_only_when_documented():
    pod = deployment(container(env=[{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "t"}}}]))
    assert [f.rule for f in k8s_semantics.check([pod])] == ["references-exist"]
    assert k8s_semantics.check([pod], {("Secret", NS, "hf"): "created by the cluster admin"}) == []


def network_policy(pod_selector: dict[str, Any], peer: dict[str, Any], port: Any) -> Obj:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow", "namespace": NS},
            "spec": {"podSelector": pod_selector, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [peer], "ports": [{"port": port, "protocol": "TCP"}]}]}}  # fmt: skip


def serving_runtime(**container: Any) -> Obj:
    server = {"name": "kserve-container", "image": "vllm/vllm-openai:v0.33.0", "args": ["/mnt/models"],
              "ports": [{"name": "http", "containerPort": 8080}], **container}  # fmt: skip
    return {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ServingRuntime",
            "metadata": {"name": "vllm-runtime", "namespace": NS},
            "spec": {"supportedModelFormats": [{"name": "vLLM", "autoSelect": True}], "containers": [server],
                     "volumes": [{"name": "shm", "emptyDir": {"medium": "Memory"}}]}}  # fmt: skip


def inference_service(runtime: str | None = "vllm-runtime", predictor: Obj | None = None, **model: Any) -> Obj:
    spec = {"modelFormat": {"name": "vLLM"}, "storageUri": "s3://models/m", **model}
    if runtime:
        spec["runtime"] = runtime
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": NS, "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
            "spec": {"predictor": {"minReplicas": 1, "serviceAccountName": "kserve-models", **(predictor or {}),
                                   "model": spec}}}  # fmt: skip


def s3_credentials(
    keys: tuple[str, ...] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    listed: bool = True,
    annotations: dict[str, str] | None = None,
    **data: str,
) -> list[Obj]:
    """The S3 Secret and the service account listing it, as components/kserve/s3_connection.py makes them."""
    values = {**{key: "x" for key in keys}, "S3_ENDPOINT": "http://minio.minio:9000", **data}
    creds = secret("model-weights-s3", **values)
    creds["metadata"]["annotations"] = annotations or {}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kserve-models", "namespace": NS},
               "secrets": [{"name": "model-weights-s3"}] if listed else []}  # fmt: skip
    return [creds, account]


S3 = s3_credentials()


KSERVE_EXAMPLES: dict[str, tuple[str, Example]] = {
    # The model's limit under the runtime's request: each object alone is fine, KServe's merged container is not.
    "requests-within-limits": ("the model's cpu limit under the runtime's cpu request", (
        [*S3, serving_runtime(resources={"requests": {"cpu": "4"}}), inference_service(resources={"limits": {"cpu": "2"}})],
        [*S3, serving_runtime(resources={"requests": {"cpu": "4"}}), inference_service(resources={"limits": {"cpu": "8"}})],
    )),
    # The model mounts a volume the predictor must bring (the runtime brings only shm).
    "volume-mounts-name-volumes": ("the model mounts a volume neither the runtime nor the predictor has", (
        [*S3, serving_runtime(), inference_service(volumeMounts=[{"name": "cache", "mountPath": "/cache"}])],
        [*S3, serving_runtime(), inference_service(volumeMounts=[{"name": "cache", "mountPath": "/cache"}],
                                              predictor={"volumes": [{"name": "cache", "emptyDir": {}}]})],
    )),
    # The model's probe names a port of the runtime's container.
    "named-ports-exist": ("the model's probe names a port the runtime's container does not have", (
        [*S3, serving_runtime(), inference_service(readinessProbe={"httpGet": {"path": "/health", "port": "api"}})],
        [*S3, serving_runtime(), inference_service(readinessProbe={"httpGet": {"path": "/health", "port": "http"}})],
    )),
    # The predictor's service account, and the runtime the model names, exist.
    "references-exist": ("the predictor names a runtime the plan does not create", (
        [*S3, serving_runtime(), inference_service(runtime="vllm")],
        [*S3, serving_runtime(), inference_service(runtime="vllm-runtime")],
    )),
    # Without `runtime`, KServe picks a runtime that auto-selects the model's format.
    "references-exist+autoselect": ("no runtime auto-selects the model's format", (
        [*S3, serving_runtime(), inference_service(runtime=None, modelFormat={"name": "vllm"})],
        [*S3, serving_runtime(), inference_service(runtime=None)],
    )),
    # A NetworkPolicy for KServe's predictor pods selects them by the labels KServe puts on them.
    "selectors-reach-pods": ("a policy selecting a label KServe does not put on predictor pods", (
        [*S3, serving_runtime(), inference_service(), network_policy({"matchLabels": {"component": "server"}},
                                                                {"podSelector": {}}, "http")],
        [*S3, serving_runtime(), inference_service(), network_policy({"matchLabels": {"component": "predictor"}},
                                                                {"podSelector": {}}, "http")],
    )),
    # KServe's pod webhook (tools/kserve_pods.py inject_storage_initializer) gives the storage initializer
    # AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as secretKeyRef to the service account's S3 secret: a secret
    # without the access key id is still taken as S3 (it has the secret key), and the init container never
    # starts (CreateContainerConfigError).
    "references-exist+s3-key": ("the S3 secret lacks AWS_ACCESS_KEY_ID, which KServe's webhook references", (
        [*s3_credentials(keys=("AWS_SECRET_ACCESS_KEY",), awsAccessKeyID="x"), serving_runtime(), inference_service()],
        [*S3, serving_runtime(), inference_service()],
    )),
    # A service account that does not list the secret: the webhook adds no credentials, the download fails.
    "references-exist+s3-account": ("the service account does not list the S3 secret", (
        [*s3_credentials(listed=False), serving_runtime(), inference_service()],
        [*S3, serving_runtime(), inference_service()],
    )),
    # KServe's keys, not OpenShift AI's alone: a connection with only the upstream default key names
    # (awsAccessKeyID/awsSecretAccessKey) is no S3 secret under the chart's AWS_SECRET_ACCESS_KEY setting.
    "references-exist+s3-key-names": ("the secret holds the key names of KServe's code defaults, not its config's", (
        [*s3_credentials(keys=("awsAccessKeyID", "awsSecretAccessKey")), serving_runtime(), inference_service()],
        [*S3, serving_runtime(), inference_service()],
    )),
    # The service account lists a secret the plan does not create: the webhook fails, no pod is admitted.
    "references-exist+s3-missing-secret": ("the service account lists a secret nobody creates", (
        [S3[1], serving_runtime(), inference_service()],
        [*S3, serving_runtime(), inference_service()],
    )),
    # The runtime already mounts something at /mnt/models: the webhook adds kserve-provision-location there too
    # (it checks only the volume name, utils.AddModelMount), and the API server refuses the pod.
    "unique-names+mnt-models": ("the runtime mounts its own volume at /mnt/models", (
        [*S3, serving_runtime(volumeMounts=[{"name": "shm", "mountPath": "/mnt/models"}]), inference_service()],
        [*S3, serving_runtime(volumeMounts=[{"name": "shm", "mountPath": "/dev/shm"}]), inference_service()],
    )),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(KSERVE_EXAMPLES))
def test_kserve_objects_are_judged_as_the_pod_kserve_builds(case):
    _, (bad, good) = KSERVE_EXAMPLES[case]
    rule = case.split("+")[0]
    assert [f.rule for f in k8s_semantics.check(bad)] == [rule]
    assert k8s_semantics.check(good) == []


def test_kserve_merges_the_model_over_the_runtime_container():
    """kserve v0.20.0 MergeRuntimeContainers: strategic merge (env by name, limits key by key), args appended."""
    runtime = serving_runtime(env=[{"name": "HOME", "value": "/tmp"}, {"name": "KEY", "value": "x"}],
                              resources={"requests": {"cpu": "4"}})  # fmt: skip
    isvc = inference_service(args=["--dtype=auto"], resources={"limits": {"nvidia.com/gpu": "1"}},
                             env=[{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "k"}}}],
                             predictor={"nodeSelector": {"pool": "gpu"}, "volumes": [{"name": "shm", "emptyDir": {}}]})  # fmt: skip
    (pod,) = k8s_semantics.Plan([runtime, isvc]).templates
    (server,) = pod.spec["containers"]
    assert server["args"] == ["/mnt/models", "--dtype=auto"]
    assert server["resources"] == {"requests": {"cpu": "4"}, "limits": {"nvidia.com/gpu": "1"}}
    assert server["env"] == [{"name": "HOME", "value": "/tmp"},
                             {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "k"}}},
                             {"name": "INFERENCE_SERVICE_NAME", "value": "m"}]  # fmt: skip
    # the predictor's volume replaces the runtime's; KServe's webhook adds the storage initializer's
    assert pod.spec["volumes"] == [
        {"name": "shm", "emptyDir": {}},
        {"name": "kserve-provision-location", "emptyDir": {}},
    ]
    assert pod.spec["nodeSelector"] == {"pool": "gpu"}
    assert pod.where(".containers[0]") == (
        f"InferenceService {NS}/m spec.predictor (KServe's pod, with ServingRuntime {NS}/vllm-runtime and the storage "
        "initializer KServe's webhook adds).containers[0]"
    )


def test_kserve_merges_the_transformer_and_appends_the_other_containers_in_its_order():
    """kserve v0.20.0 components/predictor.go buildPodSpec: the kserve-container, then transformer-container
    (the runtime's merged with the predictor's own), then the runtime's other containers, then the predictor's."""
    runtime = serving_runtime()
    runtime["spec"]["containers"] += [
        {"name": "transformer-container", "image": "t:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "runtime-sidecar", "image": "s:1"},
    ]
    isvc = inference_service(predictor={"containers": [
        {"name": "isvc-sidecar", "image": "i:1"},
        {"name": "transformer-container", "args": ["--x"], "env": [{"name": "B", "value": "2"}]},
    ]})  # fmt: skip
    (pod,) = k8s_semantics.Plan([runtime, isvc]).templates
    containers = pod.spec["containers"]
    assert [c["name"] for c in containers] == [
        "kserve-container", "transformer-container", "runtime-sidecar", "isvc-sidecar",
    ]  # fmt: skip
    transformer = containers[1]
    assert (transformer["image"], transformer["args"]) == ("t:1", ["--x"])
    assert [e["name"] for e in transformer["env"]] == ["A", "B", "INFERENCE_SERVICE_NAME"]
    # Only one side has a transformer: it is taken as it is.
    alone = inference_service(predictor={"containers": [{"name": "transformer-container", "image": "t:2"}]})
    (pod,) = k8s_semantics.Plan([serving_runtime(), alone]).templates
    assert [(c["name"], c["image"]) for c in pod.spec["containers"]][1] == ("transformer-container", "t:2")


def test_kserves_webhook_adds_the_storage_initializer_with_the_service_accounts_s3_keys():
    """kserve v0.20.0 storage_initializer_injector.go CommonStorageInitialization, CreateInitContainerWithConfig,
    AddModelMount; service_account_credentials.go mountSecretCredential; s3_secret.go BuildSecretEnvs; s3/utils.go
    BuildS3EnvVars (a secret annotation over its data key); the Helm chart's ClusterStorageContainer merged over."""
    objects = [*s3_credentials(annotations={"serving.kserve.io/s3-verifyssl": "0"}, AWS_DEFAULT_REGION="us-east-1",
                               S3_VERIFY_SSL="1"), serving_runtime(), inference_service()]  # fmt: skip
    (pod,) = k8s_semantics.Plan(objects).templates
    (init,) = pod.spec["initContainers"]
    assert init["name"] == "storage-initializer" and init["args"] == ["s3://models/m", "/mnt/models"]
    assert init["resources"] == {
        "requests": {"cpu": "100m", "memory": "100Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert init["securityContext"]["runAsNonRoot"] is True and init["imagePullPolicy"] == "IfNotPresent"
    assert init["env"][:2] == [
        {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "model-weights-s3", "key": "AWS_ACCESS_KEY_ID"}}},
        {"name": "AWS_SECRET_ACCESS_KEY",
         "valueFrom": {"secretKeyRef": {"name": "model-weights-s3", "key": "AWS_SECRET_ACCESS_KEY"}}},
    ]  # fmt: skip
    values = {e["name"]: e.get("value") for e in init["env"][2:]}
    assert values == {"S3_USE_HTTPS": "0", "S3_ENDPOINT": "minio.minio:9000", "AWS_ENDPOINT_URL": "http://minio.minio:9000",
                      "S3_VERIFY_SSL": "0", "AWS_DEFAULT_REGION": "us-east-1", "HF_HUB_ENABLE_HF_TRANSFER": "1",
                      "HF_XET_HIGH_PERFORMANCE": "1", "HF_XET_NUM_CONCURRENT_RANGE_GETS": "8"}  # fmt: skip
    (server,) = pod.spec["containers"]
    assert server["volumeMounts"][-1] == {
        "name": "kserve-provision-location",
        "mountPath": "/mnt/models",
        "readOnly": True,
    }
    assert init["volumeMounts"] == [{"name": "kserve-provision-location", "mountPath": "/mnt/models"}]
    assert pod.template["metadata"]["annotations"]["internal.serving.kserve.io/storage-initializer-sourceuri"] == (
        "s3://models/m"
    )
    # The finding for a missing key names the init container's env entry.
    bad = [*s3_credentials(keys=("AWS_SECRET_ACCESS_KEY",)), serving_runtime(), inference_service()]
    (finding,) = k8s_semantics.check(bad)
    assert ".initContainers[0].env[0]" in finding.where and "has no key 'AWS_ACCESS_KEY_ID'" in finding.message


def test_a_pvc_uri_is_mounted_and_a_documented_external_account_is_not_judged():
    """pvc://<claim>/<path>: the claim at /mnt/models with the path as subPath, no init container. A service account
    of the cluster (documented external) is not ours to see: its secrets are not judged."""
    isvc = inference_service(storageUri="pvc://weights/llama")
    (pod,) = k8s_semantics.Plan([serving_runtime(), isvc]).templates
    assert "initContainers" not in pod.spec
    assert pod.spec["volumes"][-1] == {"name": "kserve-pvc-source", "persistentVolumeClaim": {"claimName": "weights"}}
    assert pod.spec["containers"][0]["volumeMounts"] == [
        {"name": "kserve-pvc-source", "mountPath": "/mnt/models", "subPath": "llama", "readOnly": True}
    ]
    external = {("ServiceAccount", NS, "kserve-models"): "the cluster admin's account with its S3 secret"}
    assert k8s_semantics.check([serving_runtime(), inference_service()], external) == []


def test_a_serving_runtime_no_model_uses_is_checked_as_its_own_pod():
    runtime = serving_runtime(volumeMounts=[{"name": "cache", "mountPath": "/cache"}])
    assert [f.rule for f in k8s_semantics.check([runtime])] == ["volume-mounts-name-volumes"]


def test_ray_pods_carry_kuberay_labels_a_service_can_select():
    """KubeRay adds ray.io/node-type to the pods it makes from a template (labelPod)."""
    objects = [ray_cluster({}, []), service(selector={"ray.io/node-type": "head"})]
    findings = k8s_semantics.check(objects)
    assert [f for f in findings if f.rule == "selectors-reach-pods"] == []


# ------------------------------------------------------------------------------------------------
# Immutable fields between two configs (the day-2 diff uses this).


def changed(before: list[Obj], edit: Callable[[list[Obj]], None]) -> list[str]:
    after = copy.deepcopy(before)
    edit(after)
    return [f"{c.kind} {c.path}" for c in k8s_semantics.immutable_changes(before, after)]


def test_a_job_template_cannot_change_under_the_same_name():
    def bump_image(objs: list[Obj]) -> None:
        objs[0]["spec"]["template"]["spec"]["containers"][0]["image"] = "vllm/vllm-openai:v0.34.0"

    assert changed([job()], bump_image) == ["Job spec.template"]


def test_a_deployment_selector_cannot_change_but_its_template_can():
    def relabel(objs: list[Obj]) -> None:
        objs[0]["spec"]["selector"]["matchLabels"]["tier"] = "gpu"

    def new_image(objs: list[Obj]) -> None:
        objs[0]["spec"]["template"]["spec"]["containers"][0]["image"] = "vllm/vllm-openai:v0.34.0"

    assert changed([deployment()], relabel) == ["Deployment spec.selector"]
    assert changed([deployment()], new_image) == []


def test_a_claim_keeps_its_class_and_a_volume_keeps_its_source():
    def reclass(objs: list[Obj]) -> None:
        objs[1]["spec"]["storageClassName"] = "oci-fss"

    def move_share(objs: list[Obj]) -> None:
        objs[0]["spec"]["nfs"]["path"] = "/other"

    def bigger_share(objs: list[Obj]) -> None:
        objs[0]["spec"]["capacity"]["storage"] = "200Gi"

    assert changed([pv(), pvc()], reclass) == ["PersistentVolumeClaim spec.storageClassName"]
    assert changed([pv(), pvc()], move_share) == ["PersistentVolume spec.nfs"]
    assert changed([pv(), pvc()], bigger_share) == []


def test_a_renamed_object_is_a_new_object_not_an_update():
    def rename(objs: list[Obj]) -> None:
        objs[0]["metadata"]["name"] = "model-download-2"
        objs[0]["spec"]["template"]["spec"]["containers"][0]["image"] = "other:1"

    assert changed([job()], rename) == []


# ------------------------------------------------------------------------------------------------
# Configurations beyond the committed ones, where other objects and references appear.


def variant_runs() -> dict[str, Any]:
    from tests.test_existing_cluster import MINIO_KNOWN, minio_config
    from tests.test_oci_a10 import OCIR, OCIR_TOKEN

    return {
        # The HF token Secret and the Jobs' secretKeyRef to it; the Ray pods' S3 credentials.
        "oci-h100-rdma+hfToken": lambda: preview("oci-h100-rdma", secrets={"secrets": {"hfToken": "hf_x"}}),
        # S3 (MinIO) model store on a plain cluster, creating its bucket.
        "existing-cluster+minio": lambda: preview("existing-cluster", raw=minio_config(), secrets={"secrets": MINIO_KNOWN}),
        # A registry pull secret referenced by the vLLM pods; a LoadBalancer Service.
        "oci-a10+ocir+loadBalancer": lambda: preview(
            "oci-a10", secrets=OCIR_TOKEN, oke={"ocir": OCIR}, endpoint={"kind": "loadBalancer", "allowedCidrs": ["203.0.113.0/24"]},
            vllm={"image": "iad.ocir.io/axaxnpcrorw5/vllm-openai:v0.33.0"},
        ),
    }  # fmt: skip


@pytest.mark.parametrize("variant", sorted(variant_runs()))
def test_configuration_variants_pass_the_api_server_rules_and_shellcheck(variant):
    from tools import scripts

    run = variant_runs()[variant]()
    assert run.error is None, run.error
    stack = variant.split("+")[0]
    assert [str(f) for f in k8s_semantics.check(k8s_objects(run), external_objects(stack))] == []
    assert {s.origin: scripts.shellcheck(s) for s in scripts.extract(run) if scripts.shellcheck(s)} == {}


def test_a_claim_of_a_static_volume_cannot_grow_but_one_of_an_expandable_class_can():
    def grow(objs: list[Obj]) -> None:
        objs[-1]["spec"]["resources"]["requests"]["storage"] = "200Gi"

    static = [pv(), pvc()]
    expandable = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fss"},
                  "provisioner": "fss.csi.oraclecloud.com", "allowVolumeExpansion": True}  # fmt: skip
    dynamic = [expandable, pvc(storageClassName="fss", volumeName=None)]
    assert changed(static, grow) == ["PersistentVolumeClaim spec.resources.requests.storage"]
    assert changed(dynamic, grow) == []


@pytest.mark.parametrize("stack", ["doks", "oci-a10"])
def test_a_bigger_nfs_share_changes_no_immutable_field(stack):
    """An everyday day-2 change: the share grows. The PV's capacity may change; its claim must not."""
    size = stack_config(stack)["llm-serving:modelStore"]["sizeGb"]
    bigger = preview(stack, modelStore={"sizeGb": size * 2})
    assert bigger.error is None, bigger.error
    assert [str(c) for c in k8s_semantics.immutable_changes(k8s_objects(default_run(stack)), k8s_objects(bigger))] == []


def test_network_policies_select_pods_of_the_plan_and_their_named_ports():
    selects = {"matchLabels": LABELS}
    good = network_policy(selects, {"podSelector": {}}, "http")
    assert k8s_semantics.check([deployment(), good]) == []
    wrong_pods = network_policy({"matchLabels": {"app.kubernetes.io/name": "vllm-entry"}}, {"podSelector": {}}, 8000)
    wrong_peer = network_policy(selects, {"podSelector": {"matchLabels": {"role": "gateway"}}}, 8000)
    wrong_port = network_policy(selects, {"podSelector": {}}, "metrics")
    assert [f.rule for f in k8s_semantics.check([deployment(), wrong_pods])] == ["selectors-reach-pods"]
    assert [f.rule for f in k8s_semantics.check([deployment(), wrong_peer])] == ["selectors-reach-pods"]
    assert [f.rule for f in k8s_semantics.check([deployment(), wrong_port])] == ["named-ports-exist"]
    other_namespace = network_policy(
        selects, {"podSelector": {}, "namespaceSelector": {"matchLabels": {"x": "y"}}}, 8000
    )
    assert k8s_semantics.check([deployment(), other_namespace]) == []
