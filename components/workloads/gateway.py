"""Expose a Service through the Gateway API: a Gateway (its class provisions the load balancer) and
an HTTPRoute that forwards only the OpenAI API paths.

With a TLS Secret the Gateway also listens for HTTPS on 443 (TLS mode Terminate, the Secret as its
certificateRef), the API route attaches to that listener only, and a second route answers plain HTTP
with a 301 to https (HTTPRoute `RequestRedirect` filter, Gateway API v1 standard channel, CRDs in
../shared/crds). An ACME HTTP-01 solver's own route for `/.well-known/acme-challenge/<token>` is an
exact path, which Gateway API ranks above this redirect's `/` prefix, so certificates still renew."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

GATEWAY_API = "gateway.networking.k8s.io/v1"


@dataclass(frozen=True)
class GatewayEndpointArgs:
    namespace: pulumi.Input[str]
    gateway_class_name: str
    service_name: pulumi.Input[str]
    service_port: int
    hostname: str | None = None
    path_prefix: str = "/v1"
    """vLLM's API key guards /v1; other routes (e.g. /metrics) stay inside the cluster."""
    request_timeout: str = "3600s"
    """The whole request, streaming included (Gateway API `HTTPRouteTimeouts.request`): long generations stream
    for many minutes, so it is no shorter than the router's own `--request-timeout-secs` behind it
    (components/workloads/router.py); the Gateway's default would cut them."""
    tls_secret_name: str | None = None
    """A `kubernetes.io/tls` Secret in `namespace`: HTTPS on 443, HTTP redirected."""
    name: str = "vllm"


def route_spec(gateway: str, listener: str, rule: dict[str, Any], hostname: str | None) -> dict[str, Any]:
    """An HTTPRoute's spec: one rule attached to one listener of the Gateway, for `hostname` when given."""
    spec: dict[str, Any] = {"parentRefs": [{"name": gateway, "sectionName": listener}], "rules": [rule]}
    if hostname:
        spec["hostnames"] = [hostname]
    return spec


class GatewayEndpoint(pulumi.ComponentResource):
    gateway_name: pulumi.Output[str]
    address_command: pulumi.Output[str]

    def __init__(self, name: str, args: GatewayEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:GatewayEndpoint", name, None, opts)
        listener: dict[str, Any] = {
            "name": "http",
            "protocol": "HTTP",
            "port": 80,
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        }
        if args.hostname:
            listener["hostname"] = args.hostname
        listeners = [listener]
        if args.tls_secret_name:
            tls = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": args.tls_secret_name}]}
            listeners.append({**listener, "name": "https", "protocol": "HTTPS", "port": 443, "tls": tls})
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata={"name": f"{args.name}-gateway", "namespace": args.namespace},
            spec={"gatewayClassName": args.gateway_class_name, "listeners": listeners},
            opts=pulumi.ResourceOptions(parent=self),
        )
        api_listener = "https" if args.tls_secret_name else "http"
        api_rule = {
            "matches": [{"path": {"type": "PathPrefix", "value": args.path_prefix}}],
            "backendRefs": [{"name": args.service_name, "port": args.service_port}],
            "timeouts": {"request": args.request_timeout},
        }
        routes = {"route": ("route", route_spec(f"{args.name}-gateway", api_listener, api_rule, args.hostname))}
        if args.tls_secret_name:
            redirect_rule = {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}],
            }
            routes["redirect"] = (
                "https-redirect",
                route_spec(f"{args.name}-gateway", "http", redirect_rule, args.hostname),
            )
        for role, (suffix, spec) in routes.items():
            k8s.apiextensions.CustomResource(
                f"{name}-{role}",
                api_version=GATEWAY_API,
                kind="HTTPRoute",
                metadata={"name": f"{args.name}-{suffix}", "namespace": args.namespace},
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
        self.gateway_name = pulumi.Output.from_input(f"{args.name}-gateway")
        # The address lands in the Gateway's status once its class provisions a load balancer; the
        # provider's CustomResource does not surface status, so hand the user the command that reads it.
        self.address_command = pulumi.Output.concat(
            "kubectl get gateway ", self.gateway_name, " -n ", args.namespace,
            " -o jsonpath='{.status.addresses[0].value}'",
        )  # fmt: skip
        self.register_outputs({"gatewayName": self.gateway_name, "addressCommand": self.address_command})
