"""`clusterNetwork` mode: self-managed RDMA nodes. An InstanceConfiguration (shape, RDMA GPU image, boot
volume, the Compute HPC RDMA Authentication and Auto-Configuration agent plugins, the first-boot script
that joins the node to the cluster) and a ClusterNetwork whose one instance pool has `node_count`
instances in one AD, as oracle-quickstart/oci-hpc-oke's `oke-rdma` pool (`mode = "cluster-network"`,
terraform/oke-workers.tf; the upstream module's terraform-oci-oke modules/workers/instanceconfig.tf and
clusternetworks.tf).

Deletion order: the cluster network depends on its instance configuration explicitly, so it is deleted
first; an instance configuration still used by an instance pool cannot be deleted ("cluster destroy
fails with instanceconfiguration in use", oracle-terraform-modules/terraform-oci-oke#939).
"""

from __future__ import annotations

import base64

import pulumi
import pulumi_oci as oci

from components.oke.node_pool import pod_nsg_ids, pod_subnet_ids
from components.oke.rdma.args import OkeRdmaWorkersArgs

# "First-boot hardware config for bare metal instances takes extra time" (terraform-oci-oke
# modules/workers/clusternetworks.tf sets create = "2h").
CREATE_TIMEOUT = "2h"


def node_metadata(
    args: OkeRdmaWorkersArgs, labels: dict[str, str], script: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """The instance metadata of a self-managed node: the first-boot script as user_data, and the keys the
    upstream module sets for self-managed workers (modules/workers/instanceconfig.tf)."""
    cluster, network = args.cluster, args.network
    metadata: dict[str, pulumi.Input[str]] = {
        "user_data": pulumi.Output.from_input(script).apply(lambda s: base64.b64encode(s.encode()).decode()),
        "apiserver_host": cluster.private_endpoint_ip,
        "cluster_ca_cert": cluster.ca_certificate,
        "oke-k8version": cluster.kubernetes_version,
        "oke-initial-node-labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
    }
    if network.cni_type == "OCI_VCN_IP_NATIVE":
        metadata["oke-native-pod-networking"] = "true"
        metadata["oke-max-pods"] = str(args.max_pods_per_node)
        metadata["pod-subnets"] = pulumi.Output.all(*pod_subnet_ids(network)).apply(",".join)
        if pod_nsg_ids(network):
            metadata["pod-nsgids"] = pulumi.Output.all(*pod_nsg_ids(network)).apply(",".join)
    if args.ssh_public_key:
        metadata["ssh_authorized_keys"] = args.ssh_public_key
    return metadata


def instance_details(
    args: OkeRdmaWorkersArgs, ad_name: pulumi.Input[str], metadata: dict[str, pulumi.Input[str]]
) -> oci.core.InstanceConfigurationInstanceDetailsArgsDict:
    """The launch details every instance of the pool gets: no public IP, IMDS v2 only."""
    network = args.network
    return {
        "instance_type": "compute",
        "launch_details": {
            "availability_domain": ad_name,
            "compartment_id": args.cluster.compartment_id,
            "shape": args.shape,
            "agent_config": {
                "are_all_plugins_disabled": False,
                "is_management_disabled": False,
                "is_monitoring_disabled": False,
                "plugins_configs": [
                    {"name": plugin, "desired_state": state} for plugin, state in args.agent_plugins.items()
                ],
            },
            "source_details": {
                "source_type": "image",
                "image_id": args.image_id,
                "boot_volume_size_in_gbs": str(args.boot_volume_gb),
                "boot_volume_vpus_per_gb": str(args.boot_volume_vpus_per_gb),
            },
            "create_vnic_details": {
                "subnet_id": network.worker_subnet_id,
                "assign_public_ip": False,
                "nsg_ids": [network.worker_nsg_id, *args.extra_nsg_ids],
            },
            "instance_options": {"are_legacy_imds_endpoints_disabled": True},
            "metadata": metadata,
        },
    }


def cluster_network_nodes(
    name: str,
    args: OkeRdmaWorkersArgs,
    *,
    parent: pulumi.Resource,
    ad_name: pulumi.Input[str],
    labels: dict[str, str],
    script: pulumi.Input[str],
    after: list[pulumi.Resource],
) -> oci.core.ClusterNetwork:
    """The instance configuration and the cluster network of `args.node_count` instances, created once
    everything in `after` (the IAM) exists."""
    compartment_id = args.cluster.compartment_id
    instance_config = oci.core.InstanceConfiguration(
        f"{name}-instance-config",
        compartment_id=compartment_id,
        display_name=f"{args.cluster_network_name}-rdma",
        instance_details=instance_details(args, ad_name, node_metadata(args, labels, script)),
        freeform_tags=args.freeform_tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return oci.core.ClusterNetwork(
        f"{name}-cluster-network",
        compartment_id=compartment_id,
        display_name=args.cluster_network_name,
        instance_pools=[
            {
                "instance_configuration_id": instance_config.id,
                "size": args.node_count,
                "display_name": f"{args.cluster_network_name}-pool",
            }
        ],
        # One AD; `primary_vnic_subnets` is the current form of the deprecated `primary_subnet_id`
        # (pulumi_oci ClusterNetworkPlacementConfigurationArgs).
        placement_configuration={
            "availability_domain": ad_name,
            "primary_vnic_subnets": {"subnet_id": args.network.worker_subnet_id},
        },
        freeform_tags=args.freeform_tags,
        opts=pulumi.ResourceOptions(
            parent=parent,
            # Explicit: created after and deleted before its instance configuration
            # (terraform-oci-oke#939), and only once the nodes may join.
            depends_on=[instance_config, *after],
            custom_timeouts=pulumi.CustomTimeouts(create=CREATE_TIMEOUT, update=CREATE_TIMEOUT),
        ),
    )
