"""The part every stack shares once it has a cluster: namespace and credentials, model stores, vLLM
(one replica per node, or one across nodes on Ray), exposure, and the stack outputs a user needs to
call the endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.helm import HelmChart
from components.openshift import OpenShiftRoute, OpenShiftRouteArgs
from components.workloads import (
    EntryPoint,
    GatewayEndpoint,
    GatewayEndpointArgs,
    ModelDownload,
    ModelRouter,
    ModelRouterArgs,
    ModelSource,
    NfsModelStore,
    NfsModelStoreArgs,
    PodRuntime,
    RouterBackend,
    ServerExposure,
    ServingNamespace,
    ServingNamespaceArgs,
    VllmServer,
    VllmServerArgs,
)
from components.workloads.claim_model_store import ClaimModelStore, ClaimModelStoreArgs
from components.workloads.engine import PORT as VLLM_CONTAINER_PORT
from components.workloads.engine import EngineFlags
from components.workloads.kuberay_operator import KubeRayOperator, KubeRayOperatorArgs
from components.workloads.network_policy import ServingNetworkPolicies, ServingNetworkPoliciesArgs
from components.workloads.ray_vllm import ROLE_LABEL, RayVllmServer, RayVllmServerArgs, RdmaPodAccess
from components.workloads.s3_model_store import S3ModelStore, S3ModelStoreArgs
from stacks import catalog
from stacks.builders.autoscaling import deployment_replicas, scale_replicas
from stacks.builders.observability import observe, scraper_namespace
from stacks.builders.platform import ServingPlatform
from stacks.builders.tls import HTTPS_PORT, endpoint_url, gateway_certificate, load_balancer_tls
from stacks.config.common import StackBase, vllm_memory
from stacks.config.lora import lora_args
from stacks.config.model_store import NfsModelStoreConfig, S3ModelStoreConfig
from stacks.config.models import ModelEntry
from stacks.config.ray import RayConfig
from stacks.placement import resource_suffix

# A loadBalancer endpoint listens on 80 (cloud firewalls open exactly this); in-cluster clients reach the
# entry point on 8000; vLLM itself listens on its 8000 behind it.
LOAD_BALANCER_PORT = 80
IN_CLUSTER_PORT = 8000
VLLM_PORT = 8000


def secret(value: SecretStr) -> pulumi.Output[str]:
    return pulumi.Output.secret(value.get_secret_value())


def secret_or_none(value: SecretStr | None) -> pulumi.Output[str] | None:
    return secret(value) if value is not None else None


def serving_namespace(
    cfg: StackBase,
    provider: pulumi.ProviderResource,
    pod_security: str = "baseline",
    labels: dict[str, str] | None = None,
) -> ServingNamespace:
    return ServingNamespace(
        f"{cfg.name}-serving",
        ServingNamespaceArgs(
            name=cfg.namespace,
            api_key=secret_or_none(cfg.secrets.api_key),
            hf_token=secret_or_none(cfg.secrets.hf_token),
            pod_security=pod_security,
            labels=dict(labels or {}),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


@dataclass(frozen=True)
class ModelBackend:
    """One name the door routes by `model` to a model's replicas: the served name (or a LoRA adapter's), the
    server's ClusterIP Service and pods. The front door takes the list of them (`serve`)."""

    served_model_name: str
    service_name: pulumi.Output[str]
    service_port: int
    pod_labels: dict[str, str]


def model_resource_name(cfg: StackBase, index: int, role: str) -> str:
    """`<stack>-<role>` for the first model (the names a one-model stack always had: adding models after it
    replaces nothing), `<stack>-<role>-<served name>` for the others."""
    if index == 0:
        return f"{cfg.name}-{role}"
    return f"{cfg.name}-{role}-{resource_suffix(cfg.models[index].name)}"


def model_k8s_name(cfg: StackBase, index: int) -> str:
    """The Deployment/Service name of a model's server: `vllm` for the first model, `vllm-<served name>` else."""
    return "vllm" if index == 0 else f"vllm-{resource_suffix(cfg.models[index].name)}"[:63].rstrip("-")


def serve(
    cfg: StackBase,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    stores: ModelStores,
) -> list[VllmServer]:
    """Deploy one vLLM server per model on its pool, the door in front of them all; export the endpoint."""
    opts = pulumi.ResourceOptions(provider=platform.provider)
    servers: list[VllmServer] = []
    backends: list[ModelBackend] = []
    for i, m in enumerate(cfg.models):
        pool = platform.pools[cfg.pool_of(m).name]
        server = VllmServer(
            model_resource_name(cfg, i, "vllm"),
            VllmServerArgs(
                engine=engine_flags(m, stores),
                # its `memory`, or what the pod needs (stacks/capacity.py)
                runtime=pod_runtime(m, platform, cpu=m.cpu, memory=vllm_memory(cfg, m),
                                    startup_timeout_seconds=m.startup_timeout_seconds),
                exposure=server_exposure(namespace, model_k8s_name(cfg, i)),
                source=stores.source(m),
                placement=pool.placement,
                replicas=deployment_replicas(m),  # none when KEDA owns the count
                pod_annotations={f"{LABEL_PREFIX}/api-key-checksum": namespace.api_key_checksum},
                wait_for=list(pool.ready),
            ),
            opts=opts,
        )  # fmt: skip
        servers.append(server)
        backends += [ModelBackend(n, server.service_name, server.service_port, server.pod_labels) for n in m.names]
    door = entry_point(cfg, platform, namespace, backends, opts)
    # One model: its own pods; several: every vLLM pod of the namespace (the servers' common label).
    server_labels = servers[0].pod_labels if len(servers) == 1 else {"app.kubernetes.io/name": "vllm"}
    network_policies(cfg, namespace, door, server_labels, None, opts)
    export_endpoint(cfg, namespace, door, opts)
    publish_route(cfg, platform, namespace, door, opts)
    monitoring = observe(cfg, platform, namespace, servers, door)
    scale_replicas(cfg, platform, servers, monitoring)
    return servers


def engine_flags(m: ModelEntry, stores: ModelStores) -> EngineFlags:
    """`vllm serve`'s flags for one model, single-node or on Ray (its LoRA adapters from the store)."""
    return EngineFlags(
        served_model_name=m.name,
        tensor_parallel_size=m.tensor_parallel_size,
        max_model_len=m.max_model_len,
        gpu_memory_utilization=m.gpu_memory_utilization,
        dtype=m.dtype,
        quantization=m.quantization,
        extra_args=[*m.extra_args, *lora_args(m.name, m.lora, stores.lora_paths(m))],
    )


def pod_runtime(
    m: ModelEntry, platform: ServingPlatform, *, cpu: str, memory: str, startup_timeout_seconds: int
) -> PodRuntime:
    """How a model's server pods run: its image and shared-memory/drain settings, the sizes the caller
    picks (the model's for a replica, `ray.*` for a Ray pod), the platform's pull secrets and UID."""
    return PodRuntime(
        image=m.image,
        cpu=cpu,
        memory=memory,
        shm_size_gi=m.shm_size_gi,
        startup_timeout_seconds=startup_timeout_seconds,
        termination_grace_period_seconds=m.termination_grace_period_seconds,
        image_pull_secrets=platform.image_pull_secrets,
        run_as_user=platform.run_as_user,
    )


def server_exposure(namespace: ServingNamespace, name: str = "vllm") -> ServerExposure:
    """vLLM answers many routes without its key (components/workloads/entry_point.py): its Service stays
    inside the cluster, behind the entry point."""
    return ServerExposure(
        namespace=namespace.name, api_key_secret_name=namespace.api_key_secret_name, port=VLLM_PORT, name=name
    )


def entry_point(
    cfg: StackBase,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    backends: list[ModelBackend],
    opts: pulumi.ResourceOptions,
) -> EntryPoint:
    """The one door into the namespace: forwards only /v1, checks the door's keys and routes each
    request to its model's replicas (components/workloads/router.py); a load balancer, a Gateway or
    in-cluster clients reach the models only through it."""
    endpoint = cfg.endpoint
    load_balancer = endpoint.kind == "loadBalancer"
    redirect_port, tls_annotations = load_balancer_tls(cfg)
    return ModelRouter(
        f"{cfg.name}-entry",
        ModelRouterArgs(
            namespace=namespace.name,
            router_image=catalog.ROUTER_IMAGE,
            proxy_image=catalog.ENTRY_PROXY_IMAGE,
            backends=router_backends(backends),
            api_keys=door_keys(cfg, namespace),
            backend_api_key=namespace.api_key,
            service_type="LoadBalancer" if load_balancer else "ClusterIP",
            service_port=(HTTPS_PORT if redirect_port else LOAD_BALANCER_PORT) if load_balancer else IN_CLUSTER_PORT,
            service_annotations={**platform.service_annotations, **tls_annotations} if load_balancer else {},
            load_balancer_source_ranges=list(endpoint.allowed_cidrs),
            redirect_port=redirect_port,
            node_selector=platform.system_node_selector,
            run_as_user=platform.run_as_user,
            image_pull_secrets=platform.image_pull_secrets,
        ),
        opts=opts,
    )


def router_backends(backends: list[ModelBackend]) -> list[RouterBackend]:
    """One router backend per model's replicas, under its served name (the first of its names). The router
    keeps one model per worker address (vllm-router's registry maps a URL to one worker), so a LoRA
    adapter's name is not registered: such a request goes to a replica of any model, which serves the
    adapter when it is that model's (with one model, always)."""
    seen: dict[tuple[tuple[str, str], ...], RouterBackend] = {}
    for b in backends:
        key = tuple(sorted(b.pod_labels.items()))
        seen.setdefault(key, RouterBackend(b.served_model_name, b.pod_labels, VLLM_CONTAINER_PORT))
    return list(seen.values())


def door_keys(cfg: StackBase, namespace: ServingNamespace) -> pulumi.Output[dict[str, str]]:
    """`secrets.apiKeys`, or the stack's own key (`apiKey`, exported) when none are named."""
    if cfg.secrets.api_keys:
        return pulumi.Output.secret({name: key.get_secret_value() for name, key in cfg.secrets.api_keys.items()})
    return namespace.api_key.apply(lambda key: {"default": key})


def network_policies(
    cfg: StackBase,
    namespace: ServingNamespace,
    door: EntryPoint,
    server_labels: dict[str, str],
    ray_selector: k8s.meta.v1.LabelSelectorArgsDict | None,
    opts: pulumi.ResourceOptions,
) -> ServingNetworkPolicies:
    """Default-deny ingress in the namespace; the entry point, vLLM's port and Ray as allowed."""
    return ServingNetworkPolicies(
        f"{cfg.name}-network-policies",
        ServingNetworkPoliciesArgs(
            namespace=namespace.name,
            entry_labels=door.pod_labels,
            entry_port=door.container_port,
            entry_redirect_port=door.redirect_port,
            server_labels=server_labels,
            server_port=VLLM_CONTAINER_PORT,
            monitoring_namespace=scraper_namespace(cfg),
            entry_metrics_port=door.metrics_port,
            ray_selector=ray_selector,
        ),
        opts=opts,
    )


def export_endpoint(
    cfg: StackBase,
    namespace: ServingNamespace,
    door: EntryPoint,
    opts: pulumi.ResourceOptions,
) -> None:
    """Expose the entry point as `endpoint` says and export how to call it."""
    endpoint = cfg.endpoint
    service_name, service_port, load_balancer_address = door.service_name, door.service_port, door.load_balancer_address

    if endpoint.kind == "gateway":
        gateway = GatewayEndpoint(
            f"{cfg.name}-endpoint",
            GatewayEndpointArgs(
                namespace=namespace.name,
                gateway_class_name=endpoint.gateway_class_name,
                service_name=service_name,
                service_port=service_port,
                hostname=endpoint.hostname,
                tls_secret_name=endpoint.tls.secret_name if endpoint.tls else None,
            ),
            opts=opts,
        )
        gateway_certificate(cfg, namespace.name, gateway.gateway_name, opts)
        host: pulumi.Output[str] = pulumi.Output.from_input(endpoint.hostname or "$GATEWAY_IP")
        pulumi.export("gatewayName", gateway.gateway_name)
        pulumi.export("gatewayAddressCommand", gateway.address_command)
    elif endpoint.kind == "loadBalancer" and load_balancer_address is not None:
        host = load_balancer_address
    else:
        host = pulumi.Output.concat(service_name, ".", namespace.name, f".svc.cluster.local:{service_port}")

    url = endpoint_url(cfg, host)
    pulumi.export("endpoint", url)
    pulumi.export("servedModelName", cfg.models[0].name)
    pulumi.export("modelId", cfg.models[0].id)
    # Every name clients may send as `model`: each model's served name and its LoRA adapters'.
    pulumi.export("servedModelNames", [name for m in cfg.models for name in m.names])
    pulumi.export("namespace", namespace.name)
    pulumi.export("serviceName", service_name)
    pulumi.export("apiKey", namespace.api_key)
    # The key stays a secret: the command reads it from the stack when it is pasted (one of the door's
    # named keys when there are some: the stack's own key then stays behind the door).
    names = sorted(cfg.secrets.api_keys)
    key = (
        f"$(pulumi config get --path 'secrets.apiKeys.{names[0]}')"
        if names
        else "$(pulumi stack output apiKey --show-secrets)"
    )
    pulumi.export("curlModels", url.apply(lambda u: f'curl -s {u}/models -H "Authorization: Bearer {key}"'))


def publish_route(
    cfg: StackBase, platform: ServingPlatform, namespace: ServingNamespace, door: EntryPoint,
    opts: pulumi.ResourceOptions,
) -> OpenShiftRoute | None:  # fmt: skip
    """On OpenShift: a Route to the entry point, TLS at the router and http redirected (edge: the entry
    point itself speaks plain http inside the cluster). The API key still guards /v1 behind it."""
    route = platform.openshift_route
    if route is None or not route.enabled:
        return None
    published = OpenShiftRoute(
        f"{cfg.name}-api",
        OpenShiftRouteArgs(
            namespace=namespace.name,
            name="vllm",
            service_name=door.service_name,
            target_port=door.container_port,
            termination="edge",
            hostname=route.hostname,
            timeout_seconds=route.timeout_seconds,
        ),
        opts=opts,
    )
    pulumi.export("routeHostCommand", published.host_command)
    return published


# --------------------------------------------------------------------------------------------
# Model stores
# --------------------------------------------------------------------------------------------


@dataclass
class ModelStores:
    """Where every model's weights (and LoRA adapters) are, by store directory: one download/upload per
    distinct checkpoint, all in the stack's one share, claim or bucket."""

    sources: dict[str, ModelSource]
    """Directory -> what a server mounts and passes to read it."""
    paths: dict[str, str] = field(default_factory=dict)
    """Directory -> its path inside the servers (adapters on a mounted store)."""

    def source(self, m: ModelEntry) -> ModelSource:
        return self.sources[m.directory]

    def lora_paths(self, m: ModelEntry) -> list[str]:
        return [self.paths[a.directory] for a in (m.lora.adapters if m.lora else [])]


def model_download(namespace: ServingNamespace, model_id: str, revision: str, directory: str,
                   job_node_selector: dict[str, str]) -> ModelDownload:  # fmt: skip
    """What every model store's Hugging Face download takes: the repo, the pinned downloader, the token."""
    return ModelDownload(
        model_id=model_id,
        model_revision=revision,
        model_directory=directory,
        downloader_image=catalog.DOWNLOADER_IMAGE,
        huggingface_hub_version=catalog.HUGGINGFACE_HUB_VERSION,
        hf_token_secret_name=namespace.hf_token_secret_name,
        job_node_selector=job_node_selector,
    )


def _checkpoints(cfg: StackBase) -> list[tuple[str, str, str, str]]:
    """(resource name, repo id, revision, directory) of every checkpoint the models need, once each: the
    first model's under the one-model stack's name, the other models', then their LoRA adapters'."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for i, m in enumerate(cfg.models):
        found.setdefault(m.directory, (model_resource_name(cfg, i, "model-store"), m.id, m.revision, m.directory))
    for m in cfg.models:
        for a in m.lora.adapters if m.lora else []:
            name = f"{cfg.name}-lora-{resource_suffix(m.name)}-{resource_suffix(a.name)}"
            found.setdefault(a.directory, (name, a.id, a.revision, a.directory))
    return list(found.values())


def claim_model_stores(
    cfg: StackBase,
    namespace: ServingNamespace,
    claim_name: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    *,
    first: tuple[ModelSource, str] | None = None,
    download: bool = True,
    download_timeout_minutes: int = 60,
    run_as_user: int | None = DEFAULT_UID,
    prepare_as_root: bool = False,
) -> ModelStores:
    """Every checkpoint on one claim, one download Job each (`first`: the first model's, already made)."""
    stores = ModelStores(sources={}, paths={})
    for index, (name, model_id, revision, directory) in enumerate(_checkpoints(cfg)):
        if index == 0 and first is not None:
            stores.sources[directory], stores.paths[directory] = first
            continue
        claim = ClaimModelStore(
            name,
            ClaimModelStoreArgs(
                namespace=namespace.name,
                claim_name=claim_name,
                download=download,
                download_timeout_minutes=download_timeout_minutes,
                run_as_user=run_as_user,
                prepare_as_root=prepare_as_root,
                model=model_download(namespace, model_id, revision, directory, job_node_selector),
            ),
            opts=opts,
        )
        stores.sources[directory], stores.paths[directory] = claim.source, claim.model_path
    return stores


def nfs_model_store(
    cfg: StackBase,
    store: NfsModelStoreConfig,
    namespace: ServingNamespace,
    server: pulumi.Input[str],
    path: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    mount_options: list[str] | None = None,
    run_as_user: int | None = DEFAULT_UID,
    prepare_as_root: bool = False,
) -> tuple[NfsModelStore, ModelStores]:
    """The weights on an NFS share (created by the stack or already there), each checkpoint downloaded once."""
    first = cfg.models[0]
    share = NfsModelStore(
        f"{cfg.name}-model-store",
        NfsModelStoreArgs(
            namespace=namespace.name,
            server=server,
            path=path,
            capacity_gb=store.size_gb,
            model=model_download(namespace, first.id, first.revision, first.directory, job_node_selector),
            mount_options=list(mount_options or []),
            download_timeout_minutes=store.download_timeout_minutes,
            run_as_user=run_as_user,
            prepare_as_root=prepare_as_root,
        ),
        opts=opts,
    )
    stores = claim_model_stores(
        cfg, namespace, share.claim_name, job_node_selector, opts, first=(share.source, share.model_path),
        download_timeout_minutes=store.download_timeout_minutes, run_as_user=run_as_user,
        prepare_as_root=prepare_as_root,
    )  # fmt: skip
    return share, stores


def s3_model_store(
    cfg: StackBase,
    store: S3ModelStoreConfig,
    namespace: ServingNamespace,
    *,
    endpoint: pulumi.Input[str],
    bucket: pulumi.Input[str],
    region: str,
    access_key_id: pulumi.Input[str],
    secret_access_key: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    run_as_user: int | None = DEFAULT_UID,
) -> tuple[S3ModelStore, ModelStores]:
    """The weights in an S3-compatible bucket, each checkpoint uploaded once (under its own prefix), streamed
    by vLLM. Returns the first model's store (its outputs) and every model's source."""
    stores = ModelStores(sources={})
    made: list[S3ModelStore] = []
    for index, (name, model_id, revision, directory) in enumerate(_checkpoints(cfg)):
        s3 = S3ModelStore(
            name,
            S3ModelStoreArgs(
                namespace=namespace.name,
                endpoint_url=endpoint,
                region=region,
                bucket=bucket,
                access_key_id=access_key_id,
                secret_access_key=secret_access_key,
                model=model_download(namespace, model_id, revision, directory, job_node_selector),
                uploader_image=catalog.S3_UPLOADER_IMAGE,
                scratch_size_gi=store.scratch_size_gb,
                create_bucket=store.create_bucket,
                upload_timeout_minutes=store.upload_timeout_minutes,
                streamer_concurrency=store.streamer_concurrency,
                run_as_user=run_as_user,
                # One credentials Secret per store (each store is self-contained); the first keeps its name.
                **({} if index == 0 else {"secret_name": f"model-store-s3-{resource_suffix(name)}"[:63]}),
            ),
            opts=opts,
        )
        made.append(s3)
        stores.sources[directory] = s3.source
    return made[0], stores


# --------------------------------------------------------------------------------------------
# One replica across nodes, on Ray
# --------------------------------------------------------------------------------------------


def kuberay_operator(
    cfg: StackBase, ray: RayConfig, provider: pulumi.ProviderResource, node_selector: dict[str, str],
    depends_on: list[pulumi.Resource] | None = None,
) -> KubeRayOperator | None:  # fmt: skip
    """The KubeRay operator from its official chart, unless config says it is already installed."""
    if not ray.install_operator:
        return None
    return KubeRayOperator(
        f"{cfg.name}-kuberay",
        KubeRayOperatorArgs(
            chart=HelmChart.from_row(catalog.KUBERAY_CHART),
            node_selector=node_selector,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=depends_on or []),
    )


def serve_on_ray(
    cfg: StackBase,
    ray: RayConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    stores: ModelStores,
    *,
    nodes: int,
    gpus_per_node: int,
    nccl_env: dict[str, str],
    rdma: RdmaPodAccess | None,
    operator: KubeRayOperator | None,
) -> RayVllmServer:
    """One vLLM replica over a RayCluster (one pod per GPU node), exposed as config says."""
    model = cfg.models[0]  # a Ray stack serves one model (checked by its platform section)
    pool = platform.pools[cfg.pool_of(model).name]
    opts = pulumi.ResourceOptions(provider=platform.provider)
    server = RayVllmServer(
        f"{cfg.name}-vllm",
        RayVllmServerArgs(
            engine=engine_flags(model, stores),
            runtime=pod_runtime(model, platform, cpu=ray.cpu, memory=ray.memory,
                                startup_timeout_seconds=ray.startup_timeout_seconds),
            exposure=server_exposure(namespace),
            source=stores.source(model),
            placement=pool.placement,
            nodes=nodes,
            gpus_per_node=gpus_per_node,
            pipeline_parallel_size=ray.pipeline_parallel(nodes),
            dashboard_host=ray.dashboard_host,
            ray_version=ray.ray_version,
            nccl_env={**nccl_env, "NCCL_DEBUG": ray.nccl_debug},
            rdma=rdma,
            operator=operator.release if operator is not None else None,
            wait_for=list(pool.ready),
        ),
        opts=opts,
    )  # fmt: skip
    backends = [ModelBackend(n, server.service_name, server.service_port, server.api_pod_labels) for n in model.names]
    door = entry_point(cfg, platform, namespace, backends, opts)
    network_policies(cfg, namespace, door, server.pod_labels, server.ray_selector, opts)
    export_endpoint(cfg, namespace, door, opts)
    publish_route(cfg, platform, namespace, door, opts)
    observe(cfg, platform, namespace, [server], door, ray_head_labels={**server.pod_labels, ROLE_LABEL: "head"})
    pulumi.export("rayClusterName", server.cluster_name)
    return server
