"""`computeCluster` mode: an OKE managed node pool placed in a ComputeCluster (pulumi_oci
NodePoolNodeConfigDetailsArgs.compute_cluster_id), oci-hpc-oke's default (terraform/variables.tf:
worker_rdma_compute_cluster_id, "Compute Cluster OCID to use for GPU + RDMA OKE-managed node pool
placement")."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci

from components.oke.node_pool import OkeNodePool, OkeNodePoolArgs
from components.oke.rdma.args import OkeRdmaWorkersArgs


def compute_cluster_nodes(
    name: str,
    args: OkeRdmaWorkersArgs,
    *,
    parent: pulumi.Resource,
    ad_name: pulumi.Input[str],
    labels: dict[str, str],
    script: pulumi.Input[str],
    after: list[pulumi.Resource],
) -> tuple[oci.core.ComputeCluster, OkeNodePool]:
    """The compute cluster and the managed pool of `args.node_count` nodes in it, started with the RDMA
    first-boot script, once everything in `after` (the IAM) exists."""
    compute_cluster = oci.core.ComputeCluster(
        f"{name}-compute-cluster",
        availability_domain=ad_name,
        compartment_id=args.cluster.compartment_id,
        display_name=args.cluster_network_name,
        freeform_tags=args.freeform_tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    pool = OkeNodePool(
        f"{name}-pool",
        OkeNodePoolArgs(
            cluster=args.cluster,
            network=args.network,
            shape=args.shape,
            size=args.node_count,
            extra_nsg_ids=list(args.extra_nsg_ids),
            gpu=True,
            image_id=args.image_id,
            boot_volume_gb=args.boot_volume_gb,
            availability_domains=[args.availability_domain],
            labels=labels,
            taints=list(args.taints),
            ssh_public_key=args.ssh_public_key,
            max_pods_per_node=args.max_pods_per_node,
            freeform_tags=args.freeform_tags,
            compute_cluster_id=compute_cluster.id,
            cloud_init=script,
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[compute_cluster, *after]),
    )
    return compute_cluster, pool
