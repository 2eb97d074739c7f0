"""RDMA GPU workers for an OKE cluster: bare-metal GPU nodes on OCI's RDMA cluster network, in one of
two modes (cluster_network.py: self-managed instances; compute_cluster.py: a managed node pool in a
compute cluster), started by user_data.bootstrap_script, plus the IAM they need (iam.py). IAM resources
live in the home region: pass a provider for it (`iam.provider`)."""

from __future__ import annotations

import pulumi

from components.oke.placement import availability_domain
from components.oke.rdma.args import CLUSTER_NETWORK_LABEL, OkeRdmaWorkersArgs
from components.oke.rdma.cluster_network import cluster_network_nodes
from components.oke.rdma.compute_cluster import compute_cluster_nodes
from components.oke.rdma.iam import RdmaIam, RdmaIamArgs, RdmaMode, iam_statements
from components.oke.user_data import bootstrap_script, kubelet_flags


def check_workers(args: OkeRdmaWorkersArgs) -> None:
    if not args.shape_has_rdma:
        raise ValueError(f"OkeRdmaWorkersArgs: {args.shape} has no RDMA cluster networking")
    if args.node_count < 1:
        raise ValueError("OkeRdmaWorkersArgs: node_count must be at least 1")


class OkeRdmaWorkers(pulumi.ComponentResource):
    """Outputs: `labels` and `taint_keys` (what the workload selects and tolerates), the cluster
    network or compute cluster id, and the IAM `policy_statements`."""

    labels: dict[str, str]
    taint_keys: list[str]
    mode: RdmaMode
    cluster_network_id: pulumi.Output[str] | None
    instance_pool_id: pulumi.Output[str] | None
    compute_cluster_id: pulumi.Output[str] | None
    node_pool_id: pulumi.Output[str] | None
    policy_statements: pulumi.Output[list[str]]
    dynamic_group_name: str | None
    ready: list[pulumi.Resource]
    """What the RDMA pods must wait for."""

    def __init__(self, name: str, args: OkeRdmaWorkersArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:RdmaWorkers", name, None, opts)
        check_workers(args)
        cluster = args.cluster
        labels = {**args.labels, CLUSTER_NETWORK_LABEL: args.cluster_network_name}

        dg_name = args.iam.dynamic_group_name if args.iam is not None else f"{name}-rdma-nodes"
        statements = pulumi.Output.all(cluster.compartment_id, cluster.cluster_id).apply(
            lambda v: iam_statements(args.mode, dg_name, v[0], v[1])
        )
        self.dynamic_group_name = dg_name if args.mode == "clusterNetwork" else None
        # IAM first: a node that boots before its policy exists never joins. Same name as this component,
        # so its resources keep their names (see RdmaIam).
        iam_ready: list[pulumi.Resource] = []
        if args.iam is not None and args.iam.create:
            iam = RdmaIam(
                name,
                RdmaIamArgs(
                    settings=args.iam,
                    mode=args.mode,
                    compartment_id=cluster.compartment_id,
                    statements=statements,
                    nodes_name=args.cluster_network_name,
                    freeform_tags=args.freeform_tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            iam_ready = iam.ready

        ad_name = availability_domain(cluster.compartment_id, args.availability_domain, parent=self)
        # One first-boot script for both modes: it also carries the endpoint and CA a self-managed node needs.
        flags = kubelet_flags(labels, args.taints)
        script = pulumi.Output.all(cluster.private_endpoint_ip, cluster.ca_certificate).apply(
            lambda v: bootstrap_script(cluster.kubernetes_version, flags, v[0], v[1])
        )
        self.cluster_network_id = self.instance_pool_id = self.compute_cluster_id = self.node_pool_id = None
        if args.mode == "clusterNetwork":
            network = cluster_network_nodes(
                name, args, parent=self, ad_name=ad_name, labels=labels, script=script, after=iam_ready
            )
            self.cluster_network_id = network.id
            self.instance_pool_id = network.instance_pools.apply(lambda pools: (pools[0].id or "") if pools else "")
            self.ready = [network]
        else:
            compute_cluster, pool = compute_cluster_nodes(
                name, args, parent=self, ad_name=ad_name, labels=labels, script=script, after=iam_ready
            )
            self.compute_cluster_id = compute_cluster.id
            self.node_pool_id = pool.pool_id
            self.ready = [pool]

        self.labels = labels
        self.taint_keys = [t.key for t in args.taints]
        self.mode = args.mode
        self.policy_statements = statements
        self.register_outputs(
            {
                "clusterNetworkId": self.cluster_network_id,
                "instancePoolId": self.instance_pool_id,
                "computeClusterId": self.compute_cluster_id,
                "nodePoolId": self.node_pool_id,
                "policyStatements": self.policy_statements,
            }
        )
