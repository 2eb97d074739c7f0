"""The RDMA workers' arguments, in their own module so the node-building modules and the component
import them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.conventions import GPU_TAINT_KEY
from components.oke.cluster import OkeCluster
from components.oke.network import OkeNetwork
from components.oke.rdma.iam import RdmaIamSettings, RdmaMode
from components.oke.user_data import NodeTaint

# The label the workload selects RDMA nodes on: its value names their cluster network (or compute cluster).
CLUSTER_NETWORK_LABEL = "cluster-network"


@dataclass(frozen=True)
class OkeRdmaWorkersArgs:
    mode: RdmaMode
    cluster: OkeCluster
    """Nodes join it (its version, private endpoint and CA) in its compartment."""
    network: OkeNetwork
    """Nodes go in its worker subnet and worker NSG; with VCN-native pods, pods in its pod subnet and NSG."""
    shape: str
    shape_has_rdma: bool
    """From the shape catalog: a shape without RDMA NICs is refused."""
    node_count: int
    image_id: pulumi.Input[str]
    """An RDMA-capable GPU image (OFED + GPU driver; oci-hpc-oke publishes them) that can join OKE."""
    availability_domain: int
    """AD number (1-3): a cluster network and a compute cluster each live in one AD."""
    cluster_network_name: str
    """Display name of the cluster network / compute cluster, and the value of the `cluster-network` label."""
    extra_nsg_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """NSGs the nodes join besides the workers' one (e.g. the network's host-ports NSG)."""
    boot_volume_gb: int = 512
    boot_volume_vpus_per_gb: int = 10
    agent_plugins: dict[str, str] = field(default_factory=dict)
    """Oracle Cloud Agent plugin name -> ENABLED/DISABLED (cluster network mode; managed node pools have no
    agent configuration in the API)."""
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[NodeTaint] = field(default_factory=lambda: [NodeTaint(GPU_TAINT_KEY)])
    ssh_public_key: str | None = None
    max_pods_per_node: int = 110
    """VCN-native pods only."""
    iam: RdmaIamSettings | None = None
    """None: no IAM here at all (statements still in `policy_statements`)."""
    freeform_tags: dict[str, str] = field(default_factory=dict)
