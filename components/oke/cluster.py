"""An OKE enhanced cluster, its kubeconfig (a secret) and the Kubernetes provider built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_oci as oci
import yaml

from components.kubernetes_provider import cluster_provider
from components.oke.network import OkeNetwork

# The kubeconfig's auth token format; pulumi_oci documents "2.0.0" as the supported value
# (containerengine/get_cluster_kube_config.py). The kubeconfig calls `oci ce cluster generate-token`,
# so whoever uses it needs the OCI CLI and an OCI identity that may use the cluster.
KUBECONFIG_TOKEN_VERSION = "2.0.0"


@dataclass(frozen=True)
class OkeClusterArgs:
    network: OkeNetwork
    """The cluster's VCN, in the network's compartment: the API endpoint in its API subnet and NSG (with a
    public IP when the network made that subnet public), Service load balancers in its load-balancer
    subnet, pods networked by its CNI."""
    kubernetes_version: str
    """OKE version with the leading v, e.g. "v1.33.1"."""
    pods_cidr: str = "10.244.0.0/16"
    """Flannel's pod overlay range (ignored by OCI's API for VCN-native pods, which take pod subnet IPs)."""
    services_cidr: str = "10.96.0.0/16"
    cluster_type: Literal["ENHANCED_CLUSTER", "BASIC_CLUSTER"] = "ENHANCED_CLUSTER"
    """Enhanced: needed for add-on management, self-managed nodes and more (Oracle OKE docs)."""
    kubeconfig_endpoint: Literal["PUBLIC_ENDPOINT", "PRIVATE_ENDPOINT"] | None = None
    """Which endpoint the kubeconfig targets. Default: public when the API is public, else private."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class OkeCluster(pulumi.ComponentResource):
    """The cluster and the provider every in-cluster resource must use.

    `kubernetes_private_endpoint` ("10.0.0.3:6443") and `private_endpoint_ip` are what self-managed
    nodes (e.g. RDMA cluster networks) need to join; `ca_certificate` is the cluster CA (PEM, base64
    as in the kubeconfig).
    """

    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    compartment_id: pulumi.Output[str]
    kubernetes_version: str
    kubernetes_private_endpoint: pulumi.Output[str]
    kubernetes_public_endpoint: pulumi.Output[str]
    private_endpoint_ip: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: OkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:Cluster", name, None, opts)
        network = args.network
        cluster = oci.containerengine.Cluster(
            f"{name}-cluster",
            name=name,
            compartment_id=network.compartment_id,
            kubernetes_version=args.kubernetes_version,
            vcn_id=network.vcn_id,
            type=args.cluster_type,
            cluster_pod_network_options=[
                oci.containerengine.ClusterClusterPodNetworkOptionArgs(cni_type=network.cni_type)
            ],
            endpoint_config=oci.containerengine.ClusterEndpointConfigArgs(
                subnet_id=network.api_subnet_id,
                is_public_ip_enabled=network.api_public,
                nsg_ids=[network.api_nsg_id],
            ),
            options=oci.containerengine.ClusterOptionsArgs(
                service_lb_subnet_ids=[network.lb_subnet_id],
                kubernetes_network_config=oci.containerengine.ClusterOptionsKubernetesNetworkConfigArgs(
                    pods_cidr=args.pods_cidr, services_cidr=args.services_cidr
                ),
            ),
            freeform_tags=args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        endpoint = args.kubeconfig_endpoint or ("PUBLIC_ENDPOINT" if network.api_public else "PRIVATE_ENDPOINT")
        raw = oci.containerengine.get_cluster_kube_config_output(
            cluster_id=cluster.id,
            endpoint=endpoint,
            token_version=KUBECONFIG_TOKEN_VERSION,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).content

        endpoints = cluster.endpoints.apply(lambda e: e[0] if e else None)
        self.cluster_id = cluster.id
        self.cluster_name = cluster.name
        self.compartment_id = network.compartment_id
        self.kubernetes_version = args.kubernetes_version
        self.kubernetes_private_endpoint = endpoints.apply(lambda e: (e.private_endpoint if e else None) or "")
        self.kubernetes_public_endpoint = endpoints.apply(lambda e: (e.public_endpoint if e else None) or "")
        self.private_endpoint_ip = self.kubernetes_private_endpoint.apply(lambda e: e.rsplit(":", 1)[0])
        self.ca_certificate = raw.apply(_ca_data)
        self.kubeconfig = pulumi.Output.secret(raw)
        self.provider = cluster_provider(name, self, self.kubeconfig)
        self.register_outputs(
            {
                "clusterId": self.cluster_id,
                "kubernetesPrivateEndpoint": self.kubernetes_private_endpoint,
                "kubeconfig": self.kubeconfig,
            }
        )


def _ca_data(kubeconfig: str) -> str:
    document = yaml.safe_load(kubeconfig) or {}
    clusters = document.get("clusters") or [{}]
    return (clusters[0].get("cluster") or {}).get("certificate-authority-data", "")
