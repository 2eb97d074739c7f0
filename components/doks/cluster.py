"""A DOKS cluster in its own VPC, with an autoscaling system pool and a Kubernetes provider."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_digitalocean as do
import pulumi_kubernetes as k8s

from components.kubernetes_provider import cluster_provider


@dataclass(frozen=True)
class NodePoolSpec:
    size: str
    min_nodes: int
    max_nodes: int
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DoksClusterArgs:
    region: str
    version_prefix: str
    """DOKS minor version such as "1.33"; the newest patch slug is looked up."""
    vpc_cidr: str
    cluster_subnet: str
    service_subnet: str
    system_pool: NodePoolSpec
    ha: bool = False
    surge_upgrade: bool = False
    """Extra nodes during upgrades; digitalocean/scale-with-simplicity reference-architectures/vllm-nfs
    terraform/1-infra/variables.tf defaults doks_surge_upgrade = false: GPU quotas leave no node to surge into."""
    api_allowed_cidrs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


class DoksCluster(pulumi.ComponentResource):
    """VPC + DOKS cluster + the Kubernetes provider every in-cluster resource must use."""

    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    version: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: DoksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:doks:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        vpc = do.Vpc(f"{name}-vpc", region=args.region, ip_range=args.vpc_cidr, opts=child)

        versions = do.get_kubernetes_versions_output(
            version_prefix=f"{args.version_prefix}.", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        firewall = (
            do.KubernetesClusterControlPlaneFirewallArgs(enabled=True, allowed_addresses=args.api_allowed_cidrs)
            if args.api_allowed_cidrs
            else None
        )
        cluster = do.KubernetesCluster(
            f"{name}-cluster",
            region=args.region,
            version=versions.latest_version,
            vpc_uuid=vpc.id,
            cluster_subnet=args.cluster_subnet,
            service_subnet=args.service_subnet,
            ha=args.ha,
            # Load balancers and volumes created through the Kubernetes API go with the cluster.
            destroy_all_associated_resources=True,
            surge_upgrade=args.surge_upgrade,
            auto_upgrade=False,
            control_plane_firewall=firewall,
            tags=args.tags,
            node_pool=do.KubernetesClusterNodePoolArgs(
                name=f"{name}-system",
                size=args.system_pool.size,
                auto_scale=True,
                min_nodes=args.system_pool.min_nodes,
                max_nodes=args.system_pool.max_nodes,
                labels=args.system_pool.labels,
            ),
            opts=child,
        )

        self.cluster_id = cluster.id
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.version = cluster.version
        self.vpc_id = vpc.id
        self.kubeconfig = pulumi.Output.secret(cluster.kube_configs[0].raw_config)
        self.provider = cluster_provider(name, self, self.kubeconfig)
        self.register_outputs(
            {
                "clusterId": self.cluster_id,
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "vpcId": self.vpc_id,
                "kubeconfig": self.kubeconfig,
            }
        )
