"""DigitalOcean Kubernetes: cluster (with its VPC), GPU node pool, Managed NFS share."""

from components.doks.cluster import DoksCluster, DoksClusterArgs, NodePoolSpec
from components.doks.gpu_node_pool import DoksGpuNodePool, DoksGpuNodePoolArgs
from components.doks.nfs_share import DoksNfsShare, DoksNfsShareArgs

__all__ = [
    "DoksCluster",
    "DoksClusterArgs",
    "DoksGpuNodePool",
    "DoksGpuNodePoolArgs",
    "DoksNfsShare",
    "DoksNfsShareArgs",
    "NodePoolSpec",
]
