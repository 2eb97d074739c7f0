"""OKE's Cluster Autoscaler add-on, sizing managed node pools between per-pool bounds.

- Add-on name `ClusterAutoscaler`, key `nodes` = `<min>:<max>:<node pool OCID>` (comma-separated for
  several pools): "Cluster Autoscaler" configuration arguments,
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/configuration-arguments-cluster-autoscaler.htm,
  and "Working with the Cluster Autoscaler as a Cluster Add-on" (contengusingclusterautoscaler_topic-
  Working_with_Cluster_Autoscaler_as_Cluster_Add-on.htm). Not for virtual node pools ("You cannot use
  the Kubernetes Cluster Autoscaler with virtual node pools", contengusingclusterautoscaler.htm).
- It authenticates as the node it runs on (instance principal, the add-on's default): the nodes need a
  dynamic group and these grants, the statements oracle-terraform-modules/terraform-oci-oke gives its
  autoscaler (modules/iam/group-autoscaling.tf @25ef9a0 `autoscaler_templates`). The stack exports them
  (`clusterAutoscalerPolicyStatements`) for a tenancy administrator, as it does the RDMA grants.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

ADDON_NAME = "ClusterAutoscaler"
POLICY_TEMPLATES = (
    "Allow dynamic-group {group} to manage cluster-node-pools in compartment id {compartment}",
    "Allow dynamic-group {group} to manage compute-management-family in compartment id {compartment}",
    "Allow dynamic-group {group} to manage instance-family in compartment id {compartment}",
    "Allow dynamic-group {group} to manage volume-family in compartment id {compartment}",
    "Allow dynamic-group {group} to use subnets in compartment id {compartment}",
    "Allow dynamic-group {group} to read virtual-network-family in compartment id {compartment}",
    "Allow dynamic-group {group} to use vnics in compartment id {compartment}",
    "Allow dynamic-group {group} to inspect compartments in compartment id {compartment}",
)


@dataclass(frozen=True)
class PoolBounds:
    pool_id: pulumi.Input[str]
    min_nodes: int
    max_nodes: int


def nodes_value(bounds: list[tuple[int, int, str]]) -> str:
    """The add-on's `nodes` argument: `min:max:poolId`, comma-separated."""
    return ",".join(f"{lo}:{hi}:{pool}" for lo, hi, pool in bounds)


def policy_statements(group: str, compartment_id: str) -> list[str]:
    return [t.format(group=group, compartment=compartment_id) for t in POLICY_TEMPLATES]


@dataclass(frozen=True)
class OkeClusterAutoscalerArgs:
    cluster_id: pulumi.Input[str]
    pools: list[PoolBounds]
    version: str | None = None
    """Pinned add-on version; None lets Oracle keep it updated."""


class OkeClusterAutoscaler(pulumi.ComponentResource):
    def __init__(self, name: str, args: OkeClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:OkeClusterAutoscaler", name, None, opts)
        nodes = pulumi.Output.all(*[p.pool_id for p in args.pools]).apply(
            lambda ids: nodes_value([(p.min_nodes, p.max_nodes, i) for p, i in zip(args.pools, ids, strict=True)])
        )
        oci.containerengine.Addon(
            f"{name}-addon",
            cluster_id=args.cluster_id,
            addon_name=ADDON_NAME,
            version=args.version,
            configurations=[oci.containerengine.AddonConfigurationArgs(key="nodes", value=nodes)],
            override_existing=True,
            remove_addon_resources_on_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
