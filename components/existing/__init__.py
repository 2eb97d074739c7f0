"""A Kubernetes cluster someone else runs (OpenShift, RHOAI, on-prem): no cloud resources, only the
provider the workloads use and, optionally, the NVIDIA GPU Operator."""

from components.existing.cluster import ExistingCluster, ExistingClusterArgs
from components.existing.gpu_operator import NvidiaGpuOperator, NvidiaGpuOperatorArgs

__all__ = ["ExistingCluster", "ExistingClusterArgs", "NvidiaGpuOperator", "NvidiaGpuOperatorArgs"]
