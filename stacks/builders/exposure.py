"""How clients reach the door, as `endpoint` says (a Gateway and HTTPRoute, a cloud load balancer, or
in-cluster only; an OpenShift Route on OpenShift), and the stack outputs that say how to call it."""

from __future__ import annotations

import pulumi

from components.openshift import OpenShiftRoute, OpenShiftRouteArgs
from components.workloads import (
    EntryPoint,
    GatewayEndpoint,
    GatewayEndpointArgs,
    ServingNamespace,
)
from stacks.builders.platform import ServingPlatform
from stacks.builders.tls import endpoint_url, gateway_certificate
from stacks.config.common import StackBase


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
