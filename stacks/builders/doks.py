"""The `doks` stack: DOKS in a VPC, an H100 pool, Managed NFS for weights, vLLM behind a Cilium Gateway.

Everything the DigitalOcean "vLLM on DOKS with Managed NFS" reference architecture builds in two
Terraform stacks, in one Pulumi stack.
"""

from __future__ import annotations

import re

import pulumi

from components.conventions import POOL_LABEL
from components.doks import (
    DoksCluster,
    DoksClusterArgs,
    DoksGpuNodePool,
    DoksGpuNodePoolArgs,
    DoksNfsShare,
    DoksNfsShareArgs,
    NodePoolSpec,
)
from components.doks import sdk as do
from components.workloads import GpuPlacement, NfsModelStore
from stacks import catalog
from stacks.builders.autoscaling import node_bounds
from stacks.builders.namespace import serving_namespace
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.serving import serve
from stacks.builders.stores import nfs_model_store
from stacks.config.base import PROJECT
from stacks.config.doks import DoksStack
from stacks.config.pools import pool_resource_name
from stacks.errors import ConfigError

VERSION_KEY = f"{PROJECT}:doks.kubernetesVersion"


def _release(slug: str) -> tuple[int, ...]:
    """ "1.34.1-do.2" -> (1, 34, 1, 2): DOKS slugs are the Kubernetes version plus a -do.N revision."""
    return tuple(int(n) for n in re.findall(r"\d+", slug))


def pick_version(offered: list[str], prefix: str | None, gateway: bool) -> str:
    """The DOKS version slug to create the cluster with: the newest offered (of the `prefix` minor).

    `get_kubernetes_versions` filters by string prefix and answers an empty `latest_version` when
    nothing matches (terraform-provider-digitalocean digitalocean/kubernetes/datasource_kubernetes_versions.go),
    which would surface only at `pulumi up`; here it is a config error naming the key.
    """
    matching = [v for v in offered if prefix is None or v.startswith(f"{prefix}.")]
    if not matching:
        minors = sorted({".".join(v.split(".")[:2]) for v in offered}, key=_release)
        wanted = f"version {prefix}" if prefix else "any version"
        hint = " (or leave it unset for the newest)" if prefix else ""
        raise ConfigError(VERSION_KEY, f"DOKS does not offer {wanted}; offered: {', '.join(minors) or 'none'}{hint}")
    newest = max(matching, key=_release)
    minimum = catalog.DOKS_GATEWAY_API_MIN_VERSION
    if gateway and _release(newest)[:2] < _release(minimum):
        raise ConfigError(
            VERSION_KEY, f"{newest} has no Cilium Gateway API (DOKS >= {minimum}); use endpoint.kind loadBalancer"
        )
    return newest


def build(cfg: DoksStack) -> None:
    d = cfg.doks
    tags = [cfg.name, PROJECT]
    # Validation, before any resource: what DOKS offers today (a plain invoke, answered at preview too).
    offered = list(do.get_kubernetes_versions().valid_versions)
    version = pick_version(offered, d.kubernetes_version, gateway=cfg.endpoint.kind == "gateway")
    cluster = doks_cluster(cfg, version, tags)
    gpu_pools = gpu_node_pools(cfg, cluster, tags)
    share = DoksNfsShare(
        f"{cfg.name}-models",
        DoksNfsShareArgs(
            region=d.region,
            vpc_id=cluster.vpc_id,
            size_gb=cfg.model_store.size_gb,
            retain_on_delete=cfg.model_store.retain_on_delete,
        ),
    )
    store = serve_models(cfg, cluster, gpu_pools, share)

    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("clusterId", cluster.cluster_id)
    pulumi.export("vpcId", cluster.vpc_id)
    pulumi.export("gpuNodePool", next(iter(gpu_pools.values())).pool_name)
    if len(gpu_pools) > 1:
        pulumi.export("gpuNodePools", {name: pool.pool_name for name, pool in gpu_pools.items()})
    pulumi.export("nfsHost", share.host)
    pulumi.export("nfsMountPath", share.mount_path)
    pulumi.export("modelPath", store.model_path)
    pulumi.export("kubernetesVersion", version)
    # No kubeconfig output: its token would expire in state; this command fetches a fresh one.
    pulumi.export("kubeconfigCommand", cluster.kubeconfig_command)


def doks_cluster(cfg: DoksStack, version: str, tags: list[str]) -> DoksCluster:
    """The cluster in its own VPC, with the autoscaled system pool for CPU work."""
    d = cfg.doks
    return DoksCluster(
        cfg.name,
        DoksClusterArgs(
            region=d.region,
            version=version,
            keep_version=d.kubernetes_version is None,
            vpc_cidr=d.vpc_cidr,
            cluster_subnet=d.cluster_subnet,
            service_subnet=d.service_subnet,
            ha=d.ha_control_plane,
            surge_upgrade=d.surge_upgrade,
            api_allowed_cidrs=list(d.api_allowed_cidrs),
            tags=tags,
            system_pool=NodePoolSpec(
                size=d.management_pool.size,
                min_nodes=d.management_pool.min_nodes,
                max_nodes=d.management_pool.max_nodes,
                labels={POOL_LABEL: "system"},
            ),
        ),
    )


def gpu_node_pools(cfg: DoksStack, cluster: DoksCluster, tags: list[str]) -> dict[str, DoksGpuNodePool]:
    """One GPU node pool per GPU pool of the config, by pool name."""
    return {
        name: DoksGpuNodePool(
            pool_resource_name(cfg.name, name),
            DoksGpuNodePoolArgs(
                cluster=cluster,
                size=pool.size,
                node_count=pool.node_count,
                labels={POOL_LABEL: name},
                tags=tags,
                autoscale=node_bounds(pool),
            ),
        )
        for name, _, pool in cfg.doks.named_gpu_pools
    }


def serve_models(
    cfg: DoksStack, cluster: DoksCluster, gpu_pools: dict[str, DoksGpuNodePool], share: DoksNfsShare
) -> NfsModelStore:
    """The workload: the namespace, the download to the share, vLLM on the GPU pools behind the endpoint."""
    k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)
    namespace = serving_namespace(cfg, cluster.provider)
    store, stores = nfs_model_store(
        cfg,
        cfg.model_store,
        namespace,
        server=share.host,
        path=share.mount_path,
        # On the system pool: the download runs while the GPU nodes are still provisioning.
        job_node_selector={POOL_LABEL: "system"},
        # No mount options: the NFS defaults, as digitalocean/scale-with-simplicity
        # reference-architectures/vllm-nfs k8s/pv.yaml mounts the share (no mountOptions there, and no
        # DigitalOcean document says Managed NFS takes nconnect).
        opts=k8s_opts,
    )
    targets = {
        name: GpuPoolTarget(GpuPlacement(node_selector={POOL_LABEL: name}, taint_keys=[pool.taint_key]), ready=[pool])
        for name, pool in gpu_pools.items()
    }
    serve(
        cfg,
        ServingPlatform(provider=cluster.provider, pools=targets, system_node_selector={POOL_LABEL: "system"}),
        namespace,
        stores,
    )
    return store
