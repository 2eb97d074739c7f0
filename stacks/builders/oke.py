"""The `oke` stacks (oci-a10, ...): an OKE enhanced cluster in its own VCN, a CPU system pool and a
tainted GPU pool, OCI File Storage for weights, vLLM behind an OCI load balancer.

Phase 1 and 3 of the production-stack OCI proposal (deployment_on_cloud/oci, PRs #794/#811) as
typed components: the shape and tensor-parallel size come from config alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.conventions import POOL_LABEL
from components.oke import (
    GPU_TAINT_KEY,
    NodeTaint,
    OciFileStorage,
    OciFileStorageArgs,
    OciStorageClasses,
    OciStorageClassesArgs,
    OkeCluster,
    OkeClusterArgs,
    OkeGpuEnablement,
    OkeGpuEnablementArgs,
    OkeNetwork,
    OkeNetworkArgs,
    OkeNodePool,
    OkeNodePoolArgs,
    OkeSubnetCidrs,
    availability_domain,
    service_annotations,
)
from components.oke.gpu_enablement import GpuEnablementRecipe, device_plugin_recipe
from components.workloads import GpuPlacement, ServingNamespace
from components.workloads.registry_secret import RegistryPullSecret, RegistryPullSecretArgs
from stacks.builders.oke_offers import NodeImage, check_offers
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.workload import (
    LOAD_BALANCER_PORT,
    nfs_model_store,
    secret_or_none,
    serve,
    serving_namespace,
)
from stacks.config.oke import PLACEHOLDER_COMPARTMENT
from stacks.config.pools import pool_resource_name
from stacks.config.stack import PROJECT, StackConfig
from stacks.errors import ConfigError


@dataclass(frozen=True)
class OkeFoundation:
    """What every OKE stack stands on: the VCN, the enhanced cluster, the CPU system pool and GPU enablement."""

    network: OkeNetwork
    cluster: OkeCluster
    system_pool: OkeNodePool
    gpu_plugin: OkeGpuEnablement
    kubernetes_version: str
    """The OKE version in use: `oke.kubernetesVersion`, or the newest OKE offers (stacks/builders/oke_offers.py)."""
    cni_type: str
    pod_subnet_ids: list[pulumi.Input[str]]
    pod_nsg_ids: list[pulumi.Input[str]]
    tags: dict[str, str]


def oke_foundation(
    cfg: StackConfig,
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
    assert cfg.oke is not None  # guaranteed by config validation
    o, net = cfg.oke, cfg.oke.network
    # The OCI provider creates everything in `oci:region`; oke.region names the OCIR host and the checks.
    provider_region = pulumi.Config("oci").get("region")
    if provider_region != o.region:
        raise ConfigError(
            "oci:region",
            f"is {provider_region!r} but {PROJECT}:oke.region is {o.region!r}; set both to the same region "
            f"(pulumi config set oci:region {o.region})",
        )
    if o.compartment_id == PLACEHOLDER_COMPARTMENT:
        pulumi.log.warn(
            "oke.compartmentId is the committed placeholder; set yours with "
            "`pulumi config set --path 'oke.compartmentId' ocid1.compartment.oc1..<id>` before `pulumi up`"
        )
    # Before the first resource: the version and the images must be ones OKE offers (one-line ConfigError).
    version = check_offers(
        o.region,
        o.kubernetes_version,
        [NodeImage("oke.systemPool.imageId", o.system_pool.image_id, gpu=False), *gpu_images],
    )
    tags = {"app": cfg.name, "managed-by": PROJECT}
    native = net.cni == "vcnNative"
    cni_type = "OCI_VCN_IP_NATIVE" if native else "FLANNEL_OVERLAY"
    load_balancer = cfg.endpoint.kind == "loadBalancer"

    network = OkeNetwork(
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
    # Enhanced cluster (OkeCluster's default type): self-managed RDMA nodes can only join one of those
    # (Oracle, "Working with Self-Managed Nodes").
    cluster = OkeCluster(
        cfg.name,
        OkeClusterArgs(
            compartment_id=o.compartment_id,
            kubernetes_version=version,
            vcn_id=network.vcn_id,
            api_subnet_id=network.api_subnet_id,
            api_nsg_ids=[network.api_nsg_id],
            api_public=o.api_endpoint.public,
            service_lb_subnet_ids=[network.lb_subnet_id],
            cni_type=cni_type,
            pods_cidr=net.pods_cidr,
            services_cidr=net.services_cidr,
            freeform_tags=tags,
        ),
    )
    pod_subnet_ids: list[pulumi.Input[str]] = [network.pod_subnet_id] if network.pod_subnet_id is not None else []
    pod_nsg_ids: list[pulumi.Input[str]] = [network.pod_nsg_id] if network.pod_nsg_id is not None else []
    # CPU nodes first: CoreDNS, operators and the model download need an untainted home (production-stack
    # PR #811 found CoreDNS blocked by the GPU taint).
    sp = o.system_pool
    system_pool = OkeNodePool(
        f"{cfg.name}-system",
        OkeNodePoolArgs(
            cluster_id=cluster.cluster_id,
            compartment_id=o.compartment_id,
            kubernetes_version=version,
            shape=sp.shape,
            ocpus=sp.shape_ocpus,
            memory_gbs=sp.shape_memory_gbs,
            size=sp.node_count,
            image_id=sp.image_id,
            boot_volume_gb=sp.boot_volume_gb,
            subnet_id=network.worker_subnet_id,
            nsg_ids=[network.worker_nsg_id],
            labels={POOL_LABEL: "system"},
            cni_type=cni_type,  # type: ignore[arg-type]
            pod_subnet_ids=pod_subnet_ids,
            pod_nsg_ids=pod_nsg_ids,
            freeform_tags=tags,
        ),
    )
    gpu_plugin = OkeGpuEnablement(
        f"{cfg.name}-gpu-enablement",
        OkeGpuEnablementArgs(cluster_id=cluster.cluster_id, recipe=gpu),
        opts=pulumi.ResourceOptions(depends_on=[system_pool]),
    )
    return OkeFoundation(
        network, cluster, system_pool, gpu_plugin, version, cni_type, pod_subnet_ids, pod_nsg_ids, tags
    )


def export_foundation(cfg: StackConfig, base: OkeFoundation) -> None:
    assert cfg.oke is not None
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
    cfg: StackConfig, namespace: ServingNamespace, opts: pulumi.ResourceOptions
) -> list[pulumi.Input[str]]:
    """The OCIR pull secret for `oke.ocir` (login <tenancy namespace>/<user>, the auth token), as the
    image_pull_secrets of the serving pods; none without `oke.ocir` (any OKE stack)."""
    assert cfg.oke is not None
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


def file_system_on_destroy(retained: bool, file_system_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """What `pulumi destroy` does to the weights, shown in the summary: a retained file system outlives its
    mount target and export, which destroy deletes (components/oke/file_storage.py)."""
    if retained:
        return pulumi.Output.format(
            "KEPT by destroy (retainOnDelete): file system {0} with the weights; its mount target and export are "
            "deleted",
            file_system_id,
        )
    return pulumi.Output.from_input("deleted by destroy: file system, mount target and export")


def build(cfg: StackConfig) -> None:
    assert cfg.oke is not None  # guaranteed by config validation
    assert cfg.model_store.kind == "nfs"  # the oke stack keeps weights on File Storage over NFS
    o, net = cfg.oke, cfg.oke.network
    for pool in cfg.gpu_pools:
        demands = cfg.demands(pool)
        idle = pool.gpus_per_node - sum(d.gpus_per_replica for d in demands)
        if idle > 0 and all(d.replicas >= pool.nodes for d in demands):
            # Every node holds one replica of each of its models (one replica of a model per node).
            pulumi.log.warn(
                f"pool {pool.name}: its models take {pool.gpus_per_node - idle} of the {pool.gpus_per_node} GPUs of "
                f"each {pool.shape} node; {idle} GPU(s) per node stay idle"
            )
    base = oke_foundation(
        cfg,
        file_storage=True,
        gpu_images=[NodeImage(f"{key}.imageId", pool.image_id, gpu=True) for _, key, pool in o.named_gpu_pools],
        # The GPU pool runs OKE's Oracle Linux GPU images (looked up, or oke.gpuPool.imageId): driver and
        # container runtime preinstalled, so OKE's device plugin add-on is all they need.
        gpu=device_plugin_recipe(o.gpu_plugin_version),
    )
    network, cluster, system_pool, tags = base.network, base.cluster, base.system_pool, base.tags
    native = net.cni == "vcnNative"
    gpu_pools = {
        name: OkeNodePool(
            pool_resource_name(cfg.name, name),
            OkeNodePoolArgs(
                cluster_id=cluster.cluster_id,
                compartment_id=o.compartment_id,
                kubernetes_version=base.kubernetes_version,
                shape=gp.shape,
                gpu=True,
                size=gp.node_count,
                image_id=gp.image_id,
                boot_volume_gb=gp.boot_volume_gb,
                availability_domains=list(gp.availability_domains) if gp.availability_domains else None,
                fault_domains=list(gp.fault_domains),
                subnet_id=network.worker_subnet_id,
                nsg_ids=[network.worker_nsg_id],
                labels={POOL_LABEL: name, **base.gpu_plugin.node_labels},
                taints=[NodeTaint(GPU_TAINT_KEY)],
                ssh_public_key=gp.ssh_public_key,
                freeform_tags=tags,
                cni_type=base.cni_type,  # type: ignore[arg-type]
                pod_subnet_ids=base.pod_subnet_ids,
                pod_nsg_ids=base.pod_nsg_ids,
            ),
            # No depends_on the system pool: the GPU nodes boot while the CPU nodes do (OKE creates pools of
            # one cluster in parallel; terraform-oci-oke module-workers.tf makes every worker pool wait only
            # for IAM). Tainted GPU nodes take no system pods, so joining first harms nothing; what really
            # needs the CPU nodes waits for them itself: the model download Job (its volume waits for the
            # system pool below).
        )
        for name, _, gp in o.named_gpu_pools
    }
    gpu_plugin = base.gpu_plugin

    fss_ad = availability_domain(o.compartment_id, o.file_storage_availability_domain)
    assert network.fss_subnet_id is not None and network.fss_nsg_id is not None
    nfs_clients = [net.worker_subnet, *([net.pod_subnet] if native else [])]
    share = OciFileStorage(
        f"{cfg.name}-models",
        OciFileStorageArgs(
            compartment_id=o.compartment_id,
            availability_domain=fss_ad,
            subnet_id=network.fss_subnet_id,
            nsg_ids=[network.fss_nsg_id],
            client_cidrs=nfs_clients,
            export_path="/models",
            retain_on_delete=cfg.model_store.retain_on_delete,
            freeform_tags=tags,
        ),
    )

    k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)
    # Block volumes only: no dynamic File Storage class (components/oke/storage.py says why).
    storage = OciStorageClasses(f"{cfg.name}-storage", OciStorageClassesArgs(), opts=k8s_opts)
    namespace = serving_namespace(cfg, cluster.provider)

    pull_secrets = ocir_pull_secrets(cfg, namespace, k8s_opts)

    store, stores = nfs_model_store(
        cfg,
        namespace,
        # The download Job runs on the system pool: the volume (and so the Job) waits for it.
        server=pulumi.Output.all(share.server, system_pool.pool_id).apply(lambda v: v[0]),
        path=share.export_path,
        # On the system pool: the download runs while the GPU nodes are still provisioning.
        job_node_selector={POOL_LABEL: "system"},
        # A fresh File Storage export is a root-owned 0755 directory and the export does not squash root
        # (identity_squash NONE, components/oke/file_storage.py): a root init step hands the model
        # directory to the download's UID (docs/oci-a10.md, "File Storage").
        prepare_as_root=True,
        opts=k8s_opts,
    )
    lb = o.load_balancer
    serve(
        cfg,
        ServingPlatform(
            provider=cluster.provider,
            pools={
                name: GpuPoolTarget(
                    GpuPlacement(node_selector={POOL_LABEL: name}, taint_keys=pool.taint_keys),
                    ready=[pool, gpu_plugin],
                )
                for name, pool in gpu_pools.items()
            },
            service_annotations=service_annotations(
                lb.type, min_mbps=lb.min_mbps, max_mbps=lb.max_mbps, idle_timeout_seconds=lb.idle_timeout_seconds
            ),
            image_pull_secrets=pull_secrets,
            system_node_selector={POOL_LABEL: "system"},
        ),
        namespace,
        stores,
    )

    export_foundation(cfg, base)
    pulumi.export("fileStorageSubnetId", network.fss_subnet_id)
    first_name, _, first = o.named_gpu_pools[0]
    pulumi.export("gpuNodePoolId", gpu_pools[first_name].pool_id)
    pulumi.export("gpuNodeImageId", gpu_pools[first_name].image_id)
    pulumi.export("gpuShape", first.shape)
    if len(gpu_pools) > 1:
        pulumi.export("gpuNodePoolIds", {name: pool.pool_id for name, pool in gpu_pools.items()})
    pulumi.export("fileSystemId", share.file_system_id)
    pulumi.export("mountTargetId", share.mount_target_id)
    pulumi.export("exportId", share.export_id)
    pulumi.export("nfsServer", share.server)
    pulumi.export("nfsExportPath", share.export_path)
    pulumi.export("modelStoreOnDestroy", file_system_on_destroy(cfg.model_store.retain_on_delete, share.file_system_id))
    pulumi.export("modelPath", store.model_path)
    pulumi.export("storageClasses", [storage.block_volume_class])
