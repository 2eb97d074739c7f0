"""The pod KServe runs for an InferenceService's predictor, built from a plan's objects the way KServe's
controller builds it. Neither a ServingRuntime (containers and volumes directly under `spec`) nor an
InferenceService (one container's fields under `spec.predictor.model`, pod fields on `spec.predictor`)
has the shape of a pod template, so without this the judges (tools/k8s_semantics.py, tools/scripts.py,
checkov in tests/test_checkov.py) would never see the containers that serve the models.

Mirrors kserve/kserve v0.20.0 (commit 1fb781055dd1567164358233e1125142ca6ef1fe):
- Which runtime: Predictor.reconcileModel (pkg/controller/v1beta1/inferenceservice/components/predictor.go):
  `model.runtime` names a ServingRuntime of the isvc's namespace, else a ClusterServingRuntime
  (inferenceservice/utils/utils.go GetServingRuntime), and that runtime must list the model's format
  (ModelSpec.RuntimeSupportsModel, pkg/apis/serving/v1beta1/predictor_model.go: "mt:<name>[:<version>]");
  without `model.runtime`, the first runtime listing the format with autoSelect (GetSupportingRuntimes).
- The containers: Predictor.buildPodSpec -> utils.go MergeServingRuntimeAndInferenceServiceSpecs ->
  MergeRuntimeContainers: the runtime's `kserve-container` with the model's container fields
  strategic-merge-patched over it (pkg/utils/container_merge.go MergeContainerWithPatch, which also
  settles env entries left with both value and valueFrom), args concatenated runtime + model; then a
  merged `transformer-container`, the runtime's other containers, the predictor's own containers.
- The pod fields: utils.go MergePodSpec: the runtime's nodeSelector, affinity, tolerations, volumes,
  imagePullSecrets and schedulerName, strategic-merge-patched by the predictor's inline PodSpec
  (pkg/apis/serving/v1beta1/podspec.go) fields.
- INFERENCE_SERVICE_NAME on every container (buildPredictorResources, utils.go AddEnvVarToPodSpec).
- The labels: buildObjectMeta (runtime `spec.labels` < isvc labels < predictor labels <
  serving.kserve.io/inferenceservice=<isvc> and component=predictor) and, in raw deployment mode,
  app=isvc.<isvc>-predictor (reconcilers/deployment/deployment_reconciler.go createRawDefaultDeployment;
  constants.go PredictorServiceName, GetRawServiceLabel).
Then what KServe's pod webhook adds when the pod is created (`inject_storage_initializer`, below): the
storage initializer that downloads `storageUri` to /mnt/models, its volume, and the S3 credentials it reads
from the predictor's service account. Not mirrored: Knative's own labels and containers in Serverless mode.

Strategic merge patch (k8s.io/apimachinery pkg/util/strategicpatch) is mirrored for the fields these
objects use: maps merge key by key, a null deletes, lists with a `patchMergeKey` in k8s.io/api
core/v1/types.go merge element by element (a volume, `merge,retainKeys`, is taken whole from the patch),
every other list is replaced.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from typing import Any

from tools.engine import SECRET, UNKNOWN

Obj = dict[str, Any]

CONTAINER = "kserve-container"  # constants.go InferenceServiceContainerName
TRANSFORMER = "transformer-container"  # constants.go TransformerContainerName
RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")

# corev1.Container's JSON fields: what of `spec.predictor.model` is the model's container
# (ModelSpec inlines PredictorExtensionSpec, which inlines corev1.Container).
CONTAINER_FIELDS = {
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy",
    "restartPolicy", "restartPolicyRules", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
    "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
    "securityContext", "stdin", "stdinOnce", "tty",
}  # fmt: skip
# kserve v1beta1.PodSpec's JSON fields (pkg/apis/serving/v1beta1/podspec.go), inlined in PredictorSpec.
POD_FIELDS = {
    "volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy",
    "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName",
    "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
    "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain", "affinity",
    "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority", "dnsConfig", "readinessGates",
    "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints",
    "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims", "resources", "hostnameOverride",
}  # fmt: skip
# The runtime's pod fields MergePodSpec starts from.
RUNTIME_POD_FIELDS = ("nodeSelector", "affinity", "tolerations", "volumes", "imagePullSecrets", "schedulerName")

# patchMergeKey of the lists in k8s.io/api core/v1/types.go (Container, PodSpec).
_CONTAINER_KEYS = {"ports": "containerPort", "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath"}
_POD_KEYS = {"volumes": "name", "initContainers": "name", "containers": "name", "ephemeralContainers": "name",
             "imagePullSecrets": "name", "hostAliases": "ip", "resourceClaims": "name", "schedulingGates": "name",
             "topologySpreadConstraints": "topologyKey"}  # fmt: skip
_WHOLE_ELEMENTS = {"volumes"}  # patchStrategy merge,retainKeys: the patch's element keeps only its own keys


def _merge_maps(base: Any, patch: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_maps(out.get(key), value)
    return out


def _merge_list(base: list[Any], patch: list[Any], key: str, element_patch: Any) -> list[Any]:
    out = copy.deepcopy(base)
    for element in patch:
        index = next((i for i, e in enumerate(out) if isinstance(e, dict) and e.get(key) == element.get(key)), None)
        if index is None:
            out.append(copy.deepcopy(element))
        else:
            out[index] = element_patch(out[index], element)
    return out


def strategic_merge(base: Obj, patch: Obj, keys: dict[str, str], element_patch: dict[str, Any] | None = None) -> Obj:
    """`patch` over `base` (one level of keyed lists; everything below merges as maps, lists replaced)."""
    out = copy.deepcopy(base)
    for field, value in patch.items():
        if value is None:
            out.pop(field, None)
        elif field in keys and isinstance(value, list) and isinstance(out.get(field), list):
            element = (element_patch or {}).get(field) or (
                (lambda _old, new: copy.deepcopy(new)) if field in _WHOLE_ELEMENTS else _merge_maps
            )
            out[field] = _merge_list(out[field], value, keys[field], element)
        else:
            out[field] = _merge_maps(out.get(field), value)
    return out


def merge_container(base: Obj, overlay: Obj) -> Obj:
    """pkg/utils/container_merge.go MergeContainerWithPatch."""
    merged = strategic_merge(base, overlay, _CONTAINER_KEYS)
    overlay_env = {e.get("name"): e for e in overlay.get("env") or []}
    for env in merged.get("env") or []:  # reconcileEnvValueConflicts: the overlay's intent wins
        if env.get("value") and env.get("valueFrom") and env.get("name") in overlay_env:
            if overlay_env[env["name"]].get("valueFrom") is not None:
                env.pop("value")
            elif overlay_env[env["name"]].get("value"):
                env.pop("valueFrom")
    if not merged.get("name"):
        merged["name"] = base.get("name")
    return merged


def merge_runtime_containers(runtime: Obj, isvc: Obj) -> Obj:
    """inferenceservice/utils/utils.go MergeRuntimeContainers: args are runtime + isvc, not replaced."""
    merged = merge_container(runtime, isvc)
    args = [*(runtime.get("args") or []), *(isvc.get("args") or [])]
    if args:
        merged["args"] = args
    return merged


def merge_pod_spec(runtime_spec: Obj, predictor: Obj) -> Obj:
    """inferenceservice/utils/utils.go MergePodSpec."""
    base = {k: copy.deepcopy(runtime_spec[k]) for k in RUNTIME_POD_FIELDS if runtime_spec.get(k) not in (None, "")}
    overrides = {k: v for k, v in predictor.items() if k in POD_FIELDS}
    return strategic_merge(base, overrides, _POD_KEYS, {"initContainers": merge_container,
                                                        "containers": merge_container,
                                                        "ephemeralContainers": merge_container})  # fmt: skip


def _name(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def _namespace(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def _format_label(fmt: Obj) -> str:
    return f"mt:{fmt.get('name')}" + (f":{fmt['version']}" if fmt.get("version") else "")


def _supported_labels(runtime: Obj, explicit: bool) -> set[str]:
    """ModelSpec.getServingRuntimeSupportedModelFormatLabelSet."""
    labels = set()
    for fmt in (runtime.get("spec") or {}).get("supportedModelFormats") or []:
        if explicit or fmt.get("autoSelect"):
            labels.add(f"mt:{fmt.get('name')}")
            if fmt.get("version"):
                labels.add(f"mt:{fmt.get('name')}:{fmt['version']}")
    return labels


@dataclass(frozen=True)
class PredictorPod:
    isvc: Obj
    runtime: Obj | None
    """The ServingRuntime or ClusterServingRuntime the pod is built from; None when none was found."""
    template: Obj
    """{"metadata": {"labels", "annotations"}, "spec": the pod spec}; empty when `runtime` is None."""
    problems: tuple[str, ...] = ()
    """What KServe would refuse (reported by k8s_semantics' references rule)."""


def _runtime_for(isvc: Obj, model: Obj, runtimes: list[Obj]) -> tuple[Obj | None, list[str]]:
    ns, fmt = _namespace(isvc), _format_label(model.get("modelFormat") or {})
    if model.get("runtime"):
        name = model["runtime"]
        found = next((r for r in runtimes if r["kind"] == "ServingRuntime" and _namespace(r) == ns and _name(r) == name),
                     None) or next((r for r in runtimes if r["kind"] == "ClusterServingRuntime" and _name(r) == name), None)  # fmt: skip
        if found is None:
            return None, [f"spec.predictor.model.runtime {name!r}: no ServingRuntime {ns}/{name} or "
                          f"ClusterServingRuntime {name} (\"No ServingRuntimes or ClusterServingRuntimes with the name\")"]  # fmt: skip
        if (found.get("spec") or {}).get("disabled"):
            return None, [f"spec.predictor.model.runtime {name!r} is disabled"]
        if fmt not in _supported_labels(found, explicit=True):
            return None, [f"spec.predictor.model.modelFormat {fmt[3:]!r} is not among the supportedModelFormats of "
                          f"{found['kind']} {name} (\"does not support specified framework/version\")"]  # fmt: skip
        return found, []
    candidates = [r for r in runtimes if (r["kind"] == "ServingRuntime" and _namespace(r) == ns)]
    candidates += [r for r in runtimes if r["kind"] == "ClusterServingRuntime"]
    for runtime in candidates:
        if not (runtime.get("spec") or {}).get("disabled") and fmt in _supported_labels(runtime, explicit=False):
            return runtime, []
    return None, [f"spec.predictor.model: no runtime of this plan auto-selects model format {fmt[3:]!r} "
                  "(\"No runtime found to support specified framework/version\")"]  # fmt: skip


def _with_env(container: Obj, name: str, value: str) -> None:
    env = container.setdefault("env", [])
    existing = next((e for e in env if e.get("name") == name), None)
    if existing is not None:
        existing["value"] = value
    else:
        env.append({"name": name, "value": value})


def _raw_deployment(isvc: Obj) -> bool:
    mode = ((isvc.get("metadata") or {}).get("annotations") or {}).get("serving.kserve.io/deploymentMode")
    return mode in ("RawDeployment", "Standard")  # constants.go ParseDeploymentMode: legacy and new names


def predictor_pod(isvc: Obj, runtimes: list[Obj]) -> PredictorPod | None:
    """The predictor pod of one InferenceService with `spec.predictor.model`; None for other predictors."""
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model")
    if not isinstance(model, dict):
        return None
    runtime, problems = _runtime_for(isvc, model, runtimes)
    if runtime is None:
        return PredictorPod(isvc, None, {}, tuple(problems))
    runtime_spec = runtime.get("spec") or {}
    containers = runtime_spec.get("containers") or []
    main = next((c for c in containers if c.get("name") == CONTAINER), None)
    if main is None:
        return PredictorPod(isvc, runtime, {}, (f"{runtime['kind']} {_name(runtime)} has no {CONTAINER} "
                                                "(\"failed to find kserve-container in ServingRuntime containers\")",))  # fmt: skip
    model_container = {k: v for k, v in model.items() if k in CONTAINER_FIELDS}
    pod = merge_pod_spec(runtime_spec, predictor)
    pod["containers"] = [merge_runtime_containers(main, model_container)]
    own = predictor.get("containers") or []
    runtime_transformer = next((c for c in containers if c.get("name") == TRANSFORMER), None)
    own_transformer = next((c for c in own if c.get("name") == TRANSFORMER), None)
    if runtime_transformer and own_transformer:
        pod["containers"].append(merge_runtime_containers(runtime_transformer, own_transformer))
    elif transformer := runtime_transformer or own_transformer:
        pod["containers"].append(copy.deepcopy(transformer))
    pod["containers"] += [copy.deepcopy(c) for c in containers if c.get("name") not in (CONTAINER, TRANSFORMER)]
    pod["containers"] += [copy.deepcopy(c) for c in own if c.get("name") != TRANSFORMER]
    for container in pod["containers"]:
        _with_env(container, "INFERENCE_SERVICE_NAME", _name(isvc))
    predictor_name = (
        f"{_name(isvc)}-{predictor['name']}-predictor" if predictor.get("name") else f"{_name(isvc)}-predictor"
    )
    labels = {**(runtime_spec.get("labels") or {}), **((isvc.get("metadata") or {}).get("labels") or {}),
              **(predictor.get("labels") or {}),
              "serving.kserve.io/inferenceservice": _name(isvc), "component": "predictor"}  # fmt: skip
    if _raw_deployment(isvc):
        labels["app"] = f"isvc.{predictor_name}"
    annotations = {**(runtime_spec.get("annotations") or {}), **((isvc.get("metadata") or {}).get("annotations") or {}),
                   **(predictor.get("annotations") or {})}  # fmt: skip
    return PredictorPod(isvc, runtime, {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod})


def runtime_pod(runtime: Obj) -> Obj:
    """The pod of a runtime no InferenceService of the plan uses, as a model adding nothing would get it."""
    spec = runtime.get("spec") or {}
    pod = merge_pod_spec(spec, {})
    pod["containers"] = copy.deepcopy(spec.get("containers") or [])
    return {"metadata": {"labels": dict(spec.get("labels") or {})}, "spec": pod}


# ---------------------------------------------------------------------------------------------------------------
# What KServe's pod mutating webhook adds to the predictor pod afterwards: the storage initializer.
#
# Mirrors kserve/kserve v0.20.0 (commit 1fb781055dd1567164358233e1125142ca6ef1fe), for a single `storageUri`:
# - The controller marks the pod: Predictor.addStorageInitializerAnnotations
#   (pkg/controller/v1beta1/inferenceservice/components/predictor.go) writes the URI into the annotation
#   internal.serving.kserve.io/storage-initializer-sourceuri of the pod template.
# - The webhook mutates every pod labelled serving.kserve.io/inferenceservice (pkg/webhook/admission/pod/
#   mutator.go needMutate, mutate) with StorageInitializerInjector.InjectStorageInitializer and
#   CommonStorageInitialization (pkg/webhook/admission/pod/storage_initializer_injector.go): nothing with the
#   agent annotation, for an oci:// URI (modelcar) or when a `storage-initializer` init container is there;
#   a pvc:// URI is mounted directly (volume kserve-pvc-source, subPath); any other URI gets the init
#   container of utils.CreateInitContainerWithConfig (pkg/utils/storage.go: args [uri, /mnt/models],
#   terminationMessagePolicy FallbackToLogsOnError, the config's CPU and memory), and utils.AddModelMount
#   mounts the emptyDir `kserve-provision-location` at /mnt/models in kserve-container (read-only unless
#   storage.kserve.io/readonly is "false", GetStorageInitializerReadOnlyFlag), transformer-container and the
#   init container (writable); a container that already mounts that volume name is left alone
#   (addVolumeMountToContainer), whatever else it mounts at /mnt/models.
# - The credentials: CredentialBuilder.CreateSecretVolumeAndEnv and CreateSecretVolumeAndEnvFromServiceAccount
#   (pkg/credentials/service_account_credentials.go) read the pod's service account (`default` when unset;
#   a missing one is only logged: no credentials), or only the Secret a pod annotation names
#   (credentials.storageSecretNameAnnotation); mountSecretCredential reads each secret the account lists
#   (a missing one fails the webhook: the pod is refused) and takes it as S3 when it holds the key
#   s3SecretAccessKeyName; s3.BuildSecretEnvs (pkg/credentials/s3/s3_secret.go) then adds AWS_ACCESS_KEY_ID
#   and AWS_SECRET_ACCESS_KEY as secretKeyRef to that secret's keys s3AccessKeyIDName and
#   s3SecretAccessKeyName, and s3.BuildS3EnvVars (pkg/credentials/s3/utils.go, getEnvValue: the secret's
#   serving.kserve.io/s3-* annotation, else its data key, else the config) copies the endpoint, region,
#   verify-SSL and the other settings in as plain values (getEndpointConfiguration: an http:// endpoint gives
#   S3_USE_HTTPS=0), merged by utils.MergeEnvs. An eks.amazonaws.com/role-arn annotation on the account gives
#   IAM-role credentials instead (s3.BuildServiceAccountEnvs). GCS, Azure, HTTPS, HDFS and Hugging Face
#   secrets are not mirrored (a secret without the S3 key adds nothing here).
# - Then the ClusterStorageContainer that supports the URI (GetStorageContainerSpec: the first enabled one of
#   workloadType initContainer whose supportedUriFormats match) is merged over the init container
#   (utils.MergeContainerWithPatch), and utils.AddDefaultHuggingFaceEnvVars adds three HF_* variables.
#
# KServe's configuration is the v0.20.0 Helm chart's (charts/kserve-resources: values.yaml kserve.version
# v0.20.0 and kserve.storage.*; files/common/configmap-patch.yaml renders inferenceservice-config's
# storageInitializer and credentials from them; files/common/storagecontainer.yaml + storagecontainer-patch.yaml
# the ClusterStorageContainer `default`). The kustomize manifests (config/configmap/inferenceservice.yaml,
# config/storagecontainers/default.yaml) give the same resources and key names with the image tag `latest`
# and no securityContext; OpenShift AI replaces only the image (opendatahub-io/kserve, commit
# 3cf0a0416662e3db328f6ddf4755ce730f41c747, config/overlays/odh/params.env kserve-storage-initializer).

STORAGE_INITIALIZER = "storage-initializer"  # constants.go StorageInitializerContainerName
PROVISION_VOLUME = "kserve-provision-location"  # constants.go StorageInitializerVolumeName
PVC_SOURCE_VOLUME = "kserve-pvc-source"  # constants.go PvcSourceMountName
MODEL_MOUNT_PATH = "/mnt/models"  # constants.go DefaultModelLocalMountPath
WORKER = "worker-container"  # constants.go WorkerContainerName
SOURCE_URI_ANNOTATION = "internal.serving.kserve.io/storage-initializer-sourceuri"
AGENT_ANNOTATION = "internal.serving.kserve.io/agent"  # constants.go AgentShouldInjectAnnotationKey
READONLY_ANNOTATION = "storage.kserve.io/readonly"  # constants.go StorageReadonlyAnnotationKey
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"  # credentials AwsIrsaAnnotationKey
S3_ENDPOINT_ANNOTATION = "serving.kserve.io/s3-endpoint"
S3_USE_HTTPS_ANNOTATION = "serving.kserve.io/s3-usehttps"
# BuildS3EnvVars after the endpoint: (env name = the secret's data key, its serving.kserve.io/ annotation).
_S3_SETTINGS = (
    ("S3_VERIFY_SSL", "s3-verifyssl"), ("awsAnonymousCredential", "s3-useanoncredential"),
    ("AWS_DEFAULT_REGION", "s3-region"), ("S3_USER_VIRTUAL_BUCKET", "s3-usevirtualbucket"),
    ("S3_USE_ACCELERATE", "s3-useaccelerate"), ("AWS_CA_BUNDLE", "s3-cabundle"),
    ("AWS_CA_BUNDLE_CONFIGMAP", "s3-cabundle-configmap"),
)  # fmt: skip
_HF_DEFAULTS = (("HF_HUB_ENABLE_HF_TRANSFER", "1"), ("HF_XET_HIGH_PERFORMANCE", "1"),
                ("HF_XET_NUM_CONCURRENT_RANGE_GETS", "8"))  # fmt: skip
_UNKNOWN = (UNKNOWN, SECRET)  # what the offline engine shows for a value it cannot see


@dataclass(frozen=True)
class KServeStorageConfig:
    """The parts of KServe's inferenceservice-config (storageInitializer, credentials) and of the
    ClusterStorageContainer the webhook reads."""

    image: str = "kserve/storage-initializer:v0.20.0"
    cpu_request: str = "100m"
    cpu_limit: str = "1"
    memory_request: str = "100Mi"
    memory_limit: str = "1Gi"
    s3_access_key_id_name: str = "AWS_ACCESS_KEY_ID"
    s3_secret_access_key_name: str = "AWS_SECRET_ACCESS_KEY"
    storage_secret_name_annotation: str = "serving.kserve.io/secretName"
    storage_container: Obj | None = None
    """The ClusterStorageContainer's `spec.container`, merged over the init container; None: no such object."""
    storage_container_prefixes: tuple[str, ...] = ("gs://", "s3://", "hdfs://", "hf://", "webhdfs://", "https://",
                                                   "http://")  # fmt: skip
    """Its supportedUriFormats (the chart's regexes cover https:// and http:// URIs with a path)."""


_CHART_STORAGE_CONTAINER = {
    "name": STORAGE_INITIALIZER,
    "image": "kserve/storage-initializer:v0.20.0",
    "imagePullPolicy": "IfNotPresent",
    "resources": {"requests": {"memory": "100Mi", "cpu": "100m"}, "limits": {"memory": "1Gi", "cpu": "1"}},
    "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]}},
}  # fmt: skip
KSERVE_STORAGE = KServeStorageConfig(storage_container=_CHART_STORAGE_CONTAINER)
"""kserve v0.20.0's Helm chart defaults (charts/kserve-resources/values.yaml kserve.storage)."""


def _secret_data(secret: Obj) -> dict[str, str | None]:
    """The Secret's keys and values as the API server stores them (stringData over data); None: unknown."""
    values: dict[str, str | None] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(value).decode() if value not in _UNKNOWN else None
        except ValueError:
            values[key] = None
    for key, value in (secret.get("stringData") or {}).items():
        values[key] = None if value in _UNKNOWN or not isinstance(value, str) else value
    return values


def _setting(annotations: dict[str, str], data: dict[str, str | None], annotation: str, key: str) -> str | None:
    """s3/utils.go getEnvValue: the annotation, else the secret's data key, else the config (empty in the chart).
    "" when nowhere; None when it comes from a value this plan cannot see (a Pulumi secret)."""
    if annotation in annotations:
        return annotations[annotation]
    if key in data:
        return data[key]
    return ""


def s3_env(secret: Obj, config: KServeStorageConfig = KSERVE_STORAGE) -> list[Obj]:
    """s3_secret.go BuildSecretEnvs + utils.go BuildS3EnvVars for one S3 secret. A value this plan cannot see
    (a Pulumi secret) is written as "[secret]"."""
    name = _name(secret)
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    data = _secret_data(secret)
    env: list[Obj] = [
        {"name": "AWS_ACCESS_KEY_ID",
         "valueFrom": {"secretKeyRef": {"name": name, "key": config.s3_access_key_id_name}}},
        {"name": "AWS_SECRET_ACCESS_KEY",
         "valueFrom": {"secretKeyRef": {"name": name, "key": config.s3_secret_access_key_name}}},
    ]  # fmt: skip
    endpoint = _setting(annotations, data, S3_ENDPOINT_ANNOTATION, "S3_ENDPOINT")
    if endpoint is None:
        env += [{"name": n, "value": SECRET} for n in ("S3_USE_HTTPS", "S3_ENDPOINT", "AWS_ENDPOINT_URL")]
    elif endpoint:  # getEndpointConfiguration
        endpoint = endpoint.strip()
        if endpoint.lower().startswith("https://"):
            use_https, host, url = "1", endpoint[8:], endpoint
        elif endpoint.lower().startswith("http://"):
            use_https, host, url = "0", endpoint[7:], endpoint
        else:
            use_https = _setting(annotations, data, S3_USE_HTTPS_ANNOTATION, "S3_USE_HTTPS")
            host = endpoint
            url = ("http://" if use_https == "0" else "https://") + endpoint
        if use_https != "":
            env.append({"name": "S3_USE_HTTPS", "value": SECRET if use_https is None else use_https})
        env += [{"name": "S3_ENDPOINT", "value": host}, {"name": "AWS_ENDPOINT_URL", "value": url}]
    for key, annotation in _S3_SETTINGS:
        value = _setting(annotations, data, f"serving.kserve.io/{annotation}", key)
        if value != "":
            env.append({"name": key, "value": SECRET if value is None else value})
    return env


def _merge_envs(base: list[Obj], override: list[Obj]) -> list[Obj]:
    """pkg/utils/utils.go MergeEnvs: an override of a name already there sets only its value."""
    out = copy.deepcopy(base)
    for env in override:
        existing = next((e for e in out if e.get("name") == env.get("name")), None)
        if existing is None:
            out.append(copy.deepcopy(env))
        elif "value" in env:
            existing["value"] = env["value"]
    return out


def _add_model_mount(spec: Obj, container_name: str, volume: Obj, mount: Obj) -> None:
    """pkg/utils/storage.go AddModelMount: the mount once per volume name, the volume once per pod."""
    for key in ("containers", "initContainers"):
        container = next((c for c in spec.get(key) or [] if c.get("name") == container_name), None)
        if container is None:
            continue
        if any(m.get("name") == mount["name"] for m in container.get("volumeMounts") or []):
            return
        mount = {**mount, "readOnly": False} if key == "initContainers" else mount  # init containers write
        container.setdefault("volumeMounts", []).append({k: v for k, v in mount.items() if v not in (False, "")})
        if not any(v.get("name") == volume["name"] for v in spec.get("volumes") or []):
            spec.setdefault("volumes", []).append(volume)
        return


def _credentials(
    pod: PredictorPod, spec: Obj, annotations: dict[str, str], objects: list[Obj], external: set[tuple[str, str, str]],
    config: KServeStorageConfig,
) -> tuple[list[Obj], list[str], bool]:  # fmt: skip
    """(env, problems, whether S3 credentials are known to reach the init container or cannot be judged):
    service_account_credentials.go CreateSecretVolumeAndEnv for the pod's service account."""
    ns = _namespace(pod.isvc)
    account_name = spec.get("serviceAccountName") or "default"
    find = {(o.get("kind"), _namespace(o), _name(o)): o for o in objects}
    found = find.get(("ServiceAccount", ns, account_name))
    if found is None:
        if ("ServiceAccount", ns, account_name) in external:
            return [], [], True  # a documented account of the cluster: its secrets are not ours to see
        if account_name != "default":
            return [], [], True  # "Failed to find service account": the references rule reports the account
    # Every namespace has a `default` account, listing no secret.
    account: Obj = found if found is not None else {"metadata": {"name": "default", "namespace": ns}}
    env: list[Obj] = []
    credentials = False
    account_annotations = (account.get("metadata") or {}).get("annotations") or {}
    if IRSA_ANNOTATION in account_annotations:
        credentials = True  # s3.BuildServiceAccountEnvs: IAM-role credentials (its S3_* settings not mirrored)
    named = annotations.get(config.storage_secret_name_annotation)
    secret_names = [named] if named else [s.get("name") for s in account.get("secrets") or []]
    problems: list[str] = []
    for secret_name in secret_names:
        secret = find.get(("Secret", ns, secret_name))
        if secret is None:
            if ("Secret", ns, secret_name) in external:
                credentials = True
                continue
            source = (
                f"annotation {config.storage_secret_name_annotation}"
                if named
                else f"ServiceAccount {ns}/{account_name}"
            )
            problems.append(f"{source} names Secret {ns}/{secret_name}, which this plan does not create: KServe's pod "
                            "webhook fails reading it (mountSecretCredential \"Failed to find secret\") and no predictor "
                            "pod is admitted")  # fmt: skip
            continue
        if config.s3_secret_access_key_name in _secret_data(secret):
            env = _merge_envs(env, s3_env(secret, config))
            credentials = True
    return env, problems, credentials


def inject_storage_initializer(
    pod: PredictorPod, objects: list[Obj], external: set[tuple[str, str, str]] | None = None,
    config: KServeStorageConfig = KSERVE_STORAGE,
) -> PredictorPod:  # fmt: skip
    """The predictor pod after KServe's webhook (see the comment above): the storage initializer, its volume and
    mounts, and the credentials from the service account's secrets in `objects` (or `external` ones, whose
    contents are not judged). What KServe would refuse, or a download that cannot authenticate, is added to
    `problems`."""
    predictor = (pod.isvc.get("spec") or {}).get("predictor") or {}
    uri = (predictor.get("model") or {}).get("storageUri")
    if not pod.template or not isinstance(uri, str) or not uri:
        return pod
    template = copy.deepcopy(pod.template)
    meta, spec = template.setdefault("metadata", {}), template["spec"]
    annotations = meta.setdefault("annotations", {})
    annotations[SOURCE_URI_ANNOTATION] = uri  # Predictor.addStorageInitializerAnnotations
    if AGENT_ANNOTATION in annotations or uri.startswith("oci://"):
        return PredictorPod(pod.isvc, pod.runtime, template, pod.problems)  # the agent / modelcar: not mirrored
    if any(c.get("name") == STORAGE_INITIALIZER for c in spec.get("initContainers") or []):
        return PredictorPod(pod.isvc, pod.runtime, template, pod.problems)
    names = [c.get("name") for c in spec.get("containers") or []]
    user = CONTAINER if CONTAINER in names else WORKER if WORKER in names else None
    if user is None:
        return PredictorPod(pod.isvc, pod.runtime, template,
                            (*pod.problems, "KServe's pod webhook: \"Invalid configuration: cannot find container\""))  # fmt: skip
    read_only = annotations.get(READONLY_ANNOTATION) != "false"
    targets = [user, *([TRANSFORMER] if TRANSFORMER in names else [])]
    if uri.startswith("pvc://"):
        claim, _, sub_path = uri.removeprefix("pvc://").partition("/")
        volume = {"name": PVC_SOURCE_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
        for name in targets:
            _add_model_mount(spec, name, volume, {"name": PVC_SOURCE_VOLUME, "mountPath": MODEL_MOUNT_PATH,
                                                  "subPath": sub_path, "readOnly": read_only})  # fmt: skip
        return PredictorPod(pod.isvc, pod.runtime, template, pod.problems)
    init: Obj = {
        "name": STORAGE_INITIALIZER,
        "image": config.image,
        "args": [uri, MODEL_MOUNT_PATH],
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "resources": {"limits": {"cpu": config.cpu_limit, "memory": config.memory_limit},
                      "requests": {"cpu": config.cpu_request, "memory": config.memory_request}},
    }  # fmt: skip
    spec.setdefault("initContainers", []).append(init)
    volume = {"name": PROVISION_VOLUME, "emptyDir": {}}
    for name in [*targets, STORAGE_INITIALIZER]:
        _add_model_mount(spec, name, volume, {"name": PROVISION_VOLUME, "mountPath": MODEL_MOUNT_PATH,
                                              "readOnly": read_only})  # fmt: skip
    init = spec["initContainers"][-1]
    env, problems, credentials = _credentials(pod, spec, annotations, objects, external or set(), config)
    if env:
        init["env"] = _merge_envs(init.get("env") or [], env)
    if uri.startswith("s3://") and not credentials and not problems:
        account = spec.get("serviceAccountName") or "default"
        problems.append(f"storageUri {uri}: no Secret that ServiceAccount {_namespace(pod.isvc)}/{account} lists holds "
                        f"the key {config.s3_secret_access_key_name} (KServe's s3SecretAccessKeyName), so its storage "
                        "initializer gets no S3 credentials (mountSecretCredential) and the download fails")  # fmt: skip
    if config.storage_container is not None and uri.startswith(config.storage_container_prefixes):
        merged = merge_container(init, config.storage_container)  # GetStorageContainerSpec, MergeContainerWithPatch
        init.clear()
        init.update(merged)
    for name, value in _HF_DEFAULTS:  # AddDefaultHuggingFaceEnvVars
        if not any(e.get("name") == name for e in init.get("env") or []):
            init.setdefault("env", []).append({"name": name, "value": value})
    return PredictorPod(pod.isvc, pod.runtime, template, (*pod.problems, *problems))
