"""What every OKE stack stands on, whatever its GPU nodes: the VCN, the enhanced cluster, the CPU system
pool and GPU enablement, their stack outputs, and the OCIR pull secret. The `oke` and `oke-rdma` builders
both start here."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.conventions import POOL_LABEL, PROJECT
from components.oke import (
    CniType,
    OkeCluster,
    OkeClusterArgs,
    OkeGpuEnablement,
    OkeGpuEnablementArgs,
    OkeNetwork,
    OkeNetworkArgs,
    OkeNodePool,
    OkeNodePoolArgs,
    OkeSubnetCidrs,
)
from components.oke.gpu_enablement import GpuEnablementRecipe
from components.workloads import ServingNamespace
from components.workloads.registry_secret import RegistryPullSecret, RegistryPullSecretArgs
from stacks.builders.front_door import LOAD_BALANCER_PORT
from stacks.builders.namespace import secret_or_none
from stacks.builders.oci_provider import check_provider_region, warn_placeholders
from stacks.builders.oke_offers import NodeImage, check_offers
from stacks.config.base import PLACEHOLDER_COMPARTMENT
from stacks.config.oke import OkeStack
from stacks.config.rdma import OkeRdmaStack


@dataclass(frozen=True)
class OkeFoundation:
    """What every OKE stack stands on: the VCN, the enhanced cluster, the CPU system pool and GPU enablement."""

    network: OkeNetwork
    cluster: OkeCluster
    system_pool: OkeNodePool
    gpu_plugin: OkeGpuEnablement
    kubernetes_version: str
    """The OKE version in use: `oke.kubernetesVersion`, or the newest OKE offers (stacks/builders/oke_offers.py)."""
    tags: dict[str, str]


def oke_foundation(
    cfg: OkeStack | OkeRdmaStack,
    *,
    file_storage: bool,
    gpu_images: list[NodeImage],
    gpu: GpuEnablementRecipe,
    host_only_ports: dict[int, str] | None = None,
) -> OkeFoundation:
    """Network, cluster, system pool and GPU enablement from the `oke` section (any OKE stack).
    `gpu_images`: the stack's GPU node images, checked with the system pool's against what OKE offers;
    `gpu`: the add-ons that make the stack's GPU images advertise their GPUs; `host_only_ports`: ports of
    host-network servers only their own nodes may reach (OkeNetworkArgs.host_only_ports)."""
    o = cfg.oke
    version = check_before_build(cfg, gpu_images)
    tags = {"app": cfg.name, "managed-by": PROJECT}
    network = oke_network(cfg, tags, file_storage=file_storage, host_only_ports=host_only_ports)
    # Enhanced cluster (OkeCluster's default type): self-managed RDMA nodes can only join one of those
    # (Oracle, "Working with Self-Managed Nodes").
    cluster = OkeCluster(
        cfg.name,
        OkeClusterArgs(
            network=network,
            kubernetes_version=version,
            pods_cidr=o.network.pods_cidr,
            services_cidr=o.network.services_cidr,
            freeform_tags=tags,
        ),
    )
    # CPU nodes first: CoreDNS, operators and the model download need an untainted home (production-stack
    # PR #811 found CoreDNS blocked by the GPU taint).
    sp = o.system_pool
    system_pool = OkeNodePool(
        f"{cfg.name}-system",
        OkeNodePoolArgs(
            cluster=cluster,
            network=network,
            shape=sp.shape,
            ocpus=sp.shape_ocpus,
            memory_gbs=sp.shape_memory_gbs,
            size=sp.node_count,
            image_id=sp.image_id,
            boot_volume_gb=sp.boot_volume_gb,
            labels={POOL_LABEL: "system"},
            freeform_tags=tags,
        ),
    )
    gpu_plugin = OkeGpuEnablement(
        f"{cfg.name}-gpu-enablement",
        OkeGpuEnablementArgs(cluster_id=cluster.cluster_id, recipe=gpu),
        opts=pulumi.ResourceOptions(depends_on=[system_pool]),
    )
    return OkeFoundation(network, cluster, system_pool, gpu_plugin, version, tags)


def check_before_build(cfg: OkeStack | OkeRdmaStack, gpu_images: list[NodeImage]) -> str:
    """Before the first resource: the provider's region is oke.region, and the version and images are ones
    OKE offers (one-line ConfigErrors). Returns the Kubernetes version to use."""
    o = cfg.oke
    check_provider_region("oke.region", o.region)
    warn_placeholders([(o.compartment_id, PLACEHOLDER_COMPARTMENT, "oke.compartmentId")])
    return check_offers(
        o.region,
        o.kubernetes_version,
        [NodeImage("oke.systemPool.imageId", o.system_pool.image_id, gpu=False), *gpu_images],
    )


def oke_network(
    cfg: OkeStack | OkeRdmaStack, tags: dict[str, str], *, file_storage: bool, host_only_ports: dict[int, str] | None
) -> OkeNetwork:
    """The VCN, its subnets and NSGs from `oke.network`, opened to the endpoint's clients as config says."""
    o, net = cfg.oke, cfg.oke.network
    native = net.cni == "vcnNative"
    cni_type: CniType = "OCI_VCN_IP_NATIVE" if native else "FLANNEL_OVERLAY"
    load_balancer = cfg.endpoint.kind == "loadBalancer"
    return OkeNetwork(
        f"{cfg.name}-net",
        OkeNetworkArgs(
            compartment_id=o.compartment_id,
            vcn_cidr=net.vcn_cidr,
            subnets=OkeSubnetCidrs(
                api=net.api_subnet,
                workers=net.worker_subnet,
                load_balancers=net.load_balancer_subnet,
                file_storage=net.file_storage_subnet if file_storage else None,
                pods=net.pod_subnet if native else None,
            ),
            cni_type=cni_type,
            api_public=o.api_endpoint.public,
            api_allowed_cidrs=list(o.api_endpoint.allowed_cidrs),
            lb_allowed_cidrs=list(cfg.endpoint.allowed_cidrs) if load_balancer else [],
            lb_listener_ports=[LOAD_BALANCER_PORT],
            lb_preserves_client_ip=o.load_balancer.type == "nlb",
            ssh_allowed_cidrs=list(net.ssh_allowed_cidrs),
            host_only_ports=dict(host_only_ports or {}),
            dns_label=(re.sub(r"[^a-z0-9]", "", cfg.name) or "oke")[:15],
            freeform_tags=tags,
        ),
    )


def export_foundation(cfg: OkeStack | OkeRdmaStack, base: OkeFoundation) -> None:
    cluster, network = base.cluster, base.network
    pulumi.export("clusterId", cluster.cluster_id)
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("kubernetesVersion", base.kubernetes_version)
    pulumi.export("kubernetesPrivateEndpoint", cluster.kubernetes_private_endpoint)
    pulumi.export("kubernetesPublicEndpoint", cluster.kubernetes_public_endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("vcnId", network.vcn_id)
    pulumi.export("apiSubnetId", network.api_subnet_id)
    pulumi.export("workerSubnetId", network.worker_subnet_id)
    pulumi.export("loadBalancerSubnetId", network.lb_subnet_id)
    if network.pod_subnet_id is not None:
        pulumi.export("podSubnetId", network.pod_subnet_id)
    pulumi.export("workerNsgId", network.worker_nsg_id)
    pulumi.export("systemNodePoolId", base.system_pool.pool_id)


def ocir_pull_secrets(
    cfg: OkeStack | OkeRdmaStack, namespace: ServingNamespace, opts: pulumi.ResourceOptions
) -> list[pulumi.Input[str]]:
    """The OCIR pull secret for `oke.ocir` (login <tenancy namespace>/<user>, the auth token), as the
    image_pull_secrets of the serving pods; none without `oke.ocir` (any OKE stack)."""
    o = cfg.oke
    token = secret_or_none(cfg.secrets.ocir_auth_token)
    if o.ocir is None or token is None:
        return []
    registry = RegistryPullSecret(
        f"{cfg.name}-ocir",
        RegistryPullSecretArgs(
            namespace=namespace.name,
            server=o.ocir_host,
            username=f"{o.ocir.tenancy_namespace}/{o.ocir.username}",
            password=token,
            name="ocir-pull",
        ),
        opts=opts,
    )
    return [registry.secret_name]
