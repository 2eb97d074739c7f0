"""The `ray` section: the Ray cluster vLLM runs on across nodes (platform oke-rdma; optional on existing,
where it makes the deployment multi-node)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks import catalog
from stacks.config.base import Section


class RayConfig(Section):
    pipeline_parallel_size: int | None = Field(
        None,
        ge=1,
        le=64,
        description="`--pipeline-parallel-size`; the model's tensorParallelSize x this must equal all GPUs of all nodes. "
        "Default: the node count (vLLM's guidance: TP = GPUs per node, PP = nodes).",
    )
    worker_replicas: int | None = Field(
        None, ge=0, le=63, description="Ray worker pods; must be nodes - 1 (the head is a GPU node too). Default: that."
    )
    ray_version: str | None = Field(
        None,
        pattern=r"^\d+\.\d+\.\d+$",
        description="RayCluster `rayVersion`: the Ray version inside the model's image "
        "(`python3 -c 'import ray; print(ray.__version__)'`). Default: unset.",
    )
    install_operator: bool = Field(
        True,
        description=f"Install the KubeRay operator (chart {catalog.KUBERAY_CHART['chart']} "
        f"{catalog.KUBERAY_CHART['version']}); false: it is already installed. Default: true.",
    )
    cpu: str = Field(
        "64",
        pattern=r"^\d+(\.\d+)?m?$",
        description="CPU request per Ray pod (vllm-project/production-stack PR #789, "
        "deployment_on_cloud/oci/rdma/README.md: 64). Default: 64.",
    )
    memory: str = Field(
        "512Gi",
        pattern=r"^\d+(Ki|Mi|Gi|Ti)$",
        description="Memory request and limit per Ray pod (production-stack PR #789: 512Gi). Default: 512Gi.",
    )
    nccl_debug: Literal["VERSION", "WARN", "INFO", "TRACE"] = Field(
        "WARN", description="NCCL_DEBUG; INFO shows which transport (NET/IB) NCCL picked. Default: WARN."
    )
    privileged: bool = Field(
        True,
        description="Run RDMA pods privileged (oci-hpc-oke does; /dev/infiniband from the host needs it without "
        "an RDMA device plugin). Default: true.",
    )
    dashboard_host: Literal["127.0.0.1", "0.0.0.0"] = Field(
        "127.0.0.1",
        description="Where the Ray dashboard binds on the head. Its job API runs arbitrary code: loopback "
        "(reach it with `kubectl port-forward`) unless you open it on purpose. Default: 127.0.0.1.",
    )
    startup_timeout_seconds: int = Field(
        3600,
        ge=300,
        le=14400,
        description="How long the head may take for all workers to join and the weights to load before its "
        "startup probe restarts it. Default: 3600.",
    )

    def pipeline_parallel(self, nodes: int) -> int:
        return self.pipeline_parallel_size if self.pipeline_parallel_size is not None else nodes
