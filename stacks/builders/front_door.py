"""The one door into the serving namespace (components/workloads/router.py): it forwards only /v1, checks the
door's keys and routes each request by `model` to that model's replicas; and the NetworkPolicies that
make it the only way in."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.workloads import (
    EntryPoint,
    ModelRouter,
    ModelRouterArgs,
    RouterBackend,
    ServingNamespace,
)
from components.workloads.engine import PORT as VLLM_CONTAINER_PORT
from components.workloads.network_policy import ServingNetworkPolicies, ServingNetworkPoliciesArgs
from stacks import catalog
from stacks.builders.observability import scraper_namespace
from stacks.builders.platform import ServingPlatform
from stacks.builders.tls import HTTPS_PORT, load_balancer_tls
from stacks.config.common import StackBase

# A loadBalancer endpoint listens on 80 (cloud firewalls open exactly this); in-cluster clients reach the
# entry point on 8000.
LOAD_BALANCER_PORT = 80
IN_CLUSTER_PORT = 8000


@dataclass(frozen=True)
class ModelBackend:
    """One name the door routes by `model` to a model's replicas: the served name (or a LoRA adapter's), the
    server's ClusterIP Service and pods. The front door takes the list of them (`serve`)."""

    served_model_name: str
    service_name: pulumi.Output[str]
    service_port: int
    pod_labels: dict[str, str]


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
