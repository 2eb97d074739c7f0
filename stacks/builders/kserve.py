"""`existing.serving: kserve`: vLLM served as OpenShift AI serves models, through KServe.

One ServingRuntime for the pinned vLLM image, one S3 connection (Secret + service account) that KServe's
storage initializer reads, and one InferenceService per model whose `storageUri` is the model's
directory in the bucket the upload Job fills. On OpenShift each InferenceService gets a Route (TLS at the
router). The plain-Deployment path (stacks/workload.serve) stays the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from components.conventions import LABEL_PREFIX
from components.kserve import (
    InferenceServiceArgs,
    S3Connection,
    S3ConnectionArgs,
    TokenClient,
    TokenClientArgs,
    VllmInferenceService,
    VllmRuntimeArgs,
    VllmServingRuntime,
)
from components.kserve.inference_service import KNATIVE_AUTOSCALER_METRICS_PORT, KNATIVE_QUEUE_PORT
from components.kserve.runtime import KNATIVE_PORT_NAME, PORT_NAME
from components.kserve.runtime import PORT as RUNTIME_PORT
from components.openshift import OpenShiftRoute, OpenShiftRouteArgs
from components.workloads import GpuPlacement, ModelSource
from components.workloads.engine import EngineFlags
from components.workloads.namespace import API_KEY_SECRET_KEY, ServingNamespace
from components.workloads.network_policy import NamespaceIngress, ServingNetworkPolicies, ServingNetworkPoliciesArgs
from stacks.builders.namespace import secret
from stacks.builders.observability import KServeModel, observe_kserve, scraper_namespace
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.serving import engine_flags
from stacks.builders.stores import ModelStores
from stacks.config.common import stored_weights_gb, vllm_memory
from stacks.config.existing import S3_KEYS_INSTEAD, ExistingStack, s3_endpoint

ISVC_NAME_MAX = 53  # odh-model-controller constants.go MaxISVCLength: 63 minus KServe's "-predictor"


@dataclass(frozen=True)
class ServedModel:
    """One model to serve: what a `models:` entry becomes."""

    name: str
    """The InferenceService's name (a DNS label, at most 53 characters)."""
    engine: EngineFlags
    source: ModelSource
    """`model` is the s3:// URI of the model's directory; `ready` the Job that fills it."""
    placement: GpuPlacement
    replicas: int
    cpu: str
    memory: str
    startup_timeout_seconds: int
    termination_grace_period_seconds: int
    download_gb: float | None
    """The checkpoint's size on disk, which KServe's storage initializer copies into the pod."""


def isvc_name(served_name: str) -> str:
    """A served model name as a KServe name: lower case, `-` for anything else, at most 53 characters."""
    name = re.sub(r"[^a-z0-9]+", "-", served_name.lower()).strip("-")[:ISVC_NAME_MAX].rstrip("-")
    return name if name and name[0].isalpha() else f"m-{name}"[:ISVC_NAME_MAX].rstrip("-")


def served_models(cfg: ExistingStack, stores: ModelStores, pools: dict[str, GpuPoolTarget]) -> list[ServedModel]:
    """The models of the stack as the KServe builder takes them (a list: one InferenceService each)."""
    return [
        ServedModel(
            name=isvc_name(m.name),
            engine=engine_flags(m, stores),
            source=stores.source(m),
            placement=pools[cfg.pool_of(m).name].placement,
            replicas=m.replicas,
            cpu=m.cpu,
            memory=vllm_memory(cfg, m),
            startup_timeout_seconds=m.startup_timeout_seconds,
            termination_grace_period_seconds=m.termination_grace_period_seconds,
            download_gb=stored_weights_gb(m),
        )
        for m in cfg.models
    ]


def api_key_env(token_auth: bool, api_key_secret_name: pulumi.Input[str]) -> list[dict[str, Any]]:
    """With token auth OpenShift AI's proxy checks the caller and vLLM must accept its bearer token, so no
    VLLM_API_KEY; without it vLLM checks the stack's API key on every /v1 route."""
    if token_auth:
        return []
    ref = {"name": api_key_secret_name, "key": API_KEY_SECRET_KEY}
    return [{"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": ref}}]


def serve_with_kserve(
    cfg: ExistingStack,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    models: list[ServedModel],
    depends_on: list[pulumi.Resource] | None = None,
) -> list[VllmInferenceService]:
    """The ServingRuntime, the S3 connection, an InferenceService (and on OpenShift a Route) per model."""
    e, store = cfg.existing, cfg.kserve_store()
    kserve = e.kserve
    token_auth = kserve.token_auth_on(e.openshift)
    opts = pulumi.ResourceOptions(provider=platform.provider)
    access_key, secret_key = cfg.secrets.s3_keys(S3_KEYS_INSTEAD)

    connection = S3Connection(
        f"{cfg.name}-s3-connection",
        S3ConnectionArgs(
            namespace=namespace.name,
            endpoint_url=s3_endpoint(store).rstrip("/"),
            bucket=store.bucket or f"{cfg.name}-models",
            region=store.region or "us-east-1",  # MinIO's default signing region
            access_key_id=secret(access_key),
            secret_access_key=secret(secret_key),
        ),
        opts=opts,
    )
    runtime = VllmServingRuntime(
        f"{cfg.name}-vllm-runtime",
        VllmRuntimeArgs(
            namespace=namespace.name,
            # One runtime for every model (config: one image under kserve); /dev/shm as the largest asks.
            image=cfg.models[0].image,
            vllm_version=cfg.models[0].image.rsplit(":", 1)[-1].removeprefix("v"),
            shm_size_gi=max(m.shm_size_gi for m in cfg.models),
            env=api_key_env(token_auth, namespace.api_key_secret_name),
            image_pull_secrets=list(platform.image_pull_secrets),
            name=kserve.runtime_name,
            port_name=PORT_NAME if kserve.deployment_mode == "RawDeployment" else KNATIVE_PORT_NAME,
        ),
        opts=opts,
    )
    services = []
    for model in models:
        isvc = VllmInferenceService(
            f"{cfg.name}-{model.name}",
            InferenceServiceArgs(
                namespace=namespace.name,
                name=model.name,
                runtime_name=runtime.runtime_name,
                storage_uri=model.source.model,
                service_account_name=connection.service_account_name,
                engine=model.engine,
                placement=model.placement,
                cpu=model.cpu,
                memory=model.memory,
                replicas=model.replicas,
                deployment_mode=kserve.deployment_mode,
                token_auth=token_auth,
                startup_timeout_seconds=model.startup_timeout_seconds,
                termination_grace_period_seconds=model.termination_grace_period_seconds,
                download_gb=model.download_gb,
                run_as_user=platform.run_as_user,
                pod_annotations={} if token_auth else {f"{LABEL_PREFIX}/api-key-checksum": namespace.api_key_checksum},
                wait_for=[*model.source.ready, *(depends_on or [])],
            ),
            opts=opts,
        )
        services.append(isvc)
        _route(cfg, namespace, model, isvc, token_auth, several=len(models) > 1, opts=opts)
    scraper = _scraper_namespace(cfg, token_auth)
    _network_policies(cfg, namespace, token_auth, scraper, opts)
    monitored = [KServeModel(m.engine.served_model_name, m.name) for m in models]
    after_namespace = pulumi.ResourceOptions(provider=platform.provider, depends_on=[namespace])
    observe_kserve(cfg, platform, monitored, PORT_NAME, scrapable=scraper is not None, opts=after_namespace)
    _export(cfg, namespace, models, services, token_auth, opts)
    return services


# KServe labels every predictor pod `component: predictor` (kserve v0.20.0
# pkg/controller/v1beta1/inferenceservice/components/predictor.go, constants.KServiceComponentLabel).
PREDICTOR_POD_LABELS = {"component": "predictor"}
AUTH_PROXY_PORT = 8443
"""OpenShift AI's kube-rbac-proxy in front of vLLM with token auth (opendatahub-io/kserve, commit
3cf0a0416662e3db328f6ddf4755ce730f41c747, pkg/constants/constants_odh.go OauthProxyPort)."""


def _scraper_namespace(cfg: ExistingStack, token_auth: bool) -> str | None:
    """Who may reach vLLM's own port to scrape /metrics. With token auth that port answers /v1 without any
    check too, so only a namespace named on purpose (endpoint.monitoringNamespace); without it vLLM checks
    its API key on /v1, and Prometheus's namespace is admitted as on the plain path."""
    return cfg.endpoint.monitoring_namespace if token_auth else scraper_namespace(cfg)


def serving_policies_args(
    cfg: ExistingStack, namespace: pulumi.Input[str], token_auth: bool, scraper: str | None
) -> ServingNetworkPoliciesArgs:
    """Default-deny ingress, as on the plain path; vLLM's own 8080 from this namespace and the monitoring
    namespace. RawDeployment: the door is the predictor's public port, open to anyone: the auth proxy's 8443
    with token auth (8080 then answers without any check), else vLLM's 8080 (which checks the API key).
    Serverless: requests reach queue-proxy, which forwards to 8080 inside the pod, so no port is open to
    anyone; queue-proxy's serving port and its autoscaler metrics admit only the Knative namespaces
    (existing.kserve.knativeNamespaces)."""
    kserve = cfg.existing.kserve
    serverless = kserve.deployment_mode == "Serverless"
    knative = NamespaceIngress(
        name="allow-knative",
        pod_labels=PREDICTOR_POD_LABELS,
        ports=(KNATIVE_QUEUE_PORT, KNATIVE_AUTOSCALER_METRICS_PORT),
        namespaces=tuple(kserve.knative_namespaces),
    )
    return ServingNetworkPoliciesArgs(
        namespace=namespace,
        entry_labels=PREDICTOR_POD_LABELS,
        entry_port=None if serverless else AUTH_PROXY_PORT if token_auth else RUNTIME_PORT,
        server_labels=PREDICTOR_POD_LABELS,
        server_port=RUNTIME_PORT,
        monitoring_namespace=scraper,
        namespace_ingress=(knative,) if serverless else (),
    )


def _network_policies(
    cfg: ExistingStack, namespace: ServingNamespace, token_auth: bool, scraper: str | None, opts: pulumi.ResourceOptions
) -> ServingNetworkPolicies:
    return ServingNetworkPolicies(
        f"{cfg.name}-network-policies", serving_policies_args(cfg, namespace.name, token_auth, scraper), opts=opts
    )


def _route(
    cfg: ExistingStack, namespace: ServingNamespace, model: ServedModel, isvc: VllmInferenceService,
    token_auth: bool, *, several: bool, opts: pulumi.ResourceOptions,
) -> OpenShiftRoute | None:  # fmt: skip
    """TLS at the router to KServe's `<name>-predictor` Service (RawDeployment; Serverless is published by
    OpenShift Serverless). With token auth the Service's `https` port is OpenShift AI's auth proxy, so the
    router re-encrypts to it, as odh-model-controller's own Route does (components/openshift/route.py)."""
    e = cfg.existing
    if not (e.openshift and e.route.enabled and e.kserve.deployment_mode == "RawDeployment"):
        return None
    host = e.route.hostname
    route = OpenShiftRoute(
        f"{cfg.name}-{model.name}",
        OpenShiftRouteArgs(
            namespace=namespace.name,
            name=model.name,
            service_name=isvc.predictor_service_name,
            target_port="https" if token_auth else PORT_NAME,
            termination="reencrypt" if token_auth else "edge",
            hostname=f"{model.name}-{host}" if host and several else host,
            timeout_seconds=e.route.timeout_seconds,
        ),
        opts=opts,
    )
    pulumi.export(f"routeHostCommand-{model.name}" if several else "routeHostCommand", route.host_command)
    return route


def _export(
    cfg: ExistingStack, namespace: ServingNamespace, models: list[ServedModel],
    services: list[VllmInferenceService], token_auth: bool, opts: pulumi.ResourceOptions,
) -> None:  # fmt: skip
    pulumi.export("servingMode", "kserve")
    pulumi.export("namespace", namespace.name)
    pulumi.export("inferenceServices", pulumi.Output.all(*[s.name for s in services]))
    pulumi.export("servedModelNames", [m.engine.served_model_name for m in models])
    pulumi.export("modelId", cfg.models[0].id)
    if token_auth:
        client = TokenClient(
            f"{cfg.name}-client",
            TokenClientArgs(namespace=namespace.name, inference_services=[m.name for m in models]),
            opts=opts,
        )
        # curl -H "Authorization: Bearer $(<tokenCommand>)" https://<route host>/v1/models
        pulumi.export("tokenCommand", client.token_command)
    else:
        pulumi.export("apiKey", namespace.api_key)
