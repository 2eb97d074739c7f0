"""Which input changes a provider cannot apply in place (Pulumi shows them as `+- replace`), per
resource type the program registers. Paths are wire-form (camelCase) input paths; `[*]` is any list
index; a path covers everything below it. Each table says where it comes from.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ForceNew:
    paths: tuple[str, ...]
    source: str


# ------------------------------------------------------------------------------------------
# Kubernetes: pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (forceNewProperties), verbatim
# for the kinds this program uses. Every kind also replaces on .metadata.name / .metadata.namespace.
# ------------------------------------------------------------------------------------------
_K8S_SOURCE = "pulumi/pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties"
_METADATA = ("metadata.name", "metadata.namespace")
_LABEL_SELECTOR = ("spec.selector",)  # .matchLabels/.matchExpressions are below it
_CONTAINER_FIELDS = ("args", "command", "env", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "ports",
                     "readinessProbe", "resources", "securityContext", "stdin", "stdinOnce", "terminationMessagePath",
                     "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts", "workingDir")  # fmt: skip
_POD_SPEC = ("affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy", "enableServiceLinks",
             "hostAliases", "hostIPC", "hostNetwork", "hostPID", "hostname", "imagePullSecrets", "nodeName",
             "nodeSelector", "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates",
             "restartPolicy", "runtimeClassName", "schedulerName", "securityContext", "serviceAccount",
             "serviceAccountName", "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds",
             "volumes")  # fmt: skip
_PV_SOURCES = ("awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume",
               "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs",
               "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos",
               "vsphereVolume")  # fmt: skip

KUBERNETES: dict[str, tuple[str, ...]] = {
    "apps/v1:Deployment": _LABEL_SELECTOR,
    "apps/v1:DaemonSet": _LABEL_SELECTOR,
    "apps/v1:StatefulSet": (
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "batch/v1:Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "core/v1:ConfigMap": ("binaryData", "data"),
    "core/v1:PersistentVolume": tuple(f"spec.{s}" for s in _PV_SOURCES),
    "core/v1:PersistentVolumeClaim": ("spec",),
    "core/v1:Pod": tuple(f"spec.{f}" for f in _POD_SPEC)
    + tuple(f"spec.{c}[*].{f}" for c in ("containers", "initContainers") for f in _CONTAINER_FIELDS),
    "core/v1:ResourceQuota": ("spec.scopes",),
    "core/v1:Secret": ("type", "stringData", "data"),
    "core/v1:Service": ("spec.clusterIP",),
    "rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
    "rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
    # policy/v1 PodDisruptionBudget: diff.go lists only policy/v1beta1, so v1 updates in place.
}

# ------------------------------------------------------------------------------------------
# DigitalOcean: pulumi-digitalocean bridges digitalocean/terraform-provider-digitalocean; the
# attributes with `ForceNew: true` in its schema (mirror at commit 401992a1e493).
# ------------------------------------------------------------------------------------------
DIGITALOCEAN: dict[str, ForceNew] = {
    "digitalocean:index/kubernetesCluster:KubernetesCluster": ForceNew(
        (
            "region",
            "vpcUuid",
            "workerSubnetUuid",
            "clusterSubnet",
            "serviceSubnet",
            "isolatedWorkers",
            "nodePool.size",
            "nodePool.gpuPartitionMode",
        ),
        "digitalocean/kubernetes/resource_kubernetes_cluster.go + kubernetes.go nodePoolSchema "
        "(also: a lower `version` forces a new cluster, CustomizeDiff ForceNewIfChange)",
    ),
    "digitalocean:index/kubernetesNodePool:KubernetesNodePool": ForceNew(
        ("clusterId", "size", "gpuPartitionMode"), "digitalocean/kubernetes/kubernetes.go nodePoolSchema"
    ),
    "digitalocean:index/nfs:Nfs": ForceNew(("region", "name", "vpcId"), "digitalocean/nfs/resource_nfs.go"),
    "digitalocean:index/vpc:Vpc": ForceNew(("region", "ipRange"), "digitalocean/vpc/resource_vpc.go"),
}

OTHER: dict[str, ForceNew] = {
    # hashicorp/terraform-provider-random (bridged by pulumi-random): every argument of random_password
    # RequiresReplace; `keepers` exists to force a new value.
    "random:index/randomPassword:RandomPassword": ForceNew(("",), "terraform-provider-random resource_password.go"),
    # A Helm release is found by name in its namespace; `helm upgrade` cannot move or rename one.
    "kubernetes:helm.sh/v3:Release": ForceNew(("name", "namespace"), "Helm: releases are keyed by name+namespace"),
    # Provider resources: a changed kubeconfig updates the provider; Pulumi replaces what it manages only
    # if the provider itself reports a replace (a different cluster), which the mock engine cannot know.
    "pulumi:providers:kubernetes": ForceNew((), "pulumi-kubernetes DiffConfig (not modelled offline)"),
}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_PARAM = re.compile(r":param (?P<type>.+?) (?P<name>\w+): (?P<doc>.*)")
_NESTED = re.compile(r"'(\w+Args)'")


def _oci_force_new(module: object, args_class: str, prefix: str, depth: int = 0) -> list[str]:
    """Inputs of an OCI args class not marked "(Updatable)", recursing into updatable nested args."""
    cls = getattr(module, args_class, None)
    doc = (getattr(cls, "__init__", None) and cls.__init__.__doc__) or ""  # type: ignore[union-attr]
    paths: list[str] = []
    for match in _PARAM.finditer(doc):
        path = f"{prefix}{_camel(match['name'])}"
        path_below = f"{path}[*]." if "Sequence[" in match["type"] else f"{path}."
        if not match["doc"].startswith("(Updatable)"):
            paths.append(path)
        elif (nested := _NESTED.search(match["type"])) and depth < 4:
            paths += _oci_force_new(module, nested[1], path_below, depth + 1)
    return paths


@functools.cache
def oci(type_token: str) -> ForceNew | None:
    """OCI: the terraform-provider-oci docs mark each argument that updates in place "(Updatable)";
    pulumi-oci copies those docs into its SDK, so the installed (locked) pulumi_oci is read."""
    pkg, mod_and_name, cls_name = type_token.split(":")
    if pkg != "oci":
        return None
    module = importlib.import_module(f"pulumi_oci.{mod_and_name.split('/')[0].lower()}")
    if getattr(module, f"{cls_name}Args", None) is None:
        return None
    return ForceNew(
        tuple(_oci_force_new(module, f"{cls_name}Args", "")),
        "oracle/terraform-provider-oci docs (arguments without '(Updatable)'), as shipped in pulumi_oci "
        f"{cls_name}Args docstrings",
    )


def table(type_token: str) -> ForceNew | None:
    """The force-new paths of a resource type, or None when no table covers it."""
    if type_token in DIGITALOCEAN:
        return DIGITALOCEAN[type_token]
    if type_token in OTHER:
        return OTHER[type_token]
    if type_token.startswith("kubernetes:"):
        group_kind = type_token.split(":", 1)[1]
        return ForceNew(_METADATA + KUBERNETES.get(group_kind, ()), _K8S_SOURCE)
    if type_token.startswith("oci:"):
        return oci(type_token)
    return None


def _parts(path: str) -> list[str]:
    return [p for p in re.split(r"\.|(?=\[)", path) if p]


def covers(pattern: str, path: str) -> bool:
    """Whether a change at `path` (e.g. spec.template.spec.containers[0].image) falls under `pattern`
    (e.g. spec.template, spec.containers[*].image); the empty pattern covers every input."""
    want, have = _parts(pattern), _parts(path)
    if len(want) > len(have):
        return False
    return all(w == h or (w == "[*]" and h.startswith("[")) for w, h in zip(want, have, strict=False))


def forces_replacement(type_token: str, path: str) -> bool:
    entry = table(type_token)
    return entry is not None and any(covers(p, path) for p in entry.paths)
