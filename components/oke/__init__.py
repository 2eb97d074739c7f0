"""Oracle Kubernetes Engine: network, cluster, node pools, GPU enablement, storage classes, File Storage.

The network, cluster and node pool components are general: any OKE stack (single-node GPU pools,
RDMA pools) builds on them.
"""

from components.conventions import GPU_TAINT_KEY
from components.oke.cluster import OkeCluster, OkeClusterArgs
from components.oke.file_storage import OciFileStorage, OciFileStorageArgs
from components.oke.gpu_enablement import OkeGpuEnablement, OkeGpuEnablementArgs
from components.oke.load_balancer import service_annotations
from components.oke.network import CniType, OkeNetwork, OkeNetworkArgs, OkeSubnetCidrs
from components.oke.node_pool import NodeTaint, OkeNodePool, OkeNodePoolArgs, cloud_init, pick_image
from components.oke.placement import ad_by_number, availability_domain, short_name
from components.oke.storage import OciStorageClasses, OciStorageClassesArgs

__all__ = [
    "GPU_TAINT_KEY",
    "CniType",
    "NodeTaint",
    "OciFileStorage",
    "OciFileStorageArgs",
    "OciStorageClasses",
    "OciStorageClassesArgs",
    "OkeCluster",
    "OkeClusterArgs",
    "OkeGpuEnablement",
    "OkeGpuEnablementArgs",
    "OkeNetwork",
    "OkeNetworkArgs",
    "OkeNodePool",
    "OkeNodePoolArgs",
    "OkeSubnetCidrs",
    "ad_by_number",
    "availability_domain",
    "cloud_init",
    "pick_image",
    "service_annotations",
    "short_name",
]
