"""The part every stack shares once it has a cluster: namespace and credentials, vLLM, exposure,
and the stack outputs a user needs to call the endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.workloads import (
    GatewayEndpoint,
    GatewayEndpointArgs,
    GpuPlacement,
    ModelSource,
    ServingNamespace,
    ServingNamespaceArgs,
    VllmServer,
    VllmServerArgs,
)
from stacks.config import StackConfig


def secret_or_none(value) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None


def serving_namespace(cfg: StackConfig, provider: pulumi.ProviderResource) -> ServingNamespace:
    return ServingNamespace(
        f"{cfg.name}-serving",
        ServingNamespaceArgs(
            name=cfg.namespace,
            api_key=secret_or_none(cfg.secrets.api_key),
            hf_token=secret_or_none(cfg.secrets.hf_token),
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


def serve(
    cfg: StackConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    source: ModelSource,
    depends_on: list[pulumi.Resource] | None = None,
) -> VllmServer:
    """Deploy vLLM and expose it as config says; export the endpoint outputs."""
    v, endpoint = cfg.vllm, cfg.endpoint
    opts = pulumi.ResourceOptions(provider=platform.provider)
    load_balancer = endpoint.kind == "loadBalancer"
    server = VllmServer(
        f"{cfg.name}-vllm",
        VllmServerArgs(
            namespace=namespace.name,
            image=v.image,
            served_model_name=cfg.model.name,
            source=source,
            placement=platform.placement,
            api_key_secret_name=namespace.api_key_secret_name,
            replicas=v.replicas,
            tensor_parallel_size=v.tensor_parallel_size,
            max_model_len=v.max_model_len,
            gpu_memory_utilization=v.gpu_memory_utilization,
            dtype=v.dtype,
            quantization=v.quantization,
            extra_args=list(v.extra_args),
            cpu=v.cpu,
            memory=v.memory,
            shm_size_gi=v.shm_size_gi,
            startup_timeout_seconds=v.startup_timeout_seconds,
            termination_grace_period_seconds=v.termination_grace_period_seconds,
            image_pull_secrets=platform.image_pull_secrets,
            service_type="LoadBalancer" if load_balancer else "ClusterIP",
            service_port=80 if load_balancer else 8000,
            service_annotations=platform.service_annotations if load_balancer else {},
            load_balancer_source_ranges=list(endpoint.allowed_cidrs),
            wait_for=list(depends_on or []),
        ),
        opts=opts,
    )

    if endpoint.kind == "gateway":
        gateway = GatewayEndpoint(
            f"{cfg.name}-endpoint",
            GatewayEndpointArgs(
                namespace=namespace.name,
                gateway_class_name=endpoint.gateway_class_name,
                service_name=server.service_name,
                service_port=server.service_port,
                hostname=endpoint.hostname,
            ),
            opts=opts,
        )
        host: pulumi.Output[str] = pulumi.Output.from_input(endpoint.hostname or "$GATEWAY_IP")
        pulumi.export("gatewayName", gateway.gateway_name)
        pulumi.export("gatewayAddressCommand", gateway.address_command)
    elif load_balancer and server.load_balancer_address is not None:
        host = server.load_balancer_address
    else:
        host = pulumi.Output.concat(server.service_name, ".", namespace.name, ".svc.cluster.local:8000")

    url = host.apply(lambda h: f"http://{h or '$LOAD_BALANCER_IP'}/v1")
    pulumi.export("endpoint", url)
    pulumi.export("servedModelName", cfg.model.name)
    pulumi.export("modelId", cfg.model.id)
    pulumi.export("namespace", namespace.name)
    pulumi.export("serviceName", server.service_name)
    pulumi.export("apiKey", namespace.api_key)
    # The key stays a secret: the command reads it from the stack when it is pasted.
    pulumi.export(
        "curlModels",
        url.apply(
            lambda u: f'curl -s {u}/models -H "Authorization: Bearer $(pulumi stack output apiKey --show-secrets)"'
        ),
    )
    return server
