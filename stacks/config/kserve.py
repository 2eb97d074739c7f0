"""Config of the KServe serving path on an existing cluster (`existing.serving: kserve`) and of
the OpenShift Route in front of either serving path (`existing.route`).

Red Hat OpenShift AI serves LLMs through KServe: one ServingRuntime for the vLLM image and one
InferenceService per model, whose weights KServe's storage initializer copies from S3 into the pod
before vLLM starts. The plain Deployments stay the default (`existing.serving: deployments`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.base import DnsLabel, KubernetesLabelName, Section
from stacks.config.syntax import Hostname

KNATIVE_NAMESPACES = ("knative-serving", "knative-serving-ingress")
"""Where OpenShift Serverless runs Knative Serving's system pods (activator, autoscaler) and its ingress."""
KNATIVE_MAX_REVISION_TIMEOUT = 600
"""Knative's default max-revision-timeout-seconds (knative/serving v0.48.1 pkg/apis/config/defaults.go
DefaultMaxRevisionTimeoutSeconds): its webhook refuses a longer revision timeoutSeconds
(pkg/apis/serving/v1/revision_validation.go validateTimeoutSeconds), which a Serverless predictor's grace
period becomes (components/kserve/inference_service.py grace_fields)."""


class KserveConfig(Section):
    """How the InferenceServices run (read only with `existing.serving: kserve`)."""

    deployment_mode: Literal["RawDeployment", "Serverless"] = Field(
        "RawDeployment",
        description="KServe deployment mode (annotation serving.kserve.io/deploymentMode): RawDeployment, OpenShift "
        "AI's standard mode (a Deployment and a Service; needs neither OpenShift Serverless nor Service Mesh), or "
        "Serverless (a Knative Service; needs both installed, and tokenAuth: false: OpenShift AI's token "
        "authentication exists in RawDeployment only, so vLLM checks the API key). Default: RawDeployment.",
    )
    token_auth: bool | None = Field(
        None,
        description="Protect each endpoint with OpenShift AI's token authentication (annotation "
        "security.opendatahub.io/enable-auth): clients send a service account token with `get` on the "
        "InferenceService instead of the API key. Needs existing.openshift and deploymentMode RawDeployment. "
        "Default: true on OpenShift, else false.",
    )

    knative_namespaces: list[KubernetesLabelName] = Field(
        default_factory=lambda: list(KNATIVE_NAMESPACES),
        min_length=1,
        description="Serverless only: the namespaces whose pods may reach each predictor's queue-proxy (Knative's "
        "activator, ingress and autoscaler; the NetworkPolicies admit no other). Red Hat OpenShift Serverless 1.30, "
        'Serving, "Restrictive network policies", section "Enabling communication with Knative applications on a '
        'cluster with restrictive network policies" (https://access.redhat.com/documentation/en-us/'
        "red_hat_openshift_serverless/1.30/html/serving/restrictive-network-policies): the Knative system namespaces "
        "knative-serving and knative-serving-ingress need access to the application's namespace. Add your ingress "
        "gateway's namespace when another ingress (e.g. Istio's, istio-system) sends to the pods. "
        "Default: [knative-serving, knative-serving-ingress].",
    )
    runtime_name: DnsLabel = Field(
        "vllm-runtime", description="Name of the ServingRuntime the InferenceServices use. Default: vllm-runtime."
    )

    def token_auth_on(self, openshift: bool) -> bool:
        return openshift if self.token_auth is None else self.token_auth


class OpenShiftRouteConfig(Section):
    """The OpenShift Route that publishes the API with TLS at the router (read only with existing.openshift)."""

    enabled: bool = Field(
        True,
        description="Create a Route (TLS terminated at the OpenShift router, http redirected to https) for the "
        "API: the entry point with `serving: deployments`, each InferenceService with `serving: kserve` "
        "(RawDeployment; Serverless is published by OpenShift Serverless itself). Default: true.",
    )
    hostname: Hostname | None = Field(
        None,
        description="Host name of the Route (one model: this host; several: `<model>-<host>`). Default: the "
        "router's generated `<name>-<namespace>.<apps domain>`.",
    )
    timeout_seconds: int = Field(
        600,
        ge=30,
        le=3600,
        description="Router timeout for one request (annotation haproxy.router.openshift.io/timeout; the router's "
        "default of 30 s cuts long generations off). Default: 600.",
    )


def check_kserve(
    serving: str,
    kserve: KserveConfig,
    *,
    openshift: bool,
    store_kind: str,
    multi_node: bool,
    kserve_given: bool = False,
    route_given: bool = False,
    images: tuple[str, ...] = (),
    grace_periods: tuple[int, ...] = (),
) -> None:
    """Cross-section rules of `existing.serving: kserve` and `existing.route` (raised as `key: message`, one
    line). A section that would be ignored is an error, not a silent no-op. It takes the values it checks,
    so this module imports nothing of the sections that use it."""
    if route_given and not openshift:
        raise ValueError("existing.route: a Route is OpenShift's; set existing.openshift: true or remove route")
    if serving != "kserve":
        if kserve_given:
            raise ValueError("existing.kserve: only read with existing.serving: kserve; set serving or remove kserve")
        return
    if store_kind != "s3":
        raise ValueError(
            "modelStore.kind: existing.serving kserve reads the weights with KServe's storage initializer from "
            f"S3 (storageUri s3://…); use kind s3 (got {store_kind})"
        )
    for i, image in enumerate(images):
        if image != images[0]:
            raise ValueError(
                f"models[{i}].image: existing.serving kserve runs every model on one ServingRuntime; use "
                f"{images[0]} as models[0] does"
            )
    if multi_node:
        raise ValueError("ray: existing.serving kserve runs each model as one InferenceService on one node; remove ray")
    if kserve.token_auth and not openshift:  # an explicit true
        raise ValueError(
            "existing.kserve.tokenAuth: token authentication is OpenShift AI's (security.opendatahub.io/enable-auth); "
            "set existing.openshift: true or tokenAuth: false (vLLM then checks the API key)"
        )
    # OpenShift AI's KServe runs its kube-rbac-proxy only beside a RawDeployment predictor
    # (opendatahub-io/kserve, commit 3cf0a0416662e3db328f6ddf4755ce730f41c747: the proxy is added by
    # reconcilers/deployment/deployment_reconciler.go alone, and components/annotation_filter_odh.go
    # filterServiceAnnotations strips security.opendatahub.io/enable-auth in Knative mode, RHOAIENG-20326);
    # odh-model-controller reconciles RawDeployment only (commit 57b43aad41aea718861b6c70b38a16794fc4ac8e,
    # internal/controller/serving/inferenceservice_controller.go: "Only RawDeployment mode is supported").
    # Token auth leaves vLLM without an API key (stacks/builders/kserve.py api_key_env): nothing would check.
    if kserve.deployment_mode != "Serverless":
        if "knative_namespaces" in kserve.model_fields_set:
            raise ValueError("existing.kserve.knativeNamespaces: only read with deploymentMode: Serverless; remove it")
        return
    if kserve.token_auth_on(openshift):
        raise ValueError(
            "existing.kserve.deploymentMode: Serverless has no OpenShift AI token authentication (its "
            "kube-rbac-proxy runs only beside RawDeployment predictors), so nothing would check callers; use "
            "deploymentMode: RawDeployment, or set existing.kserve.tokenAuth: false (vLLM then checks the API key)"
        )
    for i, grace in enumerate(grace_periods):
        if grace > KNATIVE_MAX_REVISION_TIMEOUT:
            raise ValueError(
                f"models[{i}].terminationGracePeriodSeconds: under Serverless it is the revision's timeout, which "
                f"Knative caps at max-revision-timeout-seconds ({KNATIVE_MAX_REVISION_TIMEOUT} by default); use at "
                f"most {KNATIVE_MAX_REVISION_TIMEOUT} (got {grace})"
            )
