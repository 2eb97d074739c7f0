"""The Service in front of vLLM's OpenAI API, shared by the single-node and the Ray server."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s


def openai_api_service(
    name: str,
    *,
    parent: pulumi.Resource,
    namespace: pulumi.Input[str],
    service_name: str,
    labels: dict[str, str],
    selector: dict[str, str],
    service_type: Literal["ClusterIP", "LoadBalancer"],
    port: int,
    annotations: dict[str, str],
    source_ranges: list[str],
) -> tuple[k8s.core.v1.Service, pulumi.Output[str] | None]:
    """The Service and, for a LoadBalancer, its address once the cloud assigns one."""
    spec: k8s.core.v1.ServiceSpecArgsDict = {
        "type": service_type,
        "selector": selector,
        "ports": [{"name": "http", "port": port, "target_port": "http", "protocol": "TCP"}],
    }
    if service_type == "LoadBalancer":
        spec["load_balancer_source_ranges"] = source_ranges
        # Only nodes with a serving pod answer the health checks, and client IPs are kept.
        spec["external_traffic_policy"] = "Local"
    service = k8s.core.v1.Service(
        name,
        metadata={"name": service_name, "namespace": namespace, "labels": labels, "annotations": annotations},
        spec=spec,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    address = service.status.apply(_ingress_address) if service_type == "LoadBalancer" else None
    return service, address


def _ingress_address(status: Any) -> str:
    ingress = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    return (ingress[0].ip or ingress[0].hostname or "") if ingress else ""
