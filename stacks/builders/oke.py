"""The `oke` stacks (oci-a10, ...): an OKE enhanced cluster in its own VCN, a CPU system pool and a
tainted GPU pool, OCI File Storage for weights, vLLM behind an OCI load balancer.

Phase 1 and 3 of the production-stack OCI proposal (deployment_on_cloud/oci, PRs #794/#811) as
typed components: the shape and tensor-parallel size come from config alone.
"""

from __future__ import annotations

import pulumi

from components.conventions import POOL_LABEL
from components.oke import (
    GPU_TAINT_KEY,
    NodeTaint,
    OciFileStorage,
    OciFileStorageArgs,
    OciStorageClasses,
    OciStorageClassesArgs,
    OkeNodePool,
    OkeNodePoolArgs,
    availability_domain,
    service_annotations,
)
from components.oke.gpu_enablement import device_plugin_recipe
from components.workloads import GpuPlacement, NfsModelStore
from stacks.builders.autoscaling import node_bounds
from stacks.builders.autoscaling import oke_node_autoscaler as node_autoscaler
from stacks.builders.namespace import serving_namespace
from stacks.builders.oke_foundation import OkeFoundation, export_foundation, ocir_pull_secrets, oke_foundation
from stacks.builders.oke_offers import NodeImage
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.serving import serve
from stacks.builders.stores import nfs_model_store
from stacks.config.oke import OkeStack
from stacks.config.pools import pool_resource_name


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


def warn_idle_gpus(cfg: OkeStack) -> None:
    """A pool whose every node holds one replica of each of its models, with GPUs left over, pays for them."""
    for pool in cfg.placement_pools():
        demands = cfg.demands(pool)
        idle = pool.gpus_per_node - sum(d.gpus_per_replica for d in demands)
        if idle > 0 and all(d.replicas >= pool.nodes for d in demands):
            # Every node holds one replica of each of its models (one replica of a model per node).
            pulumi.log.warn(
                f"pool {pool.name}: its models take {pool.gpus_per_node - idle} of the {pool.gpus_per_node} GPUs of "
                f"each {pool.shape} node; {idle} GPU(s) per node stay idle"
            )


def build(cfg: OkeStack) -> None:
    o = cfg.oke
    warn_idle_gpus(cfg)
    base = oke_foundation(
        cfg,
        file_storage=True,
        gpu_images=[NodeImage(f"{key}.imageId", pool.image_id, gpu=True) for _, key, pool in o.named_gpu_pools],
        # The GPU pool runs OKE's Oracle Linux GPU images (looked up, or oke.gpuPool.imageId): driver and
        # container runtime preinstalled, so OKE's device plugin add-on is all they need.
        gpu=device_plugin_recipe(o.gpu_plugin_version),
    )
    gpu_pools = gpu_node_pools(cfg, base)
    share = model_share(cfg, base)
    storage, store = serve_models(cfg, base, gpu_pools, share)

    export_foundation(cfg, base)
    pulumi.export("fileStorageSubnetId", base.network.fss_subnet_id)
    node_autoscaler(
        cfg, base.cluster.cluster_id, [(gpu_pools[name].pool_id, node_bounds(gp)) for name, _, gp in o.named_gpu_pools]
    )
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


def gpu_node_pools(cfg: OkeStack, base: OkeFoundation) -> dict[str, OkeNodePool]:
    """One tainted OKE node pool per GPU pool of the config, by pool name."""
    return {
        name: OkeNodePool(
            pool_resource_name(cfg.name, name),
            OkeNodePoolArgs(
                cluster=base.cluster,
                network=base.network,
                shape=gp.shape,
                gpu=True,
                size=gp.node_count,
                autoscaled=gp.autoscale is not None,
                image_id=gp.image_id,
                boot_volume_gb=gp.boot_volume_gb,
                availability_domains=list(gp.availability_domains) if gp.availability_domains else None,
                fault_domains=list(gp.fault_domains),
                labels={POOL_LABEL: name, **base.gpu_plugin.node_labels},
                taints=[NodeTaint(GPU_TAINT_KEY)],
                ssh_public_key=gp.ssh_public_key,
                freeform_tags=base.tags,
            ),
            # No depends_on the system pool: the GPU nodes boot while the CPU nodes do (OKE creates pools of
            # one cluster in parallel; terraform-oci-oke module-workers.tf makes every worker pool wait only
            # for IAM). Tainted GPU nodes take no system pods, so joining first harms nothing; what really
            # needs the CPU nodes waits for them itself: the model download Job (its store waits for the
            # system pool).
        )
        for name, _, gp in cfg.oke.named_gpu_pools
    }


def model_share(cfg: OkeStack, base: OkeFoundation) -> OciFileStorage:
    """The File Storage share for the weights, mountable from the workers (and the pods with vcnNative)."""
    o, net, network = cfg.oke, cfg.oke.network, base.network
    fss_ad = availability_domain(o.compartment_id, o.file_storage_availability_domain)
    # oke_foundation(file_storage=True) made the File Storage subnet and NSG (OkeNetwork's outputs are
    # optional for the stacks without File Storage).
    assert network.fss_subnet_id is not None and network.fss_nsg_id is not None
    nfs_clients = [net.worker_subnet, *([net.pod_subnet] if net.cni == "vcnNative" else [])]
    return OciFileStorage(
        f"{cfg.name}-models",
        OciFileStorageArgs(
            compartment_id=o.compartment_id,
            availability_domain=fss_ad,
            subnet_id=network.fss_subnet_id,
            nsg_ids=[network.fss_nsg_id],
            client_cidrs=nfs_clients,
            export_path="/models",
            retain_on_delete=cfg.model_store.retain_on_delete,
            freeform_tags=base.tags,
        ),
    )


def serve_models(
    cfg: OkeStack, base: OkeFoundation, gpu_pools: dict[str, OkeNodePool], share: OciFileStorage
) -> tuple[OciStorageClasses, NfsModelStore]:
    """The workload on the cluster: storage classes, the namespace, the download to the share, and vLLM on
    the GPU pools behind an OCI load balancer."""
    o, cluster, system_pool = cfg.oke, base.cluster, base.system_pool
    k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)
    # Block volumes only: no dynamic File Storage class (components/oke/storage.py says why).
    storage = OciStorageClasses(f"{cfg.name}-storage", OciStorageClassesArgs(), opts=k8s_opts)
    namespace = serving_namespace(cfg, cluster.provider)

    pull_secrets = ocir_pull_secrets(cfg, namespace, k8s_opts)

    store, stores = nfs_model_store(
        cfg,
        cfg.model_store,
        namespace,
        server=share.server,
        path=share.export_path,
        # On the system pool: the download runs while the GPU nodes are still provisioning.
        job_node_selector={POOL_LABEL: "system"},
        # A fresh File Storage export is a root-owned 0755 directory and the export does not squash root
        # (identity_squash NONE, components/oke/file_storage.py): a root init step hands the model
        # directory to the download's UID (docs/oci-a10.md, "File Storage").
        prepare_as_root=True,
        # The download Job runs on the system pool, and the share is mountable once its export exists:
        # the store (and so its volume and Job) waits for both.
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[system_pool, *share.ready]),
    )
    lb = o.load_balancer
    serve(
        cfg,
        ServingPlatform(
            provider=cluster.provider,
            pools={
                name: GpuPoolTarget(
                    GpuPlacement(node_selector={POOL_LABEL: name}, taint_keys=pool.taint_keys),
                    ready=[pool, base.gpu_plugin],
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
    return storage, store
