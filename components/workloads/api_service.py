"""The Service in front of an OpenAI API (vLLM, the entry point) and the disruption budget that goes with
it: the pair every serving workload ends with."""

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
    extra_ports: list[k8s.core.v1.ServicePortArgsDict] | None = None,
) -> tuple[k8s.core.v1.Service, pulumi.Output[str] | None]:
    """The Service and, for a LoadBalancer, its address once the cloud assigns one."""
    spec: k8s.core.v1.ServiceSpecArgsDict = {
        "type": service_type,
        "selector": selector,
        "ports": [{"name": "http", "port": port, "target_port": "http", "protocol": "TCP"}, *(extra_ports or [])],
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


def budgeted_service(
    name: str,
    *,
    parent: pulumi.Resource,
    namespace: pulumi.Input[str],
    service_name: str,
    labels: dict[str, str],
    budget: k8s.policy.v1.PodDisruptionBudgetSpecArgsDict,
    port: int,
    selector: dict[str, str] | None = None,
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP",
    annotations: dict[str, str] | None = None,
    source_ranges: list[str] | None = None,
    budget_name: str | None = None,
    budget_after: list[pulumi.Resource] | None = None,
    extra_ports: list[k8s.core.v1.ServicePortArgsDict] | None = None,
) -> tuple[k8s.core.v1.Service, pulumi.Output[str] | None]:
    """A PodDisruptionBudget (`budget`: max_unavailable or min_available) over the pods labelled `labels`,
    then the Service to `selector` (default: the same pods). Named `<name>-pdb` and `<name>-service`; the
    budget's object is `budget_name` (default: `service_name`) and waits for `budget_after`."""
    spec: k8s.policy.v1.PodDisruptionBudgetSpecArgsDict = {**budget, "selector": {"match_labels": labels}}
    k8s.policy.v1.PodDisruptionBudget(
        f"{name}-pdb",
        metadata={"name": budget_name or service_name, "namespace": namespace, "labels": labels},
        spec=spec,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=budget_after or []),
    )
    return openai_api_service(
        f"{name}-service",
        parent=parent,
        namespace=namespace,
        service_name=service_name,
        labels=labels,
        selector=selector if selector is not None else labels,
        service_type=service_type,
        port=port,
        annotations=annotations or {},
        source_ranges=source_ranges or [],
        extra_ports=extra_ports,
    )


def _ingress_address(status: Any) -> str:
    ingress = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    return (ingress[0].ip or ingress[0].hostname or "") if ingress else ""
