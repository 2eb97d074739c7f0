"""A DOKS cluster in its own VPC, with an autoscaling system pool and a Kubernetes provider.

Credentials: DigitalOcean expires the token of a DOKS kubeconfig after 7 days by default
(kubeconfig API: "If not set or 0, then the token will have a 7 day expiry"), so the cluster
resource's `kube_configs` in state go stale and a later `pulumi up` sees the cluster as unreachable
(pulumi/pulumi-digitalocean#312). The provider is built instead from the cluster read again on every
run (`get_kubernetes_cluster`), as digitalocean/scale-with-simplicity reference-architectures/vllm-nfs
does with `data "digitalocean_kubernetes_cluster"` (terraform/2-vllm/terraform.tf). `pulumi refresh`
and `pulumi destroy` reuse the provider config recorded in state unless run with `--run-program`
(https://www.pulumi.com/docs/iac/operations/stack-management/run-program/). No kubeconfig is exported:
`kubeconfig_command` fetches a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.doks import sdk as do
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
    version: str
    """An exact DOKS version slug such as "1.34.1-do.0", as `get_kubernetes_versions` offers it."""
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
    keep_version: bool = False
    """Ignore later changes of `version`: a version picked as "the newest offered" is the one the cluster
    was created with; a newer offer never upgrades it on a routine `pulumi up`."""


class DoksCluster(pulumi.ComponentResource):
    """VPC + DOKS cluster + the Kubernetes provider every in-cluster resource must use."""

    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    version: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    kubeconfig_command: pulumi.Output[str]
    """`doctl kubernetes cluster kubeconfig save <name>`: a kubeconfig with fresh credentials."""
    provider: k8s.Provider

    def __init__(self, name: str, args: DoksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:doks:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        vpc = do.Vpc(f"{name}-vpc", region=args.region, ip_range=args.vpc_cidr, opts=child)

        firewall = (
            do.KubernetesClusterControlPlaneFirewallArgs(enabled=True, allowed_addresses=args.api_allowed_cidrs)
            if args.api_allowed_cidrs
            else None
        )
        cluster = do.KubernetesCluster(
            f"{name}-cluster",
            region=args.region,
            version=args.version,
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
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["version"] if args.keep_version else None),
        )

        # Read on every run, after the cluster exists: kube_configs with a token minted now.
        current = do.get_kubernetes_cluster_output(
            name=cluster.name, opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster])
        )
        kubeconfig = pulumi.Output.secret(current.kube_configs[0].raw_config)

        self.cluster_id = cluster.id
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.version = cluster.version
        self.vpc_id = vpc.id
        # doctl syntax: digitalocean/scale-with-simplicity reference-architectures/vllm-nfs README.
        self.kubeconfig_command = cluster.name.apply(lambda n: f"doctl kubernetes cluster kubeconfig save {n}")
        self.provider = cluster_provider(name, self, kubeconfig, cluster_identifier=cluster.id)
        self.register_outputs(
            {
                "clusterId": self.cluster_id,
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "vpcId": self.vpc_id,
                "kubeconfigCommand": self.kubeconfig_command,
            }
        )
