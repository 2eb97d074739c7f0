"""One KServe InferenceService per model: the weights' s3:// URI, the model's vLLM flags, its GPUs and
GPU pool, and the deployment mode and token authentication OpenShift AI reads from its annotations.

Sources (each annotation and label):
- `serving.kserve.io/deploymentMode`: kserve v0.20.0 pkg/constants/constants.go (DeploymentMode;
  `RawDeployment` and `Serverless` are the legacy names v0.20.0 still accepts and normalises to
  Standard / Knative, ParseDeploymentMode). OpenShift AI 2.19, section 2.10 "About KServe deployment
  modes": the standard mode "uses KServe RawDeployment mode" and needs neither the OpenShift Serverless
  Operator, Service Mesh nor Authorino; the advanced mode is Knative Serverless
  (https://docs.redhat.com/en/documentation/red_hat_openshift_ai_self-managed/2.19/html/serving_models/about-kserve-deployment-modes_serving-large-models;
  read in its ja and zh-cn editions at the same path).
- `security.opendatahub.io/enable-auth: "true"`: OpenShift AI's token authentication ("If you secured your
  model inference endpoint by enabling token authentication ...",
  https://docs.redhat.com/en/documentation/red_hat_openshift_ai_self-managed/3.4/html/deploying_models/making_inference_requests_to_deployed_models);
  the controller reads exactly this key (opendatahub-io/odh-model-controller, commit
  57b43aad41aea718861b6c70b38a16794fc4ac8e, internal/controller/constants/constants.go
  EnableAuthODHAnnotation; kserve_raw_clusterrolebinding_reconciler.go, kserve_raw_route_reconciler.go).
  In RawDeployment OpenShift AI's KServe (opendatahub-io/kserve, commit
  3cf0a0416662e3db328f6ddf4755ce730f41c747) then runs a kube-rbac-proxy beside vLLM on 8443
  (pkg/constants/constants_odh.go OauthProxyPort; deployment_reconciler.go: --secure-listen-address,
  --upstream=http://localhost:<vLLM port>, a SubjectAccessReview of verb `get` on the
  inferenceservices resource) and the predictor Service's port 80 becomes `https` 8443
  (reconcilers/service/service_reconciler_odh.go).
- `opendatahub.io/dashboard: "true"` and `openshift.io/display-name`: what the OpenShift AI dashboard
  lists (odh-model-controller config/runtimes/vllm/vllm-cuda-template.yaml labels its runtime so).
- `serving.knative.dev/progress-deadline` (Serverless only): OpenShift AI "Setting a timeout for KServe"
  (https://docs.redhat.com/en/documentation/red_hat_openshift_ai_cloud_service/1/html/managing_and_monitoring_models/managing_and_monitoring_models_on_the_single_model_serving_platform):
  Knative's default 10 minutes fails a pod that loads a large model from S3 for longer.
- No `networking.kserve.io/visibility: exposed` label: with it odh-model-controller creates its own Route
  (kserve_raw_route_reconciler.go); this program creates the Route itself (components/openshift/route.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.kserve.runtime import MODEL_FORMAT, PORT, PORT_NAME
from components.workloads.engine import EngineFlags, engine_flags
from components.workloads.server_container import gpu_resources, health_probes
from components.workloads.types import GpuPlacement, pod_security_context
from components.workloads.wire import camel

DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
ENABLE_AUTH = "security.opendatahub.io/enable-auth"
KNATIVE_PROGRESS_DEADLINE = "serving.knative.dev/progress-deadline"


def model_args(engine: EngineFlags) -> list[str]:
    """The model's own `vllm serve` options, as the runtime's `--flag=value` ones: KServe appends them to the
    ServingRuntime's arguments (the model path, host and port: components/kserve/runtime.py)."""
    return [f"{flag}={value}" for flag, value in engine_flags(engine)] + list(engine.extra_args)


@dataclass(frozen=True)
class InferenceServiceArgs:
    namespace: pulumi.Input[str]
    name: str
    """A DNS label of at most 53 characters (KServe appends `-predictor`)."""
    runtime_name: pulumi.Input[str]
    storage_uri: pulumi.Input[str]
    service_account_name: pulumi.Input[str]
    """Lists the S3 secret the storage initializer reads (components/kserve/s3_connection.py)."""
    engine: EngineFlags
    """The same engine settings as the plain and the Ray server (components/workloads/engine.py)."""
    placement: GpuPlacement
    cpu: str = "4"
    memory: str = "32Gi"
    replicas: int = 1
    deployment_mode: Literal["RawDeployment", "Serverless"] = "RawDeployment"
    token_auth: bool = False
    startup_timeout_seconds: int = 1800
    termination_grace_period_seconds: int = 120
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""
    download_gb: float | None = None
    """GB the storage initializer copies into the pod (the checkpoint); None: not known."""
    pod_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    wait_for: list[pulumi.Resource] = field(default_factory=list)


# Serverless (knative/serving v0.48.1, knative/pkg 4a022ed9999a as its go.mod requires): KServe's Knative
# Service is `<isvc>-predictor` (kserve v0.20.0 constants.PredictorServiceName), each revision
# kmeta.ChildName(configuration, "-%05d" generation) (pkg/reconciler/configuration/resources/revision.go) and
# its Deployment ChildName(revision, "-deployment") (pkg/reconciler/revision/resources/names/names.go);
# ChildName hashes a name past 63 characters (the parent cut short, its md5 in between).
KNATIVE_USER_PORT_NAME = "user-port"
"""The serving container's port on the pod Knative builds, whatever the revision named it
(pkg/apis/serving/v1/revision_helpers.go UserPortName; deploy.go buildContainerPorts)."""
KNATIVE_QUEUE_PORT = 8012
"""queue-proxy's serving port on each revision pod, where every request arrives: the revision's public and
private Services target it (pkg/reconciler/serverlessservice/resources/services.go targetPort:
networking.BackendHTTPPort, 8012 in pkg/networking/constants.go; BackendHTTP2Port 8013 only when the serving
port is named h2c, revision_helpers.go GetProtocol, and the runtime's is http1), sent by the activator
(knative-serving) or the ingress. queue-proxy forwards to vLLM's port inside the pod. Its HTTPS port
(BackendHTTPSPort 8112) serves only with Knative's system-internal-tls, which is not opened here."""
KNATIVE_AUTOSCALER_METRICS_PORT = 9090
"""queue-proxy's request metrics, which Knative's autoscaler (knative-serving) scrapes on each pod's IP
(pkg/autoscaler/metrics/stats_scraper.go portAndPath: networking.AutoscalingQueueMetricsPort, 9090)."""
_KNATIVE_NAME_MAX = 63
_KNATIVE_DEPLOYMENT_SUFFIX = "-predictor-00001-deployment"


def knative_deployment_pattern(name: str) -> str | None:
    """The names of the Deployments Knative runs an InferenceService's predictor revisions in, as a
    regular expression (RE2, anchored by Prometheus); None when Knative would hash them, an isvc name
    longer than 36 characters, so no expression names this model's Deployments alone."""
    if len(name) + len(_KNATIVE_DEPLOYMENT_SUFFIX) > _KNATIVE_NAME_MAX:
        return None
    return f"{name}-predictor-[0-9]{{5,}}-deployment"


def probe_port(deployment_mode: str) -> str | int:
    """The port the probes name. RawDeployment: the runtime's named port. Serverless: its number, because
    Knative (knative/serving v0.48.1) renames the serving container's port to "user-port" on the pod
    (pkg/reconciler/revision/resources/deploy.go makeServingContainer/buildContainerPorts) and rewrites only
    the liveness probe to the number (rewriteUserLivenessProbe; the readiness probe moves to queue-proxy):
    a startup probe naming the port would find no such port on the pod. Knative's webhook accepts a number
    (pkg/apis/serving/k8s_validation.go validateProbe checks only a named port against the container's)."""
    return PORT_NAME if deployment_mode == "RawDeployment" else PORT


def grace_fields(deployment_mode: str, grace_seconds: int) -> dict[str, int]:
    """How long a stopping predictor pod may drain its requests. RawDeployment: the pod's own
    terminationGracePeriodSeconds. Serverless (knative/serving v0.48.1): Knative's webhook refuses that field
    (pkg/apis/serving/fieldmask.go PodSpecMask, "Disallowed fields") and sets it to the revision's
    timeoutSeconds (pkg/reconciler/revision/resources/deploy.go BuildPodSpec), Knative's default 300 s when
    unset; KServe writes the predictor's `timeout` into timeoutSeconds and responseStartTimeoutSeconds (kserve
    v0.20.0 reconcilers/knative/ksvc_reconciler.go createKnativeService). queue-proxy drains (the serving
    container's preStop waits on it: deploy.go userLifecycle) and cuts any request at that timeout, so every
    request in flight can finish within the grace period. The same number is then the longest a request may
    run; Knative caps it at max-revision-timeout-seconds (600 s by default; stacks/config/kserve.py)."""
    if deployment_mode == "RawDeployment":
        return {"terminationGracePeriodSeconds": grace_seconds}
    return {"timeout": grace_seconds}


def security_fields(deployment_mode: str, run_as_user: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(predictor fields, model container fields) that keep the pod non-root with the runtime's seccomp
    profile. RawDeployment: the pod's securityContext. Serverless (knative/serving v0.48.1
    pkg/apis/serving/fieldmask.go): Knative's webhook refuses every pod securityContext field unless the
    cluster enables `kubernetes.podspec-securitycontext`, which OpenShift AI's KnativeServing does not (Red Hat
    OpenShift AI Self-Managed 2.10, "Serving large models", "Creating a Knative Serving instance",
    https://access.redhat.com/documentation/en-us/red_hat_openshift_ai_self-managed/2.10/html/serving_models/
    serving-large-models_serving-large-models: only podspec-affinity, -nodeselector and -tolerations), while
    a container's runAsNonRoot, runAsUser, runAsGroup and seccompProfile are always allowed
    (SecurityContextMask): they go on vLLM's container.
    (fsGroup has no container form; no volume of the predictor needs it.)"""
    context = camel(pod_security_context(run_as_user))
    if deployment_mode == "RawDeployment":
        return {"securityContext": context}, {}
    return {}, {"securityContext": {k: v for k, v in context.items() if k != "fsGroup"}}


DOWNLOAD_HEADROOM = 1.1
"""Room over the checkpoint's size on the node's disk (partial files, the Hub's metadata)."""


def download_storage(download_gb: float | None) -> dict[str, str]:
    """The ephemeral storage the model's copy needs, as a request of vLLM's container. KServe's storage
    initializer downloads the weights into the `kserve-provision-location` emptyDir on the node's disk
    (kserve v0.20.0 pkg/utils/storage.go AddModelMount; tools/kserve_pods.py builds it for the judges),
    and its init container has only the cluster's fixed resources (the chart's storage-initializer
    config): without this request the scheduler may place a 50 GB checkpoint on a node whose disk cannot
    hold it, and the kubelet evicts the pod under disk pressure. The pod's containers' requests add up for
    scheduling (Kubernetes docs, "Local ephemeral storage"); no limit, so a larger copy is not evicted."""
    if download_gb is None:
        return {}
    return {"ephemeral-storage": f"{math.ceil(download_gb * DOWNLOAD_HEADROOM)}G"}


def inference_service_body(args: InferenceServiceArgs) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, spec) of the InferenceService, in the API's camelCase."""
    annotations: dict[str, Any] = {
        DEPLOYMENT_MODE: args.deployment_mode,
        "openshift.io/display-name": args.engine.served_model_name,
    }
    if args.token_auth:
        annotations[ENABLE_AUTH] = "true"
    metadata = {
        "name": args.name,
        "namespace": args.namespace,
        "labels": {"opendatahub.io/dashboard": "true", f"{LABEL_PREFIX}/model": args.name},
        "annotations": annotations,
    }
    pod_security, container_security = security_fields(args.deployment_mode, args.run_as_user)
    model = {
        "modelFormat": {"name": MODEL_FORMAT},
        "runtime": args.runtime_name,
        "storageUri": args.storage_uri,
        "args": model_args(args.engine),
        "resources": _with_requests(
            camel(gpu_resources(args.cpu, args.memory, args.engine.tensor_parallel_size)),
            download_storage(args.download_gb),
        ),
        **camel(health_probes(probe_port(args.deployment_mode), args.startup_timeout_seconds)),
        **container_security,
    }
    predictor: dict[str, Any] = {
        "minReplicas": args.replicas,
        "maxReplicas": args.replicas,
        "serviceAccountName": args.service_account_name,
        "nodeSelector": dict(args.placement.node_selector),
        "tolerations": [
            {"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in args.placement.taint_keys
        ],
        **pod_security,
        **grace_fields(args.deployment_mode, args.termination_grace_period_seconds),
        "model": model,
    }
    if not args.token_auth:
        # Nothing in the predictor pod calls the Kubernetes API: vLLM does not, and KServe's storage
        # initializer gets the S3 keys as env from the service account's secret (read by the webhook, not
        # the pod). With token auth OpenShift AI's kube-rbac-proxy needs the token (TokenReview,
        # SubjectAccessReview), and its KServe sets automountServiceAccountToken: true itself
        # (opendatahub-io/kserve, commit 3cf0a0416662e3db328f6ddf4755ce730f41c747,
        # reconcilers/deployment/deployment_reconciler.go, "ODH override", RHOAIENG-19904).
        predictor["automountServiceAccountToken"] = False
    if args.deployment_mode == "RawDeployment":
        # No surge: a GPU-bound cluster has no spare GPU for an extra pod during a rollout.
        predictor["deploymentStrategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
        }
    else:
        predictor["annotations"] = {KNATIVE_PROGRESS_DEADLINE: f"{math.ceil(args.startup_timeout_seconds / 60) + 10}m"}
    if args.pod_annotations:
        predictor["annotations"] = {**predictor.get("annotations", {}), **args.pod_annotations}
    return metadata, {"predictor": predictor}


def _with_requests(resources: dict[str, Any], requests: dict[str, str]) -> dict[str, Any]:
    return {**resources, "requests": {**resources["requests"], **requests}}


class VllmInferenceService(pulumi.ComponentResource):
    name: pulumi.Output[str]
    predictor_service_name: pulumi.Output[str]
    """KServe's raw-mode Service `<name>-predictor` (port 80 -> the runtime's http port)."""

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:kserve:VllmInferenceService", name, None, opts)
        metadata, spec = inference_service_body(args)
        isvc = k8s.apiextensions.CustomResource(
            f"{name}-isvc",
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            metadata=metadata,
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.name = isvc.id.apply(lambda _: args.name)
        # kserve v0.20.0 pkg/constants/constants.go PredictorServiceName: `<isvc>-predictor`.
        self.predictor_service_name = self.name.apply(lambda n: f"{n}-predictor")
        self.register_outputs({"name": self.name, "predictorServiceName": self.predictor_service_name})
