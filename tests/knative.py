"""What Knative Serving does with the Knative Service KServe writes for a Serverless InferenceService,
restated from its source so tests can hold our objects against it offline: the webhook's checks of the
serving container, the container and names of the pod it builds. Release: knative/serving v0.48.1 (the
one kserve v0.20.0's go.mod requires), knative/pkg 4a022ed9999a (serving v0.48.1's go.mod)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

VALID_PORT_NAMES = {"", "h2c", "http1"}
"""pkg/apis/serving/k8s_validation.go validPortNames: the only names the serving container's port may have."""
USER_PORT_NAME = "user-port"
"""pkg/apis/serving/v1/revision_helpers.go UserPortName: the serving container's port on the pod."""
DEFAULT_USER_PORT = 8080  # revision_helpers.go DefaultUserPort
QUEUE_PROXY_METRICS_PORTS = {"http-autometric": 9090, "http-usermetric": 9091}
"""pkg/reconciler/revision/resources/queue.go queueNonServingPorts: queue-proxy's own metrics (requests
it proxied, for Knative's autoscaler and for users; numbers: pkg/networking/constants.go), not vLLM's."""
REVISION_LABEL = "serving.knative.dev/revision"  # pkg/apis/serving/register.go RevisionLabelKey
QUEUE_PROXY = "queue-proxy"  # pkg/reconciler/revision/resources/constants.go QueueContainerName
BACKEND_PORTS = {"http1": 8012, "h2c": 8013}
"""pkg/networking/constants.go BackendHTTPPort, BackendHTTP2Port: queue-proxy's serving port by protocol."""
QUEUE_ADMIN_PORT = (
    8022  # pkg/networking/constants.go QueueAdminPort: deploy.go userLifecycle preStop, called by the kubelet
)
BACKEND_HTTPS_PORT = (
    8112  # pkg/networking/constants.go BackendHTTPSPort: queue-proxy's TLS listener (system-internal-tls)
)
AUTOSCALER_SCRAPE_PORT = 9090
"""pkg/autoscaler/metrics/stats_scraper.go portAndPath: the autoscaler scrapes each pod's IP on
networking.AutoscalingQueueMetricsPort (the private Service's http-autometric targets the same port)."""
SYSTEM_NAMESPACES = {
    "activator": "knative-serving",
    "autoscaler": "knative-serving",
    "ingress": "knative-serving-ingress",
}
"""Where OpenShift Serverless runs them: Red Hat OpenShift Serverless 1.30, Serving, "Restrictive network
policies" (https://access.redhat.com/documentation/en-us/red_hat_openshift_serverless/1.30/html/serving/
restrictive-network-policies): knative-serving and knative-serving-ingress need access to the app."""


def protocol(container: dict[str, Any]) -> str:
    """pkg/apis/serving/v1/revision_helpers.go GetProtocol: h2c when the first port is named so, else http1."""
    ports = container.get("ports") or []
    return "h2c" if ports and ports[0].get("name") == "h2c" else "http1"


def revision_target_port(container: dict[str, Any]) -> int:
    """pkg/reconciler/serverlessservice/resources/services.go targetPort: the pod port the revision's public
    and private Services send requests to (from the activator, or the ingress when the revision is
    served directly), queue-proxy's."""
    return BACKEND_PORTS[protocol(container)]


def queue_proxy_container(container: dict[str, Any]) -> dict[str, Any]:
    """The ports of the queue-proxy Knative adds to the pod (pkg/reconciler/revision/resources/queue.go
    makeQueueContainer: queueNonServingPorts, the serving port by protocol and the HTTPS port; the profiling
    port only with profiling on). The admin port 8022 is not a container port (the kubelet's preStop hook)."""
    return {
        "name": QUEUE_PROXY,
        "ports": [
            {"name": name, "containerPort": number} for name, number in QUEUE_PROXY_METRICS_PORTS.items()
        ] + [
            {"name": "queue-port", "containerPort": revision_target_port(container)},
            {"name": "https-port", "containerPort": BACKEND_HTTPS_PORT},
        ],
    }  # fmt: skip


def webhook_errors(container: dict[str, Any]) -> list[str]:
    """ValidateUserContainer: validateContainerPorts (the first port's name) and validateProbe for the
    liveness and readiness probes (a named probe port must be the container port's name)."""
    errors = []
    ports = container.get("ports") or []
    if ports and ports[0].get("name", "") not in VALID_PORT_NAMES:
        errors.append(f"Port name {ports[0]['name']} is not allowed")
    name = ports[0].get("name", "") if ports else ""
    for probe in ("livenessProbe", "readinessProbe"):
        port = ((container.get(probe) or {}).get("httpGet") or {}).get("port")
        if isinstance(port, str) and port not in ("", name):
            errors.append(f"{probe}.httpGet.port {port}: Probe port must match container port")
    return errors


def pod_container(container: dict[str, Any]) -> dict[str, Any]:
    """deploy.go makeServingContainer: the ports become one `user-port` (the first port's number, else
    8080), the readiness probe moves to queue-proxy, the liveness probe is rewritten to the port number;
    everything else (the startup probe too) stays as written."""
    out = copy.deepcopy(container)
    ports = container.get("ports") or []
    number = ports[0].get("containerPort") if ports else None
    out["ports"] = [{"name": USER_PORT_NAME, "containerPort": number or DEFAULT_USER_PORT}]
    out.pop("readinessProbe", None)
    if (out.get("livenessProbe") or {}).get("httpGet"):
        out["livenessProbe"]["httpGet"]["port"] = number or DEFAULT_USER_PORT
    return out


def child_name(parent: str, suffix: str) -> str:
    """knative/pkg kmeta/names.go ChildName: parent+suffix, or, past 63 characters, the parent cut short
    and the md5 of the whole parent in between."""
    longest, md5_len = 63, 32
    head = longest - md5_len
    if len(parent) <= longest - len(suffix):
        return parent + suffix
    if head - len(suffix) <= 0:
        raise NotImplementedError("suffixes this long do not occur here")
    return f"{parent[: head - len(suffix)]}{hashlib.md5(parent.encode()).hexdigest()}{suffix}"


def revision_name(configuration: str, generation: int) -> str:
    """pkg/reconciler/configuration/resources/revision.go: ChildName(configuration, "-%05d" generation)."""
    return child_name(configuration, f"-{generation:05d}")


def deployment_name(revision: str) -> str:
    """pkg/reconciler/revision/resources/names/names.go Deployment: ChildName(revision, "-deployment")."""
    return child_name(revision, "-deployment")


# pkg/apis/serving/fieldmask.go PodSpecMask: the pod fields a revision may set. Always allowed (automount
# only as false), never allowed, and allowed by a config-features flag (pkg/apis/config/features.go; all
# Disabled by default, defaultFeaturesConfig). k8s_validation.go ValidatePodSpec refuses any other field
# (apis.CheckDisallowedFields: "must not set the field(s)").
POD_SPEC_ALLOWED = {"serviceAccountName", "containers", "volumes", "imagePullSecrets", "enableServiceLinks"}
POD_SPEC_FEATURES = {
    "affinity": "kubernetes.podspec-affinity",
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "hostAliases": "kubernetes.podspec-hostaliases",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "tolerations": "kubernetes.podspec-tolerations",
    "securityContext": "kubernetes.podspec-securitycontext",
    "shareProcessNamespace": "kubernetes.podspec-shareprocessnamespace",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "schedulerName": "kubernetes.podspec-schedulername",
    "initContainers": "kubernetes.podspec-init-containers",
    "dnsPolicy": "kubernetes.podspec-dnspolicy",
    "dnsConfig": "kubernetes.podspec-dnsconfig",
    "hostIPC": "kubernetes.podspec-hostipc",
    "hostPID": "kubernetes.podspec-hostpid",
    "hostNetwork": "kubernetes.podspec-hostnetwork",
}
POD_SECURITY_CONTEXT_ALLOWED = {
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "fsGroup",
    "supplementalGroups",
    "seccompProfile",
}
"""fieldmask.go PodSecurityContextMask with kubernetes.podspec-securitycontext enabled."""


def pod_spec_errors(spec: dict[str, Any], features: frozenset[str] = frozenset()) -> list[str]:
    """ValidatePodSpec's field checks of a revision's pod spec (the Knative Service's
    spec.template.spec) with the config-features flags in `features` enabled."""
    errors = []
    for key, value in spec.items():
        if key == "automountServiceAccountToken":
            if value is not False:
                errors.append("must not set the field(s): automountServiceAccountToken (only false)")
        elif key in POD_SPEC_FEATURES:
            if POD_SPEC_FEATURES[key] not in features:
                errors.append(f"must not set the field(s): {key} (feature {POD_SPEC_FEATURES[key]} disabled)")
            elif key == "securityContext":
                errors += [f"must not set the field(s): securityContext.{k}" for k in value
                           if k not in POD_SECURITY_CONTEXT_ALLOWED]  # fmt: skip
        elif key not in POD_SPEC_ALLOWED:
            errors.append(f"must not set the field(s): {key}")
    return errors
