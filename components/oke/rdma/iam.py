"""The IAM RDMA GPU nodes need, created in the home region, or returned as statements for an
administrator when `create` is false.

- Self-managed nodes (cluster network) need a dynamic group and `Allow dynamic-group <dg> to
  {CLUSTER_JOIN} in compartment ... where target.cluster.id = '<cluster OCID>'` (scoped to this cluster;
  Oracle, "Creating a Dynamic Group and a Policy for Self-Managed Nodes",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengdynamicgrouppolicyforselfmanagednodes.htm).
  Without it nodes never join ("Forbidden. node not authorized", oracle-quickstart/oci-hpc-oke#6).
  Dynamic group matching rule and statement as oci-hpc-oke terraform/iam.tf @6bac725c writes them.
- A managed node pool in a compute cluster needs `Allow any-user to {COMPUTE_CLUSTER_LAUNCH_INSTANCE} in
  compartment id <c> where request.principal.type = 'nodepool'` (oci-hpc-oke terraform/iam.tf
  `services_policies`; Oracle's core policy reference: the `use compute-clusters` verb carries
  COMPUTE_CLUSTER_LAUNCH_INSTANCE, needed by LaunchInstance into a compute cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_oci as oci

RdmaMode = Literal["clusterNetwork", "computeCluster"]


def iam_statements(mode: RdmaMode, dynamic_group_name: str, compartment_id: str, cluster_id: str) -> list[str]:
    """The policy statements RDMA nodes need. CLUSTER_JOIN is scoped to this one cluster (least privilege:
    the dynamic group matches every instance in the compartment): Oracle's self-managed node policy
    condition `where target.cluster.id = '<cluster OCID>'`, as terraform-oci-oke modules/iam/group-workers.tf
    (`cluster_join_where_clause`) and its examples/rms/oke-workers-only/schema.yaml write it."""
    if mode == "clusterNetwork":
        return [
            f"Allow dynamic-group {dynamic_group_name} to {{CLUSTER_JOIN}} in compartment id {compartment_id} "
            f"where target.cluster.id = '{cluster_id}'"
        ]
    return [
        f"Allow any-user to {{COMPUTE_CLUSTER_LAUNCH_INSTANCE}} in compartment id {compartment_id} "
        "where request.principal.type = 'nodepool'"
    ]


@dataclass(frozen=True)
class RdmaIamSettings:
    """What the stack decides about the RDMA nodes' IAM."""

    create: bool
    """Create the dynamic group and policy; False: an administrator creates the statements (an output)."""
    tenancy_id: pulumi.Input[str]
    """Dynamic groups live in the tenancy (root compartment)."""
    dynamic_group_name: str
    provider: pulumi.ProviderResource | None = None
    """A provider for the home region, where IAM changes are made; None: the default provider."""


@dataclass(frozen=True)
class RdmaIamArgs:
    settings: RdmaIamSettings
    mode: RdmaMode
    compartment_id: pulumi.Input[str]
    statements: pulumi.Input[list[str]]
    """iam_statements for this cluster."""
    nodes_name: str
    """The cluster network's (or compute cluster's) name, for the dynamic group's description."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class RdmaIam(pulumi.ComponentResource):
    """The dynamic group (self-managed nodes only) and the policy; `ready` is what the nodes wait for (a
    node that boots before its policy exists never joins)."""

    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: RdmaIamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:RdmaIam", name, None, opts)
        settings = args.settings
        # These two were children of this component's parent (the RDMA workers) before it existed: the
        # alias keeps their identity, so an existing stack moves them here instead of replacing them.
        moved = [pulumi.Alias(parent=opts.parent)] if opts is not None and opts.parent is not None else []
        self.ready = []
        if args.mode == "clusterNetwork":
            self.ready.append(
                oci.identity.DynamicGroup(
                    f"{name}-dynamic-group",
                    compartment_id=settings.tenancy_id,
                    name=settings.dynamic_group_name,
                    description=f"RDMA GPU instances of {args.nodes_name} (self-managed OKE nodes)",
                    matching_rule=pulumi.Output.concat("ANY {instance.compartment.id = '", args.compartment_id, "'}"),
                    freeform_tags=args.freeform_tags,
                    opts=pulumi.ResourceOptions(parent=self, provider=settings.provider, aliases=moved),
                )
            )
        self.ready.append(
            oci.identity.Policy(
                f"{name}-policy",
                compartment_id=args.compartment_id,
                name=f"{name}-rdma-nodes",
                description=(
                    "Self-managed RDMA nodes may join the OKE cluster"
                    if args.mode == "clusterNetwork"
                    else "OKE node pools may launch instances into compute clusters"
                ),
                statements=args.statements,
                freeform_tags=args.freeform_tags,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=settings.provider, depends_on=self.ready[:], aliases=moved
                ),
            )
        )
        self.register_outputs({})
