"""What a Kubernetes API server (and the controllers behind it) would reject or silently never run,
beyond what the OpenAPI schemas check: rules across fields and across objects.

Every rule names the kubernetes/kubernetes (or KubeRay) function it mirrors. Paths are in
kubernetes/kubernetes unless another repository is named:
- core:  pkg/apis/core/validation/validation.go
- apps:  pkg/apis/apps/validation/validation.go
- batch: pkg/apis/batch/validation/validation.go
- policy: pkg/apis/policy/validation/validation.go
- storage: pkg/apis/storage/validation/validation.go
- names: staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Label, ...)
  and staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go (ValidateLabels)

Some rules are not API-server validation but what happens next (a pod that never starts, a Service
without endpoints); those name the controller or kubelet function where the failure shows up.

Pod templates are found wherever they are — a Deployment's or Job's `spec.template`, a RayCluster's
head and worker group templates, any custom resource that embeds one — by their shape: a mapping
whose `spec` has a `containers` list. KServe's objects have no such shape: an InferenceService's
predictor pod is built from it and its ServingRuntime as KServe builds it (tools/kserve_pods.py), with
the storage initializer and S3 credentials KServe's pod webhook adds, and a ServingRuntime no
InferenceService uses is checked as the pod it would give.

Entry points: `check(objects, external)` for one plan; `immutable_changes(old, new)` for two plans
of the same stack (a field the API server refuses to update under the same object name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tools import kserve_pods
from tools.engine import SECRET, UNKNOWN

Obj = dict[str, Any]
Ref = tuple[str, str, str]
"""(kind, namespace, name) of an object a plan refers to; namespace "" for cluster-scoped kinds."""

UNKNOWN_VALUES = {UNKNOWN, SECRET}


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Rule:
    name: str
    mirrors: str
    check: Callable[[Plan], Iterator[Finding]]


# ---------------------------------------------------------------------------------------------
# Syntax helpers, as apimachinery's pkg/util/validation/validation.go defines them.

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")


def is_dns1123_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.match(value))


def is_dns1035_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS1035_LABEL.match(value))


def is_qualified_name(value: str) -> bool:
    """IsQualifiedName: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63."""
    prefix, slash, name = value.rpartition("/")
    if slash and not is_dns1123_subdomain(prefix):
        return False
    return len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def is_port_name(value: str) -> bool:
    """IsValidPortName (IANA_SVC_NAME): at most 15, lowercase alphanumerics and '-', a letter, no '--'."""
    return (
        0 < len(value) <= 15
        and bool(_PORT_NAME_CHARS.match(value))
        and any(c.isalpha() for c in value)
        and "--" not in value
        and not value.startswith("-")
        and not value.endswith("-")
    )


_SUFFIXES = {
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000), "": Fraction(1), "k": Fraction(10**3), "M": Fraction(10**6),
    "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15), "E": Fraction(10**18),
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$")


def quantity(value: Any) -> Fraction:
    """A resource.Quantity (apimachinery pkg/api/resource/quantity.go ParseQuantity) as an exact number."""
    if isinstance(value, int | float):
        return Fraction(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"not a quantity: {value!r}")
    number, exponent, suffix = match.groups()
    if exponent:
        return Fraction(number) * Fraction(10) ** int(exponent[1:])
    return Fraction(number) * _SUFFIXES[suffix or ""]


def known(value: Any) -> bool:
    return isinstance(value, str) and value not in UNKNOWN_VALUES and bool(value)


# ---------------------------------------------------------------------------------------------
# The plan: objects indexed by reference, and every pod template with where it sits.


@dataclass(frozen=True)
class PodTemplate:
    owner: Obj
    path: str
    """Where the template sits in its owner, e.g. `spec.template` or `spec.workerGroupSpecs[0].template`."""
    template: Obj
    spec_where: str | None = None
    """Where the pod spec's fields are said to be; default `<path>.spec` (a built pod names its sources)."""

    @property
    def namespace(self) -> str:
        return namespace_of(self.owner)

    @property
    def spec(self) -> Obj:
        return self.template.get("spec") or {}

    @property
    def labels(self) -> dict[str, str]:
        """The labels its pods carry: the template's, plus what the owning controller adds."""
        labels = dict((self.template.get("metadata") or {}).get("labels") or {})
        if self.owner.get("kind") == "RayCluster":
            # KubeRay's labelPod (ray-project/kuberay ray-operator/controllers/ray/common/pod.go): the
            # template's labels win except ray.io/node-type, ray.io/group and ray.io/cluster.
            head = self.path.startswith("spec.headGroupSpec")
            group = "headgroup" if head else _lookup(self.owner, self.path.rsplit(".", 1)[0]).get("groupName", "")
            ray = {
                "ray.io/is-ray-node": "yes",
                "app.kubernetes.io/name": "kuberay",
                "app.kubernetes.io/created-by": "kuberay-operator",
            }
            fixed = {
                "ray.io/cluster": name_of(self.owner),
                "ray.io/node-type": "head" if head else "worker",
                "ray.io/group": group,
            }
            labels = {**ray, **labels, **fixed}
        return labels

    def where(self, suffix: str = "") -> str:
        spec = self.spec_where if self.spec_where is not None else f"{self.path}.spec"
        return f"{describe(self.owner)} {spec}{suffix}"

    def containers(self, include_init: bool = True) -> Iterator[tuple[str, Obj]]:
        """(field path, container) for init, regular and ephemeral containers."""
        keys = ("initContainers", "containers", "ephemeralContainers") if include_init else ("containers",)
        for key in keys:
            for i, container in enumerate(self.spec.get(key) or []):
                yield f".{key}[{i}]", container


def name_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def namespace_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def describe(obj: Obj) -> str:
    ns = namespace_of(obj)
    return f"{obj.get('kind')} {ns + '/' if ns else ''}{name_of(obj)}"


def _lookup(data: Any, path: str) -> Any:
    for part in path.replace("]", "").replace("[", ".").split("."):
        data = data[int(part)] if isinstance(data, list) else data.get(part, {})
    return data


def _find_templates(value: Any, path: str) -> Iterator[tuple[str, Obj]]:
    if isinstance(value, dict):
        spec = value.get("spec")
        if path and isinstance(spec, dict) and isinstance(spec.get("containers"), list):
            yield path, value
            return
        for key, child in value.items():
            yield from _find_templates(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _find_templates(child, f"{path}[{i}]")


class Plan:
    def __init__(self, objects: list[Obj], external: Mapping[Ref, str] | None = None):
        self.objects = objects
        self.external = dict(external or {})
        self.by_ref: dict[Ref, Obj] = {ref(o): o for o in objects}
        self.templates: list[PodTemplate] = []
        self.kserve_problems: list[tuple[Obj, str]] = []
        """(InferenceService, what KServe would refuse when building its predictor pod)."""
        runtimes = [o for o in objects if o.get("kind") in kserve_pods.RUNTIME_KINDS]
        used: set[int] = set()
        for obj in objects:
            if obj.get("kind") == "InferenceService":
                pod = kserve_pods.predictor_pod(obj, runtimes)
                if pod is None:
                    continue
                # What KServe's pod webhook adds when the pod is created: the storage initializer and its
                # credentials from the service account's secrets (kserve_pods.inject_storage_initializer).
                pod = kserve_pods.inject_storage_initializer(pod, objects, set(self.external))
                self.kserve_problems += [(obj, problem) for problem in pod.problems]
                if pod.runtime is not None:
                    used.add(id(pod.runtime))
                if pod.template:
                    webhook = any(c.get("name") == kserve_pods.STORAGE_INITIALIZER
                                  for c in pod.template["spec"].get("initContainers") or [])  # fmt: skip
                    added = " and the storage initializer KServe's webhook adds" if webhook else ""
                    where = f"spec.predictor (KServe's pod, with {describe(pod.runtime or {})}{added})"
                    self.templates.append(PodTemplate(obj, "spec.predictor", pod.template, where))
        for obj in objects:
            if obj.get("kind") in kserve_pods.RUNTIME_KINDS:
                if id(obj) not in used:
                    self.templates.append(PodTemplate(obj, "spec", kserve_pods.runtime_pod(obj), "spec"))
            elif obj.get("kind") == "InferenceService":
                continue
            elif obj.get("kind") == "Pod":
                self.templates.append(PodTemplate(obj, "", {"metadata": obj.get("metadata", {}), "spec": obj["spec"]}))
            else:
                for path, template in _find_templates(obj.get("spec"), "spec"):
                    self.templates.append(PodTemplate(obj, path, template))

    def of_kind(self, *kinds: str) -> list[Obj]:
        return [o for o in self.objects if o.get("kind") in kinds]

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self.by_ref.get((kind, namespace, name))

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        return (kind, namespace, name) in self.by_ref or (kind, namespace, name) in self.external


def ref(obj: Obj) -> Ref:
    return (obj.get("kind", ""), namespace_of(obj), name_of(obj))


def _selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set; an empty one matches all."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and (not present or labels[key] not in values))
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Rules.

_OVERCOMMITTABLE = {"cpu", "memory", "ephemeral-storage"}


def _requests_within_limits(plan: Plan) -> Iterator[Finding]:
    rule = "requests-within-limits"
    for t in plan.templates:
        for path, c in t.containers():
            resources = c.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            where = t.where(f"{path}.resources")
            for resource, requested in requests.items():
                # IsOvercommitAllowed: only the standard compute resources may request less than
                # their limit; hugepages and extended resources (nvidia.com/gpu) must equal it.
                overcommit = resource in _OVERCOMMITTABLE
                if resource not in limits:
                    if not overcommit:
                        yield Finding(rule, where, f"{resource} is requested without a limit (Limit must be set "
                                      "for non overcommitable resources)")  # fmt: skip
                    continue
                request, limit = quantity(requested), quantity(limits[resource])
                if not overcommit and request != limit:
                    yield Finding(
                        rule, where, f"{resource} request {requested} must be equal to its limit {limits[resource]}"
                    )
                elif request > limit:
                    yield Finding(rule, where, f"{resource} request {requested} must be less than or equal to "
                                  f"its limit {limits[resource]}")  # fmt: skip


# Which name function ValidateObjectMeta gets, per kind (core: ValidateNamespaceName is
# NameIsDNSLabel, ValidateServiceName is NameIsDNS1035Label; most others NameIsDNSSubdomain).
_NAME_RULES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "Namespace": ("a DNS-1123 label (at most 63 characters)", is_dns1123_label),
    "Service": ("a DNS-1035 label (at most 63 characters, starting with a letter)", is_dns1035_label),
    # batch: the Job's name becomes the label batch.kubernetes.io/job-name on its pods
    # (pkg/registry/batch/job/strategy.go generateSelector), validated as a label value.
    "Job": ("a DNS-1123 label of at most 63 characters (it becomes a pod label value)", is_dns1123_label),
    # KubeRay ValidateRayClusterMetadata (ray-operator/controllers/ray/utils/validation.go):
    # at most MaxRayClusterNameLength (53) characters and a DNS-1035 label.
    "RayCluster": ("a DNS-1035 label of at most 53 characters", lambda n: len(n) <= 53 and is_dns1035_label(n)),
}


def _object_names(plan: Plan) -> Iterator[Finding]:
    rule = "object-names"
    for obj in plan.objects:
        name = name_of(obj)
        if not known(name):
            continue
        what, ok = _NAME_RULES.get(obj.get("kind", ""), ("a DNS-1123 subdomain", is_dns1123_subdomain))
        if not ok(name):
            yield Finding(rule, describe(obj), f"metadata.name {name!r} must be {what}")
        ns = namespace_of(obj)
        if ns and known(ns) and not is_dns1123_label(ns):
            yield Finding(rule, describe(obj), f"metadata.namespace {ns!r} must be a DNS-1123 label")


def _label_problems(labels: Mapping[str, Any], where: str, rule: str) -> Iterator[Finding]:
    for key, value in (labels or {}).items():
        if not is_qualified_name(key):
            yield Finding(rule, where, f"label key {key!r} is not a qualified name ([prefix/]name, name at most 63)")
        if isinstance(value, str) and known(value) and not is_label_value(value):
            yield Finding(rule, where, f"label {key}={value!r}: a label value is at most 63 characters of "
                          "[A-Za-z0-9._-], starting and ending alphanumeric")  # fmt: skip


def _selector_problems(selector: Mapping[str, Any] | None, where: str, rule: str) -> Iterator[Finding]:
    selector = selector or {}
    yield from _label_problems(selector.get("matchLabels") or {}, where, rule)
    for expr in selector.get("matchExpressions") or []:
        yield from _label_problems({expr.get("key", ""): v for v in expr.get("values") or []}, where, rule)


def _labels(plan: Plan) -> Iterator[Finding]:
    rule = "labels"
    for obj in plan.objects:
        meta = obj.get("metadata") or {}
        yield from _label_problems(meta.get("labels") or {}, f"{describe(obj)} metadata.labels", rule)
        for key in meta.get("annotations") or {}:
            if not is_qualified_name(key):
                yield Finding(
                    rule, f"{describe(obj)} metadata.annotations", f"annotation key {key!r} is not a qualified name"
                )
        spec = obj.get("spec") or {}
        if isinstance(spec.get("selector"), dict):
            selector = spec["selector"] if obj.get("kind") != "Service" else {"matchLabels": spec["selector"]}
            yield from _selector_problems(selector, f"{describe(obj)} spec.selector", rule)
    for t in plan.templates:
        yield from _label_problems(t.labels, f"{describe(t.owner)} {t.path}.metadata.labels", rule)
        yield from _label_problems(t.spec.get("nodeSelector") or {}, t.where(".nodeSelector"), rule)


def _pod_names(plan: Plan) -> Iterator[Finding]:
    rule = "pod-field-names"
    for t in plan.templates:
        for i, volume in enumerate(t.spec.get("volumes") or []):
            if not is_dns1123_label(volume.get("name", "")):
                yield Finding(
                    rule, t.where(f".volumes[{i}]"), f"volume name {volume.get('name')!r} must be a DNS-1123 label"
                )
        for path, c in t.containers():
            if not is_dns1123_label(c.get("name", "")):
                yield Finding(rule, t.where(path), f"container name {c.get('name')!r} must be a DNS-1123 label")
            for j, port in enumerate(c.get("ports") or []):
                if "name" in port and not is_port_name(port["name"]):
                    yield Finding(rule, t.where(f"{path}.ports[{j}]"), f"port name {port['name']!r} must be an "
                                  "IANA_SVC_NAME (at most 15 characters, lowercase, a letter, no '--')")  # fmt: skip
            for j, env in enumerate(c.get("env") or []):
                if not _ENV_VAR_NAME.match(env.get("name", "")):
                    yield Finding(rule, t.where(f"{path}.env[{j}]"), f"env name {env.get('name')!r} is not a valid "
                                  "environment variable name")  # fmt: skip


def _data_keys(plan: Plan) -> Iterator[Finding]:
    rule = "data-keys"
    for obj in plan.of_kind("ConfigMap", "Secret"):
        for field in ("data", "stringData", "binaryData"):
            for key in obj.get(field) or {}:
                if len(key) > 253 or not _CONFIG_MAP_KEY.match(key):
                    yield Finding(
                        rule, f"{describe(obj)} {field}", f"key {key!r} must be at most 253 of [-._a-zA-Z0-9]"
                    )


def _unique_names(plan: Plan) -> Iterator[Finding]:
    rule = "unique-names"
    for t in plan.templates:
        volumes = [str(v.get("name")) for v in t.spec.get("volumes") or []]
        for name in sorted({n for n in volumes if volumes.count(n) > 1}):
            yield Finding(rule, t.where(".volumes"), f"volume name {name!r} is used more than once")
        names = [str(c.get("name")) for _, c in t.containers()]
        for name in sorted({n for n in names if names.count(n) > 1}):
            yield Finding(rule, t.where(), f"container name {name!r} is used more than once (containers and "
                          "initContainers share one name space)")  # fmt: skip
        for path, c in t.containers():
            ports = [p.get("name") for p in c.get("ports") or [] if p.get("name")]
            for name in sorted({n for n in ports if ports.count(n) > 1}):
                yield Finding(rule, t.where(f"{path}.ports"), f"port name {name!r} is used more than once")
            paths = [m.get("mountPath") for m in c.get("volumeMounts") or []]
            for mount in sorted({p for p in paths if paths.count(p) > 1}):
                yield Finding(rule, t.where(f"{path}.volumeMounts"), f"mountPath {mount!r} must be unique")
    for svc in plan.of_kind("Service"):
        ports = (svc.get("spec") or {}).get("ports") or []
        names = [p.get("name") for p in ports]
        if len(ports) > 1 and not all(names):
            yield Finding(rule, f"{describe(svc)} spec.ports", "every port must be named when there is more than one")
        for name in sorted({n for n in names if n and names.count(n) > 1}):
            yield Finding(rule, f"{describe(svc)} spec.ports", f"port name {name!r} is used more than once")
        keys = [(p.get("port"), p.get("protocol", "TCP")) for p in ports]
        for port, proto in sorted({k for k in keys if keys.count(k) > 1}):
            yield Finding(rule, f"{describe(svc)} spec.ports", f"port {port}/{proto} is listed more than once")


def _selector_matches_template(plan: Plan) -> Iterator[Finding]:
    rule = "selector-matches-template"
    for obj in plan.of_kind("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        spec = obj.get("spec") or {}
        selector = spec.get("selector")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if obj["kind"] == "Job":
            # batch: without manualSelector the API server generates the selector (controller-uid).
            if selector is not None and not spec.get("manualSelector"):
                yield Finding(rule, describe(obj), "spec.selector is set without spec.manualSelector: true "
                              "(the API server generates a Job's selector)")  # fmt: skip
                continue
            if selector is None:
                continue
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            yield Finding(rule, describe(obj), f"empty selector is invalid for {obj['kind']}")
        elif not _selector_matches(selector, labels):
            yield Finding(rule, f"{describe(obj)} spec.template.metadata.labels",
                          f"`selector` does not match template `labels` ({selector} vs {labels})")  # fmt: skip


def _selectors_reach_pods(plan: Plan) -> Iterator[Finding]:
    rule = "selectors-reach-pods"
    for svc in plan.of_kind("Service"):
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            continue  # a Service without a selector has its endpoints managed by someone else
        if not any(t.namespace == namespace_of(svc) and _selector_matches({"matchLabels": selector}, t.labels)
                   for t in plan.templates):  # fmt: skip
            yield Finding(rule, f"{describe(svc)} spec.selector", f"selects no pod of this plan ({selector})")
    for pdb in plan.of_kind("PodDisruptionBudget"):
        selector = (pdb.get("spec") or {}).get("selector")
        if not any(t.namespace == namespace_of(pdb) and _selector_matches(selector, t.labels) for t in plan.templates):
            yield Finding(rule, f"{describe(pdb)} spec.selector", f"selects no pod of this plan ({selector})")
    # A NetworkPolicy applies to the pods its podSelector picks and admits the peers its `from`
    # podSelectors pick (k8s.io/api networking/v1 types.go NetworkPolicySpec, NetworkPolicyPeer); a
    # selector that picks nothing protects or admits nothing. Empty selectors mean every pod.
    for policy in plan.of_kind("NetworkPolicy"):
        spec, ns = policy.get("spec") or {}, namespace_of(policy)
        if not _any_pod(plan, ns, spec.get("podSelector")):
            yield Finding(
                rule, f"{describe(policy)} spec.podSelector", f"selects no pod of this plan ({spec.get('podSelector')})"
            )
        for i, ingress in enumerate(spec.get("ingress") or []):
            for j, peer in enumerate(ingress.get("from") or []):
                if (
                    "podSelector" in peer
                    and "namespaceSelector" not in peer
                    and not _any_pod(plan, ns, peer["podSelector"])
                ):
                    yield Finding(rule, f"{describe(policy)} spec.ingress[{i}].from[{j}].podSelector",
                                  f"admits no pod of this plan ({peer['podSelector']})")  # fmt: skip


def _any_pod(plan: Plan, namespace: str, selector: Mapping[str, Any] | None) -> bool:
    return any(t.namespace == namespace and _selector_matches(selector, t.labels) for t in plan.templates)


def _volume_mounts(plan: Plan) -> Iterator[Finding]:
    rule = "volume-mounts-name-volumes"
    for t in plan.templates:
        volumes = {v.get("name") for v in t.spec.get("volumes") or []}
        for path, c in t.containers():
            for j, mount in enumerate(c.get("volumeMounts") or []):
                if mount.get("name") not in volumes:
                    yield Finding(rule, t.where(f"{path}.volumeMounts[{j}]"), f"volume {mount.get('name')!r} not "
                                  f"found in the pod's volumes {sorted(volumes)}")  # fmt: skip
            for j, device in enumerate(c.get("volumeDevices") or []):
                if device.get("name") not in volumes:
                    yield Finding(
                        rule, t.where(f"{path}.volumeDevices[{j}]"), f"volume {device.get('name')!r} not found"
                    )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _handler_ports(c: Obj) -> Iterator[tuple[str, Any]]:
    for probe in _PROBES:
        for action in ("httpGet", "tcpSocket"):
            port = ((c.get(probe) or {}).get(action) or {}).get("port")
            if port is not None:
                yield f".{probe}.{action}.port", port
    for hook in ("postStart", "preStop"):
        for action in ("httpGet", "tcpSocket"):
            port = (((c.get("lifecycle") or {}).get(hook) or {}).get(action) or {}).get("port")
            if port is not None:
                yield f".lifecycle.{hook}.{action}.port", port


def _named_ports(plan: Plan) -> Iterator[Finding]:
    rule = "named-ports-exist"
    for t in plan.templates:
        for path, c in t.containers():
            names = {p.get("name") for p in c.get("ports") or []}
            for field, port in _handler_ports(c):
                if isinstance(port, str) and not port.isdigit() and port not in names:
                    yield Finding(rule, t.where(path + field), f"named port {port!r} is not a port of container "
                                  f"{c.get('name')!r} ({sorted(n for n in names if n)})")  # fmt: skip
    for policy in plan.of_kind("NetworkPolicy"):
        spec, ns = policy.get("spec") or {}, namespace_of(policy)
        pods = [t for t in plan.templates if t.namespace == ns and _selector_matches(spec.get("podSelector"), t.labels)]
        names = {p.get("name") for t in pods for _, c in t.containers(include_init=False) for p in c.get("ports") or []}
        for i, ingress in enumerate(spec.get("ingress") or []):
            for j, port in enumerate(ingress.get("ports") or []):
                value = port.get("port")
                if pods and isinstance(value, str) and not value.isdigit() and value not in names:
                    yield Finding(rule, f"{describe(policy)} spec.ingress[{i}].ports[{j}]", f"named port {value!r} "
                                  "is not a container port of any pod the policy selects")  # fmt: skip
    for svc in plan.of_kind("Service"):
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if not selector:
            continue
        pods = [t for t in plan.templates
                if t.namespace == namespace_of(svc) and _selector_matches({"matchLabels": selector}, t.labels)]  # fmt: skip
        for i, port in enumerate(spec.get("ports") or []):
            target = port.get("targetPort")
            if not isinstance(target, str) or target.isdigit():
                continue
            for t in pods:
                names = {p.get("name") for _, c in t.containers(include_init=False) for p in c.get("ports") or []}
                if target not in names:
                    yield Finding(rule, f"{describe(svc)} spec.ports[{i}].targetPort", f"named port {target!r} is "
                                  f"not a container port of {describe(t.owner)} {t.path}")  # fmt: skip


def _keys_of(obj: Obj) -> set[str]:
    return {k for field in ("data", "stringData", "binaryData") for k in (obj.get(field) or {})}


def _references(plan: Plan) -> Iterator[Finding]:
    rule = "references-exist"

    def missing(kind: str, ns: str, name: Any, where: str, key: str | None = None) -> Iterator[Finding]:
        if not known(name):
            return
        if (kind, ns, name) in plan.external:
            return
        obj = plan.get(kind, ns, name)
        if obj is None:
            yield Finding(rule, where, f"{kind} {ns}/{name} is neither created by this plan nor a documented "
                          "external object")  # fmt: skip
        elif key is not None and key not in _keys_of(obj):
            yield Finding(rule, where, f"{kind} {ns}/{name} has no key {key!r} (keys: {sorted(_keys_of(obj))})")

    for t in plan.templates:
        ns = t.namespace
        for path, c in t.containers():
            for j, env in enumerate(c.get("env") or []):
                source = env.get("valueFrom") or {}
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    sel = source.get(field)
                    if sel and not sel.get("optional"):
                        yield from missing(kind, ns, sel.get("name"), t.where(f"{path}.env[{j}]"), sel.get("key"))
            for j, env_from in enumerate(c.get("envFrom") or []):
                for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                    sel = env_from.get(field)
                    if sel and not sel.get("optional"):
                        yield from missing(kind, ns, sel.get("name"), t.where(f"{path}.envFrom[{j}]"))
        for j, volume in enumerate(t.spec.get("volumes") or []):
            where = t.where(f".volumes[{j}]")
            for field, kind, name_key in (("secret", "Secret", "secretName"), ("configMap", "ConfigMap", "name")):
                source = volume.get(field)
                if source and not source.get("optional"):
                    items = source.get("items") or [{}]
                    for item in items:
                        yield from missing(kind, ns, source.get(name_key), where, item.get("key"))
            claim = volume.get("persistentVolumeClaim")
            if claim:
                yield from missing("PersistentVolumeClaim", ns, claim.get("claimName"), where)
        for j, secret in enumerate(t.spec.get("imagePullSecrets") or []):
            yield from missing("Secret", ns, secret.get("name"), t.where(f".imagePullSecrets[{j}]"))
        account = t.spec.get("serviceAccountName")
        if account and account != "default":
            yield from missing("ServiceAccount", ns, account, t.where(".serviceAccountName"))
    # KServe: the runtime an InferenceService names or auto-selects (kserve v0.20.0
    # components/predictor.go reconcileModel; tools/kserve_pods.py), unless it is a documented external one.
    for isvc, problem in plan.kserve_problems:
        runtime = ((isvc.get("spec") or {}).get("predictor") or {}).get("model", {}).get("runtime")
        if runtime and (("ServingRuntime", namespace_of(isvc), runtime) in plan.external
                        or ("ClusterServingRuntime", "", runtime) in plan.external):  # fmt: skip
            continue
        yield Finding(rule, describe(isvc), problem)
    # Gateway API: an HTTPRoute's parents and backends (gateway-api's route status conditions
    # Accepted/ResolvedRefs report what is missing; the route then serves nothing).
    for route in plan.of_kind("HTTPRoute", "GRPCRoute"):
        ns = namespace_of(route)
        spec = route.get("spec") or {}
        for i, parent in enumerate(spec.get("parentRefs") or []):
            if parent.get("kind", "Gateway") == "Gateway":
                yield from missing("Gateway", parent.get("namespace", ns), parent.get("name"),
                                   f"{describe(route)} spec.parentRefs[{i}]")  # fmt: skip
        for i, rule_ in enumerate(spec.get("rules") or []):
            for j, backend in enumerate(rule_.get("backendRefs") or []):
                if backend.get("kind", "Service") != "Service":
                    continue
                where = f"{describe(route)} spec.rules[{i}].backendRefs[{j}]"
                svc_ns, svc_name = backend.get("namespace", ns), backend.get("name")
                yield from missing("Service", svc_ns, svc_name, where)
                svc = plan.get("Service", svc_ns, svc_name)
                ports = {p.get("port") for p in ((svc or {}).get("spec") or {}).get("ports") or []}
                if svc is not None and backend.get("port") not in ports:
                    yield Finding(
                        rule, where, f"port {backend.get('port')} is not a port of Service {svc_name} ({sorted(ports)})"
                    )


def _claim_class(claim: Obj) -> str | None:
    return (claim.get("spec") or {}).get("storageClassName")


def _pvc_pv_binding(plan: Plan) -> Iterator[Finding]:
    rule = "pvc-pv-binding"
    for pv in plan.of_kind("PersistentVolume"):
        spec, where = pv.get("spec") or {}, describe(pv)
        sources = [k for k in spec if k in _PV_SOURCES]
        if len(sources) != 1:
            yield Finding(rule, where, f"must specify exactly one volume source, found {sources}")
        if not spec.get("accessModes"):
            yield Finding(rule, where, "at least 1 access mode is required")
        if "storage" not in (spec.get("capacity") or {}):
            yield Finding(rule, where, "spec.capacity.storage is required")
        claim_ref = spec.get("claimRef")
        if claim_ref and known(claim_ref.get("name")):
            claim = plan.get("PersistentVolumeClaim", claim_ref.get("namespace", ""), claim_ref["name"])
            volume_name = ((claim or {}).get("spec") or {}).get("volumeName")
            if claim is not None and known(volume_name) and volume_name != name_of(pv):
                yield Finding(rule, where, f"claimRef names {describe(claim)}, whose volumeName is {volume_name}")
    for pvc in plan.of_kind("PersistentVolumeClaim"):
        spec, where = pvc.get("spec") or {}, describe(pvc)
        if not spec.get("accessModes"):
            yield Finding(rule, where, "at least 1 access mode is required")
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if requested is None:
            yield Finding(rule, where, "spec.resources.requests.storage is required")
        volume_name = spec.get("volumeName")
        if not isinstance(volume_name, str) or not known(volume_name):
            continue
        pv = plan.get("PersistentVolume", "", volume_name)
        if pv is None:
            if ("PersistentVolume", "", volume_name) not in plan.external:
                yield Finding(rule, where, f"volumeName {volume_name} is not a PersistentVolume of this plan")
            continue
        pv_spec = pv.get("spec") or {}
        # pv_controller.go checkVolumeSatisfyClaim: class, volume mode, access modes, size.
        pv_class, claim_class = pv_spec.get("storageClassName", ""), _claim_class(pvc)
        if claim_class is not None and claim_class != pv_class:
            yield Finding(rule, where, f"storageClassName {claim_class!r} differs from {describe(pv)}'s {pv_class!r}")
        if pv_spec.get("volumeMode", "Filesystem") != spec.get("volumeMode", "Filesystem"):
            yield Finding(rule, where, f"volumeMode differs from {describe(pv)}'s")
        missing_modes = set(spec.get("accessModes") or []) - set(pv_spec.get("accessModes") or [])
        if missing_modes:
            yield Finding(rule, where, f"access modes {sorted(missing_modes)} are not offered by {describe(pv)}")
        capacity = (pv_spec.get("capacity") or {}).get("storage")
        if requested is not None and capacity is not None and quantity(requested) > quantity(capacity):
            yield Finding(rule, where, f"requests {requested}, more than {describe(pv)}'s capacity {capacity}")
        claim_ref = pv_spec.get("claimRef")
        if claim_ref and (claim_ref.get("namespace"), claim_ref.get("name")) != (namespace_of(pvc), name_of(pvc)):
            yield Finding(
                rule,
                where,
                f"{describe(pv)} is reserved for claim {claim_ref.get('namespace')}/{claim_ref.get('name')}",
            )


_PV_SOURCES = {
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker",
    "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk",
    "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
}  # fmt: skip


def _workload_specs(plan: Plan) -> Iterator[Finding]:
    rule = "workload-specs"
    for t in plan.templates:
        policy = t.spec.get("restartPolicy")
        kind = t.owner.get("kind")
        if kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"} and policy not in (None, "Always"):
            yield Finding(rule, t.where(".restartPolicy"), f"{kind} pods must have restartPolicy Always, not {policy}")
        if kind == "Job" and policy not in ("Never", "OnFailure"):
            yield Finding(
                rule, t.where(".restartPolicy"), f"Job pods need restartPolicy Never or OnFailure, not {policy}"
            )
    for deployment in plan.of_kind("Deployment"):
        rolling = ((deployment.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
        if (
            rolling
            and str(rolling.get("maxSurge", "25%")) in ("0", "0%")
            and str(rolling.get("maxUnavailable", "25%")) in ("0", "0%")
        ):
            yield Finding(rule, f"{describe(deployment)} spec.strategy.rollingUpdate",
                          "maxUnavailable may not be 0 when maxSurge is 0")  # fmt: skip
    for pdb in plan.of_kind("PodDisruptionBudget"):
        spec = pdb.get("spec") or {}
        if "minAvailable" in spec and "maxUnavailable" in spec:
            yield Finding(rule, describe(pdb), "minAvailable and maxUnavailable cannot be both set")
    for ray in plan.of_kind("RayCluster"):
        for i, group in enumerate((ray.get("spec") or {}).get("workerGroupSpecs") or []):
            low, high, replicas = group.get("minReplicas"), group.get("maxReplicas"), group.get("replicas")
            where = f"{describe(ray)} spec.workerGroupSpecs[{i}]"
            if low is not None and high is not None and low > high:
                yield Finding(rule, where, f"minReplicas {low} greater than maxReplicas {high}")
            if replicas is not None and low is not None and high is not None and not low <= replicas <= high:
                yield Finding(rule, where, f"replicas {replicas} outside [minReplicas {low}, maxReplicas {high}]")


RULES: list[Rule] = [
    Rule("requests-within-limits", "core ValidateResourceRequirements (via validateContainers and "
         "validateInitContainers): request <= limit; IsOvercommitAllowed resources request == limit", _requests_within_limits),
    Rule("object-names", "core ValidateObjectMeta with NameIsDNSSubdomain / ValidateNamespaceName (NameIsDNSLabel) / "
         "ValidateServiceName (NameIsDNS1035Label); batch generateSelector job-name label; KubeRay "
         "ValidateRayClusterMetadata", _object_names),
    Rule("labels", "apimachinery meta/v1/validation ValidateLabels (IsQualifiedName, IsValidLabelValue) and "
         "ValidateLabelSelector; core ValidatePodSpec nodeSelector; ValidateAnnotations", _labels),
    Rule("pod-field-names", "core ValidateVolumes (IsDNS1123Label), validateContainers (IsDNS1123Label), "
         "validateContainerPorts (IsValidPortName), ValidateEnv (IsEnvVarName)", _pod_names),
    Rule("data-keys", "core ValidateConfigMap / ValidateSecret (IsConfigMapKey)", _data_keys),
    Rule("unique-names", "core validateContainers / validateInitContainers (container names), ValidateVolumes, "
         "validateContainerPorts, ValidateVolumeMounts (mountPath must be unique), ValidateService (port names, "
         "port/protocol pairs)", _unique_names),
    Rule("selector-matches-template", "apps ValidateDeploymentSpec / ValidateReplicaSetSpec / "
         "ValidateStatefulSetSpec / ValidateDaemonSetSpec; batch validateJobSpec (manualSelector)", _selector_matches_template),
    Rule("selectors-reach-pods", "not an API-server rule: pkg/controller/endpointslice (a Service's selector picks "
         "its endpoints), pkg/controller/disruption getPodsForPdb (a PDB protects the pods it selects), "
         "NetworkPolicy podSelector / from.podSelector (k8s.io/api networking/v1 NetworkPolicySpec)", _selectors_reach_pods),
    Rule("volume-mounts-name-volumes", "core ValidateVolumeMounts / ValidateVolumeDevices (volumes: Not found)", _volume_mounts),
    Rule("named-ports-exist", "kubelet: pkg/probe/util.go ResolveContainerPort (a probe's named port); "
         "pkg/api/v1/pod/util.go FindPort (a Service targetPort name, else no endpoint); NetworkPolicyPort named "
         "ports resolve on the selected pods", _named_ports),
    Rule("references-exist", "kubelet: pkg/kubelet/kubelet_pods.go makeEnvironmentVariables (secretKeyRef, "
         "configMapKeyRef, envFrom -> CreateContainerConfigError), volume mounters (secret/configMap/PVC not "
         "found); Gateway API route ResolvedRefs; KServe reconcileModel/GetServingRuntime (the predictor's "
         "runtime exists and supports its model format)", _references),
    Rule("pvc-pv-binding", "core ValidatePersistentVolumeSpec / ValidatePersistentVolumeClaimSpec; "
         "pkg/controller/volume/persistentvolume/pv_controller.go checkVolumeSatisfyClaim", _pvc_pv_binding),
    Rule("workload-specs", "apps ValidatePodTemplateSpecForReplicaSet / ValidateRollingUpdateDeployment; batch "
         "validateJobSpec (restartPolicy); policy ValidatePodDisruptionBudgetSpec; KubeRay ValidateRayClusterSpec",
         _workload_specs),
]  # fmt: skip


def check(objects: list[Obj], external: Mapping[Ref, str] | None = None) -> list[Finding]:
    """Every finding over one plan's Kubernetes objects. `external` lists objects the plan refers to
    but does not create, each with the reason it exists (e.g. the user's existing claim)."""
    plan = Plan(objects, external)
    return [finding for rule in RULES for finding in rule.check(plan)]


# ---------------------------------------------------------------------------------------------
# Immutable fields between two plans of the same stack.


@dataclass(frozen=True)
class ImmutableChange:
    kind: str
    namespace: str
    name: str
    path: str
    mirrors: str

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}: {self.path} is immutable ({self.mirrors})"


# (kind, field path, the update validation that refuses it). A path of "spec.*" means every
# field of spec except the listed mutable ones.
_IMMUTABLE: list[tuple[str, str, str]] = [
    ("Deployment", "spec.selector", "apps ValidateDeploymentUpdate"),
    ("ReplicaSet", "spec.selector", "apps ValidateReplicaSetUpdate"),
    ("DaemonSet", "spec.selector", "apps ValidateDaemonSetUpdate"),
    ("StatefulSet", "spec.*-replicas,template,updateStrategy,persistentVolumeClaimRetentionPolicy,minReadySeconds,ordinals",
     "apps ValidateStatefulSetUpdate"),
    ("Job", "spec.selector", "batch ValidateJobSpecUpdate"),
    ("Job", "spec.template", "batch ValidateJobSpecUpdate"),
    ("Job", "spec.completions", "batch ValidateJobSpecUpdate"),
    ("Job", "spec.completionMode", "batch ValidateJobSpecUpdate"),
    ("Job", "spec.podFailurePolicy", "batch ValidateJobSpecUpdate"),
    ("PersistentVolumeClaim", "spec.*-resources,volumeAttributesClassName",
     "core ValidatePersistentVolumeClaimUpdate (spec is immutable after creation except resources.requests)"),
    ("PersistentVolume", "spec.#source", "core ValidatePersistentVolumeUpdate (persistentvolumesource is immutable)"),
    ("PersistentVolume", "spec.volumeMode", "core ValidatePersistentVolumeUpdate"),
    ("PersistentVolume", "spec.nodeAffinity", "core ValidatePersistentVolumeUpdate"),
    ("Service", "spec.clusterIP", "core ValidateServiceUpdate"),
    ("StorageClass", "provisioner", "storage ValidateStorageClassUpdate"),
    ("StorageClass", "parameters", "storage ValidateStorageClassUpdate"),
    ("StorageClass", "reclaimPolicy", "storage ValidateStorageClassUpdate"),
    ("StorageClass", "volumeBindingMode", "storage ValidateStorageClassUpdate"),
    ("Secret", "#immutable-data", "core ValidateSecretUpdate (immutable: true)"),
    ("ConfigMap", "#immutable-data", "core ValidateConfigMapUpdate (immutable: true)"),
]  # fmt: skip


def _field(obj: Obj, path: str) -> Any:
    data: Any = obj
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _changed(old: Obj, new: Obj, path: str) -> list[str]:
    if path == "spec.#source":
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        return [f"spec.{k}" for k in sorted(_PV_SOURCES) if old_spec.get(k) != new_spec.get(k)]
    if path == "#immutable-data":
        if not old.get("immutable"):
            return []
        return [f for f in ("data", "stringData", "binaryData", "immutable") if old.get(f) != new.get(f)]
    if path.startswith("spec.*-"):
        mutable = set(path.removeprefix("spec.*-").split(","))
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        keys = (set(old_spec) | set(new_spec)) - mutable
        return [f"spec.{k}" for k in sorted(keys) if old_spec.get(k) != new_spec.get(k)]
    return [path] if _field(old, path) != _field(new, path) else []


def immutable_changes(old_objects: list[Obj], new_objects: list[Obj]) -> list[ImmutableChange]:
    """Fields that change between two plans on an object of the same kind, namespace and name, which
    the API server refuses to update (the object must be deleted and created again, or renamed).

    Objects are matched by (API group, kind, namespace, name), as the API server knows them."""

    def key(obj: Obj) -> tuple[str, str, str, str]:
        group = obj.get("apiVersion", "").rpartition("/")[0]
        return (group, obj.get("kind", ""), namespace_of(obj), name_of(obj))

    old_by_key = {key(o): o for o in old_objects}
    classes = {name_of(o): o for o in new_objects if o.get("kind") == "StorageClass"}
    changes = []
    for new in new_objects:
        old = old_by_key.get(key(new))
        if old is None:
            continue
        kind = new.get("kind", "")
        if kind == "PersistentVolumeClaim":
            changes += _claim_resize(old, new, classes)
        for rule_kind, path, mirrors in _IMMUTABLE:
            if rule_kind != kind:
                continue
            for changed in _changed(old, new, path):
                changes.append(ImmutableChange(kind, namespace_of(new), name_of(new), changed, mirrors))
    return changes


def _claim_resize(old: Obj, new: Obj, classes: Mapping[str, Obj]) -> list[ImmutableChange]:
    """A claim's storage request may only grow, and only through a StorageClass that allows expansion:
    the PersistentVolumeClaimResize admission plugin (enabled by default;
    plugin/pkg/admission/storage/persistentvolume/resize/admission.go Validate/allowResize) refuses a
    claim of class "" (a static PV) or of a class without allowVolumeExpansion; core
    ValidatePersistentVolumeClaimUpdate refuses a smaller request. A class the plan does not create
    (the cluster's own) is given the benefit of the doubt."""

    def storage(obj: Obj) -> Any:
        return (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")

    before, after = storage(old), storage(new)
    if before is None or after is None or not known(str(before)) or not known(str(after)):
        return []
    where = ("PersistentVolumeClaim", namespace_of(new), name_of(new), "spec.resources.requests.storage")
    if quantity(after) < quantity(before):
        return [
            ImmutableChange(*where, "core ValidatePersistentVolumeClaimUpdate: can not be less than previous value")
        ]
    if quantity(after) == quantity(before):
        return []
    storage_class = (new.get("spec") or {}).get("storageClassName")
    if storage_class == "":
        reason = 'storageClassName "" (a static volume) cannot be resized'
    elif (
        isinstance(storage_class, str)
        and storage_class in classes
        and not classes[storage_class].get("allowVolumeExpansion")
    ):
        reason = f"StorageClass {storage_class} does not set allowVolumeExpansion"
    else:
        return []
    return [ImmutableChange(*where, f"admission PersistentVolumeClaimResize: {reason}")]
