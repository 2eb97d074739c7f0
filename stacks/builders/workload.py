"""The part every stack shares once it has a cluster: namespace and credentials, model stores, vLLM
(one replica per node, or one across nodes on Ray), exposure, and the stack outputs a user needs to
call the endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.workloads import (
    ApiEntryPoint,
    ApiEntryPointArgs,
    EntryPoint,
    GatewayEndpoint,
    GatewayEndpointArgs,
    GpuPlacement,
    ModelSource,
    NfsModelStore,
    NfsModelStoreArgs,
    ServingNamespace,
    ServingNamespaceArgs,
    VllmServer,
    VllmServerArgs,
)
from components.workloads.network_policy import ServingNetworkPolicies, ServingNetworkPoliciesArgs
from components.workloads.ray_vllm import (
    KubeRayOperator,
    KubeRayOperatorArgs,
    RayVllmArgs,
    RayVllmServer,
    RdmaPodAccess,
)
from components.workloads.s3_model_store import S3ModelStore, S3ModelStoreArgs
from components.workloads.vllm import PORT as VLLM_CONTAINER_PORT
from stacks import capacity, catalog
from stacks.config.stack import StackConfig

# A loadBalancer endpoint listens on 80 (cloud firewalls open exactly this); in-cluster clients reach the
# entry point on 8000; vLLM itself listens on its 8000 behind it.
LOAD_BALANCER_PORT = 80
IN_CLUSTER_PORT = 8000
VLLM_PORT = 8000


def secret_or_none(value) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None


def serving_namespace(
    cfg: StackConfig, provider: pulumi.ProviderResource, pod_security: str = "baseline"
) -> ServingNamespace:
    return ServingNamespace(
        f"{cfg.name}-serving",
        ServingNamespaceArgs(
            name=cfg.namespace,
            api_key=secret_or_none(cfg.secrets.api_key),
            hf_token=secret_or_none(cfg.secrets.hf_token),
            pod_security=pod_security,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


@dataclass
class ServingPlatform:
    """What a stack hands the shared workload: its cluster provider and how to reach GPU nodes."""

    provider: pulumi.ProviderResource
    placement: GpuPlacement
    service_annotations: dict[str, str] = field(default_factory=dict)
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID for the pods; None lets the platform assign one (OpenShift)."""
    system_node_selector: dict[str, str] = field(default_factory=dict)
    """Where the entry point's pods run (a CPU pool); empty: anywhere they are scheduled."""


def serve(
    cfg: StackConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    source: ModelSource,
    depends_on: list[pulumi.Resource] | None = None,
) -> VllmServer:
    """Deploy vLLM and expose it as config says; export the endpoint outputs."""
    v = cfg.vllm
    opts = pulumi.ResourceOptions(provider=platform.provider)
    server = VllmServer(
        f"{cfg.name}-vllm",
        VllmServerArgs(
            **_server_args(cfg, platform, namespace, source, depends_on),
            replicas=v.replicas,
            cpu=v.cpu,
            memory=capacity.vllm_memory(cfg),  # vllm.memory, or what the pod needs (stacks/capacity.py)
            startup_timeout_seconds=v.startup_timeout_seconds,
            pod_annotations={f"{LABEL_PREFIX}/api-key-checksum": namespace.api_key_checksum},
        ),
        opts=opts,
    )
    door = entry_point(cfg, platform, namespace, server.service_name, server.service_port, opts)
    network_policies(cfg, namespace, door, server.pod_labels, None, opts)
    export_endpoint(cfg, namespace, door, opts)
    return server


def _server_args(
    cfg: StackConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    source: ModelSource,
    depends_on: list[pulumi.Resource] | None,
) -> dict[str, Any]:
    """What every vLLM server takes from the stack, single-node or on Ray: engine flags, scheduling, exposure."""
    v = cfg.vllm
    return {
        "namespace": namespace.name,
        "image": v.image,
        "served_model_name": cfg.model.name,
        "source": source,
        "placement": platform.placement,
        "api_key_secret_name": namespace.api_key_secret_name,
        "tensor_parallel_size": v.tensor_parallel_size,
        "max_model_len": v.max_model_len,
        "gpu_memory_utilization": v.gpu_memory_utilization,
        "dtype": v.dtype,
        "quantization": v.quantization,
        "extra_args": list(v.extra_args),
        "shm_size_gi": v.shm_size_gi,
        "termination_grace_period_seconds": v.termination_grace_period_seconds,
        "image_pull_secrets": platform.image_pull_secrets,
        "run_as_user": platform.run_as_user,
        # vLLM answers many routes without its key (see components/workloads/entry_point.py): its
        # Service stays inside the cluster, behind the entry point.
        "service_type": "ClusterIP",
        "service_port": VLLM_PORT,
        "wait_for": list(depends_on or []),
    }


def entry_point(
    cfg: StackConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    backend_service: pulumi.Output[str],
    backend_port: int,
    opts: pulumi.ResourceOptions,
) -> EntryPoint:
    """The one door into the namespace: forwards only /v1 to vLLM; a load balancer, a Gateway or
    in-cluster clients reach vLLM only through it. (A multi-model router takes this place later: it
    only has to provide the EntryPoint attributes.)"""
    endpoint = cfg.endpoint
    load_balancer = endpoint.kind == "loadBalancer"
    return ApiEntryPoint(
        f"{cfg.name}-entry",
        ApiEntryPointArgs(
            namespace=namespace.name,
            image=catalog.ENTRY_PROXY_IMAGE,
            backend_service=backend_service,
            backend_port=backend_port,
            service_type="LoadBalancer" if load_balancer else "ClusterIP",
            service_port=LOAD_BALANCER_PORT if load_balancer else IN_CLUSTER_PORT,
            service_annotations=platform.service_annotations if load_balancer else {},
            load_balancer_source_ranges=list(endpoint.allowed_cidrs),
            node_selector=platform.system_node_selector,
            run_as_user=platform.run_as_user,
            image_pull_secrets=platform.image_pull_secrets,
        ),
        opts=opts,
    )


def network_policies(
    cfg: StackConfig,
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
            server_labels=server_labels,
            server_port=VLLM_CONTAINER_PORT,
            monitoring_namespace=cfg.endpoint.monitoring_namespace,
            ray_selector=ray_selector,
        ),
        opts=opts,
    )


def export_endpoint(
    cfg: StackConfig,
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
            ),
            opts=opts,
        )
        host: pulumi.Output[str] = pulumi.Output.from_input(endpoint.hostname or "$GATEWAY_IP")
        pulumi.export("gatewayName", gateway.gateway_name)
        pulumi.export("gatewayAddressCommand", gateway.address_command)
    elif endpoint.kind == "loadBalancer" and load_balancer_address is not None:
        host = load_balancer_address
    else:
        host = pulumi.Output.concat(service_name, ".", namespace.name, f".svc.cluster.local:{service_port}")

    url = host.apply(lambda h: f"http://{h or '$LOAD_BALANCER_IP'}/v1")
    pulumi.export("endpoint", url)
    pulumi.export("servedModelName", cfg.model.name)
    pulumi.export("modelId", cfg.model.id)
    pulumi.export("namespace", namespace.name)
    pulumi.export("serviceName", service_name)
    pulumi.export("apiKey", namespace.api_key)
    # The key stays a secret: the command reads it from the stack when it is pasted.
    pulumi.export(
        "curlModels",
        url.apply(
            lambda u: f'curl -s {u}/models -H "Authorization: Bearer $(pulumi stack output apiKey --show-secrets)"'
        ),
    )


# --------------------------------------------------------------------------------------------
# Model stores
# --------------------------------------------------------------------------------------------


def model_download_args(
    cfg: StackConfig, namespace: ServingNamespace, job_node_selector: dict[str, str]
) -> dict[str, Any]:
    """What every model store's Hugging Face download takes: the model, the pinned downloader, the token."""
    return {
        "model_id": cfg.model.id,
        "model_revision": cfg.model.revision,
        "model_directory": cfg.model.directory,
        "downloader_image": catalog.DOWNLOADER_IMAGE,
        "huggingface_hub_version": catalog.HUGGINGFACE_HUB_VERSION,
        "hf_token_secret_name": namespace.hf_token_secret_name,
        "job_node_selector": job_node_selector,
    }


def nfs_model_store(
    cfg: StackConfig,
    namespace: ServingNamespace,
    server: pulumi.Input[str],
    path: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    mount_options: list[str] | None = None,
    run_as_user: int | None = DEFAULT_UID,
    prepare_as_root: bool = False,
) -> NfsModelStore:
    """The weights on an NFS share (created by the stack or already there), downloaded once."""
    store = cfg.model_store
    assert store.kind == "nfs"
    return NfsModelStore(
        f"{cfg.name}-model-store",
        NfsModelStoreArgs(
            namespace=namespace.name,
            server=server,
            path=path,
            capacity_gb=store.size_gb,
            **model_download_args(cfg, namespace, job_node_selector),
            mount_options=list(mount_options or []),
            download_timeout_minutes=store.download_timeout_minutes,
            run_as_user=run_as_user,
            prepare_as_root=prepare_as_root,
        ),
        opts=opts,
    )


def s3_model_store(
    cfg: StackConfig,
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
) -> S3ModelStore:
    """The weights in an S3-compatible bucket, uploaded once, streamed by vLLM."""
    store = cfg.model_store
    assert store.kind == "s3"
    return S3ModelStore(
        f"{cfg.name}-model-store",
        S3ModelStoreArgs(
            namespace=namespace.name,
            endpoint_url=endpoint,
            region=region,
            bucket=bucket,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            **model_download_args(cfg, namespace, job_node_selector),
            uploader_image=catalog.S3_UPLOADER_IMAGE,
            scratch_size_gi=store.scratch_size_gb,
            create_bucket=store.create_bucket,
            upload_timeout_minutes=store.upload_timeout_minutes,
            streamer_concurrency=store.streamer_concurrency,
            run_as_user=run_as_user,
        ),
        opts=opts,
    )


# --------------------------------------------------------------------------------------------
# One replica across nodes, on Ray
# --------------------------------------------------------------------------------------------


def kuberay_operator(
    cfg: StackConfig, provider: pulumi.ProviderResource, node_selector: dict[str, str],
    depends_on: list[pulumi.Resource] | None = None,
) -> KubeRayOperator | None:  # fmt: skip
    """The KubeRay operator from its official chart, unless config says it is already installed."""
    assert cfg.ray is not None
    if not cfg.ray.install_operator:
        return None
    return KubeRayOperator(
        f"{cfg.name}-kuberay",
        KubeRayOperatorArgs(
            chart=catalog.KUBERAY_CHART["chart"],
            version=catalog.KUBERAY_CHART["version"],
            repo=catalog.KUBERAY_CHART["repo"],
            node_selector=node_selector,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=depends_on or []),
    )


def serve_on_ray(
    cfg: StackConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    source: ModelSource,
    *,
    nodes: int,
    gpus_per_node: int,
    nccl_env: dict[str, str],
    rdma: RdmaPodAccess | None,
    operator: KubeRayOperator | None,
    depends_on: list[pulumi.Resource] | None = None,
) -> RayVllmServer:
    """One vLLM replica over a RayCluster (one pod per GPU node), exposed as config says."""
    assert cfg.ray is not None
    ray = cfg.ray
    opts = pulumi.ResourceOptions(provider=platform.provider)
    server = RayVllmServer(
        f"{cfg.name}-vllm",
        RayVllmArgs(
            **_server_args(cfg, platform, namespace, source, depends_on),
            nodes=nodes,
            gpus_per_node=gpus_per_node,
            pipeline_parallel_size=ray.pipeline_parallel(nodes),
            ray_version=ray.ray_version,
            cpu=ray.cpu,
            memory=ray.memory,
            startup_timeout_seconds=ray.startup_timeout_seconds,
            nccl_env={**nccl_env, "NCCL_DEBUG": ray.nccl_debug},
            rdma=rdma,
            operator=operator.release if operator is not None else None,
            dashboard_host=ray.dashboard_host,
        ),
        opts=opts,
    )
    door = entry_point(cfg, platform, namespace, server.service_name, server.service_port, opts)
    network_policies(cfg, namespace, door, server.pod_labels, server.ray_selector, opts)
    export_endpoint(cfg, namespace, door, opts)
    pulumi.export("rayClusterName", server.cluster_name)
    return server
