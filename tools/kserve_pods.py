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
Not mirrored: what KServe's pod webhook injects later (the storage initializer init container and its
`kserve-provision-location` volume at /mnt/models, pkg/webhook/admission/pod/storage_initializer_injector.go),
and Knative's own labels in Serverless mode.

Strategic merge patch (k8s.io/apimachinery pkg/util/strategicpatch) is mirrored for the fields these
objects use: maps merge key by key, a null deletes, lists with a `patchMergeKey` in k8s.io/api
core/v1/types.go merge element by element (a volume, `merge,retainKeys`, is taken whole from the patch),
every other list is replaced.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

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
