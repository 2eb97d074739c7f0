"""RDMA GPU workers for OKE: the workers component (workers.py) and its parts, one file each: IAM
(iam.py), self-managed nodes on a cluster network (cluster_network.py), a managed pool in a compute
cluster (compute_cluster.py). Their first-boot script is components/oke/user_data.py."""

from components.oke.rdma.args import CLUSTER_NETWORK_LABEL, OkeRdmaWorkersArgs
from components.oke.rdma.iam import RdmaIam, RdmaIamArgs, RdmaIamSettings, RdmaMode, iam_statements
from components.oke.rdma.workers import OkeRdmaWorkers

__all__ = [
    "CLUSTER_NETWORK_LABEL",
    "OkeRdmaWorkers",
    "OkeRdmaWorkersArgs",
    "RdmaIam",
    "RdmaIamArgs",
    "RdmaIamSettings",
    "RdmaMode",
    "iam_statements",
]
