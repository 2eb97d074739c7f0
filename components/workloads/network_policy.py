"""NetworkPolicies of the serving namespace: nothing gets in unless a rule below lets it.

- default deny for ingress, every pod of the namespace;
- the entry point's port from anywhere (a load balancer, a Gateway or in-cluster clients: the entry
  point forwards only /v1);
- vLLM's port only from pods of this namespace (the entry point, Jobs) and, when configured, one
  monitoring namespace (Prometheus scraping /metrics);
- the entry point's metrics port (the router's Prometheus endpoint) only from that monitoring namespace;
- named ports of named pods from named namespaces only (`namespace_ingress`: e.g. Knative's activator,
  ingress and autoscaler reaching queue-proxy, when the entry point's port is open to no one else);
- Ray (GCS 6379, dashboard 8265, client 10001 and Ray's other ports) only between the Ray cluster's pods.

Kubelet probes need no rule: "traffic to and from the node where a Pod is running is always allowed"
— Kubernetes docs, Network Policies, "What you can't do with network policies"
(https://kubernetes.io/docs/concepts/services-networking/network-policies/). Pods on the host network
are not selected by NetworkPolicy at all (same page); the OCI stacks restrict those ports at the NSG
(components/oke/ray_host_ports.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (Kubernetes >= 1.22), so a namespace is selectable by name."""


@dataclass(frozen=True)
class NamespaceIngress:
    """The pods of `namespaces` may reach `ports` of the pods labelled `pod_labels`; one NetworkPolicy `name`."""

    name: str
    pod_labels: dict[str, str]
    ports: tuple[int, ...]
    namespaces: tuple[str, ...]


def namespace_peers(namespaces: tuple[str, ...] | list[str]) -> list[k8s.networking.v1.NetworkPolicyPeerArgsDict]:
    """Every pod of each named namespace, selected by the name label the API server sets."""
    return [{"namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: name}}} for name in namespaces]


@dataclass(frozen=True)
class ServingNetworkPoliciesArgs:
    namespace: pulumi.Input[str]
    entry_labels: dict[str, str]
    entry_port: int | None
    """The entry point's container port, open to anyone; None when no port is (`namespace_ingress` then
    names who may reach the pods)."""
    server_labels: dict[str, str]
    """vLLM's pods (the Deployment's, or every Ray pod)."""
    server_port: int
    monitoring_namespace: str | None = None
    entry_redirect_port: int | None = None
    """The entry point's plain-HTTP redirect listener, when a load balancer terminates TLS in front."""
    entry_metrics_port: int | None = None
    """The entry point's metrics port (the router's), open to `monitoring_namespace` only."""
    ray_selector: k8s.meta.v1.LabelSelectorArgsDict | None = None
    """Label selector (snake_case, as the typed API takes it) of every pod of the Ray cluster; None without Ray."""
    namespace_ingress: tuple[NamespaceIngress, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)


def policy_specs(args: ServingNetworkPoliciesArgs) -> dict[str, k8s.networking.v1.NetworkPolicySpecArgsDict]:
    """Name -> NetworkPolicy spec; see the module docstring for what each allows."""
    tcp = "TCP"
    vllm_sources: list[k8s.networking.v1.NetworkPolicyPeerArgsDict] = [{"pod_selector": {}}]
    if args.monitoring_namespace:
        vllm_sources += namespace_peers([args.monitoring_namespace])
    specs: dict[str, k8s.networking.v1.NetworkPolicySpecArgsDict] = {
        "default-deny-ingress": {"pod_selector": {}, "policy_types": ["Ingress"]}
    }
    entry_ports = [port for port in (args.entry_port, args.entry_redirect_port) if port is not None]
    if entry_ports:
        specs["allow-entry-point"] = {
            "pod_selector": {"match_labels": args.entry_labels},
            "policy_types": ["Ingress"],
            "ingress": [{"ports": [{"port": port, "protocol": tcp} for port in entry_ports]}],
        }
    specs["allow-vllm-api"] = {
        "pod_selector": {"match_labels": args.server_labels},
        "policy_types": ["Ingress"],
        "ingress": [{"from_": vllm_sources, "ports": [{"port": args.server_port, "protocol": tcp}]}],
    }
    for access in args.namespace_ingress:
        if access.name in specs:
            raise ValueError(f"NetworkPolicy {access.name} is already one of this namespace's policies")
        if not access.namespaces or not access.ports:  # an empty `from` or `ports` admits every source or port
            raise ValueError(f"NetworkPolicy {access.name} must name at least one namespace and one port")
        specs[access.name] = {
            "pod_selector": {"match_labels": access.pod_labels},
            "policy_types": ["Ingress"],
            "ingress": [
                {
                    "from_": namespace_peers(access.namespaces),
                    "ports": [{"port": port, "protocol": tcp} for port in access.ports],
                }
            ],
        }
    if args.monitoring_namespace and args.entry_metrics_port is not None:
        specs["allow-entry-metrics"] = {
            "pod_selector": {"match_labels": args.entry_labels},
            "policy_types": ["Ingress"],
            "ingress": [{"from_": vllm_sources[1:], "ports": [{"port": args.entry_metrics_port, "protocol": tcp}]}],
        }
    if args.ray_selector is not None:
        specs["allow-ray-cluster"] = {
            "pod_selector": args.ray_selector,
            "policy_types": ["Ingress"],
            # Every port, but only from the cluster's own pods: Ray also opens random worker ports.
            "ingress": [{"from_": [{"pod_selector": args.ray_selector}]}],
        }
    return specs


class ServingNetworkPolicies(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServingNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:ServingNetworkPolicies", name, None, opts)
        for policy, spec in policy_specs(args).items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}",
                metadata={"name": policy, "namespace": args.namespace, "labels": args.labels},
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
