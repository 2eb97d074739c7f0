"""Kubernetes workloads, the same on every cluster: namespace and credentials, model stores, vLLM, exposure."""

from components.workloads.claim_model_store import ClaimModelStore, ClaimModelStoreArgs
from components.workloads.gateway import GatewayEndpoint, GatewayEndpointArgs
from components.workloads.namespace import ServingNamespace, ServingNamespaceArgs
from components.workloads.nfs_model_store import NfsModelStore, NfsModelStoreArgs
from components.workloads.router import ModelRouter, ModelRouterArgs, RouterBackend
from components.workloads.types import (
    EntryPoint,
    GpuPlacement,
    ModelDownload,
    ModelSource,
    PodRuntime,
    ServerExposure,
)
from components.workloads.vllm import VllmServer, VllmServerArgs

__all__ = [
    "ClaimModelStore",
    "ClaimModelStoreArgs",
    "EntryPoint",
    "GatewayEndpoint",
    "GatewayEndpointArgs",
    "GpuPlacement",
    "ModelDownload",
    "ModelRouter",
    "ModelRouterArgs",
    "ModelSource",
    "NfsModelStore",
    "NfsModelStoreArgs",
    "PodRuntime",
    "RouterBackend",
    "ServerExposure",
    "ServingNamespace",
    "ServingNamespaceArgs",
    "VllmServer",
    "VllmServerArgs",
]
