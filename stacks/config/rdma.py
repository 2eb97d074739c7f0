"""Multi-node serving on OKE (`platform: oke-rdma`): its `rdma` section (RDMA GPU workers) and its variant
of the stack config, which also reads `oke` (network, cluster, system pool), `ray` (stacks/config/ray.py)
and an S3 model store (stacks/config/model_store.py)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from stacks import catalog
from stacks.capacity import GpuPlan
from stacks.config.base import DnsLabel, ImageOcid, Section, TenancyOcid, check_ocid_region
from stacks.config.common import StackBase
from stacks.config.model_store import S3ModelStoreConfig
from stacks.config.models import ModelEntry
from stacks.config.oke import AdNumber, OkeConfig, SshPublicKey, check_ocir
from stacks.config.pools import DEFAULT_POOL
from stacks.config.ray import RayConfig
from stacks.placement import Pool

# The committed stack file's RDMA image is a placeholder too (stacks/config/base.py).
PLACEHOLDER_IMAGE = "ocid1.image.oc1.iad.aaaaaaaareplacewithyourrdmagpuimageocid000000000000000000000000"


class RdmaIamConfig(Section):
    create: bool = Field(
        True,
        description="Create the dynamic group and policy the RDMA nodes need (CLUSTER_JOIN for self-managed "
        "nodes, COMPUTE_CLUSTER_LAUNCH_INSTANCE for node pools). false: an administrator creates them; the "
        "statements are the stack output `rdmaPolicyStatements`. Default: true.",
    )
    tenancy_id: TenancyOcid | None = Field(
        None, description="Tenancy OCID: where dynamic groups live. Required to create IAM in clusterNetwork mode."
    )
    home_region: str | None = Field(
        None, description="The tenancy's home region, where IAM is changed. Default: oke.region."
    )
    dynamic_group_name: DnsLabel | None = Field(
        None, description="Dynamic group of the RDMA instances. Default: <name>-rdma-nodes."
    )


class RdmaConfig(Section):
    mode: Literal["clusterNetwork", "computeCluster"] = Field(
        "clusterNetwork",
        description="clusterNetwork: self-managed nodes in an OCI cluster network (instance configuration with "
        "the RDMA agent plugins). computeCluster: an OKE managed node pool in a compute cluster. "
        "Default: clusterNetwork.",
    )
    shape: str = Field("BM.GPU.H100.8", description="Bare-metal GPU shape with RDMA. Default: BM.GPU.H100.8.")
    node_count: int = Field(2, ge=2, le=64, description="GPU nodes, one Ray pod each. Default: 2.")
    image_id: ImageOcid = Field(
        description="RDMA-capable GPU image that can join OKE (OFED + GPU driver, e.g. oci-hpc-oke's "
        "Canonical-Ubuntu-22.04-...-OCA-OFED-...-GPU-... image imported into your tenancy). Required."
    )
    image_os: Literal["ubuntu", "oracleLinux"] = Field(
        "ubuntu",
        description="Operating system of rdma.imageId, which decides how GPUs are enabled. ubuntu: oci-hpc-oke's "
        "Ubuntu GPU images (driver preinstalled): the OKE NvidiaGpuOperator add-on with its driver off and "
        "container toolkit on. oracleLinux: Oracle's GPU images (driver and runtime preinstalled): the "
        "NvidiaGpuPlugin add-on. Checked against the image. Default: ubuntu.",
    )
    gpu_operator_version: str | None = Field(
        "v25.10.1",
        pattern=r"^v?\d+(\.\d+)*(-[\w.]+)?$",
        description="NvidiaGpuOperator add-on version (imageOs ubuntu); null lets Oracle update it. Default: "
        "v25.10.1 (oci-hpc-oke's pinned version).",
    )
    availability_domain: AdNumber = Field(
        1, description="AD number (1-3) of the cluster network / compute cluster (one AD). Default: 1."
    )
    boot_volume_gb: int = Field(
        catalog.RDMA_BOOT_VOLUME_GB,
        ge=100,
        le=32768,
        description=f"Boot volume in GB. Default: {catalog.RDMA_BOOT_VOLUME_GB} (oci-hpc-oke's default).",
    )
    cluster_network_name: DnsLabel | None = Field(
        None,
        description="Name of the cluster network / compute cluster and value of the `cluster-network` node "
        "label pods select. Default: <name>-rdma.",
    )
    ssh_public_key: SshPublicKey | None = Field(None, description="SSH public key for the nodes. Default: none.")
    iam: RdmaIamConfig = Field(default_factory=RdmaIamConfig)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _rdma_shape(self) -> RdmaConfig:
        shape = catalog.OCI_GPU_SHAPES.get(self.shape)
        rdma = sorted(n for n, s in catalog.OCI_GPU_SHAPES.items() if s.rdma and n in catalog.NCCL_ENV)
        if shape is None and (same := catalog.case_match(self.shape, catalog.OCI_GPU_SHAPES)):
            raise ValueError(
                f"shape: {self.shape!r} is not a shape name (they are case-sensitive); did you mean {same!r}?"
            )
        if shape is None or not shape.rdma:
            raise ValueError(f"shape: {self.shape!r} has no RDMA cluster networking; use one of {', '.join(rdma)}")
        if self.shape not in catalog.NCCL_ENV:
            raise ValueError(
                f"shape: no NCCL parameters for {self.shape} in stacks/catalog/nccl.yaml; use one of {', '.join(rdma)}"
            )
        return self

    def placement_pools(self) -> list[Pool]:
        """The cluster network is the stack's one GPU pool."""
        gpus = catalog.OCI_GPU_SHAPES[self.shape].gpus_per_node
        return [Pool(DEFAULT_POOL, "rdma", self.shape, gpus, self.node_count, nodes_key="rdma.nodeCount")]


S3_KEYS_INSTEAD = ", or let the stack create a customer secret key with modelStore.keyUserId (OCI Object Storage only)"


class OkeRdmaStack(StackBase):
    """OKE (its `oke` section: network, cluster, system pool) with multi-node RDMA GPU workers, one vLLM on a
    Ray cluster over them, and the weights in an S3-compatible bucket."""

    SECTION: ClassVar[str] = "rdma"

    platform: Literal["oke-rdma"] = Field(description="OKE plus multi-node RDMA GPU workers.")
    oke: OkeConfig = Field(description="Oracle Cloud OKE settings: network, cluster and system pool.")
    rdma: RdmaConfig = Field(description="RDMA GPU workers on OKE (platform oke-rdma).")
    ray: RayConfig = Field(description="The Ray cluster vLLM runs on across the RDMA nodes.")
    model_store: S3ModelStoreConfig = Field(
        description="Where the weights live: an S3-compatible bucket (kind s3), by default an OCI Object Storage "
        "bucket the stack creates."
    )

    @property
    def network_name(self) -> str:
        return self.rdma.cluster_network_name or f"{self.name}-rdma"

    def weights_store(self) -> S3ModelStoreConfig:
        return self.model_store

    def ray_cluster(self) -> RayConfig:
        return self.ray

    def placement_pools(self) -> list[Pool]:
        return self.rdma.placement_pools()

    def gpu_plan(self, model: ModelEntry) -> GpuPlan:
        r = self.rdma
        return GpuPlan.from_shape(
            catalog.OCI_GPU_SHAPES[r.shape], r.node_count, model.tensor_parallel_size,
            self.ray.pipeline_parallel(r.node_count),
            shape_key="rdma.shape", nodes_key="rdma.nodeCount", pipeline_key="ray.pipelineParallelSize",
            other_shapes=tuple(s for s in catalog.OCI_GPU_SHAPES.values() if s.rdma and s.name in catalog.NCCL_ENV),
        )  # fmt: skip

    def check_sections(self) -> None:
        r, ray, oke = self.rdma, self.ray, self.oke
        gpus = catalog.OCI_GPU_SHAPES[r.shape].gpus_per_node
        if len(self.models) > 1:
            raise ValueError(
                "models: platform oke-rdma runs one model over its cluster network (one vLLM on Ray spans every "
                "node); list one entry"
            )
        model = self.models[0]
        tp, pp = model.tensor_parallel_size, ray.pipeline_parallel(r.node_count)
        if tp > gpus:
            raise ValueError(f"models[0].tensorParallelSize: {tp} is more than the {gpus} GPUs of one {r.shape} node")
        if tp * pp != gpus * r.node_count:
            raise ValueError(
                f"ray.pipelineParallelSize: tensor parallel {tp} x pipeline parallel {pp} = {tp * pp} GPUs, but "
                f"rdma.nodeCount {r.node_count} x {gpus} GPUs per {r.shape} = {gpus * r.node_count}; they must be equal"
            )
        if ray.worker_replicas is not None and ray.worker_replicas != r.node_count - 1:
            raise ValueError(
                f"ray.workerReplicas: {ray.worker_replicas} Ray workers + 1 head must equal rdma.nodeCount "
                f"{r.node_count} (one Ray pod per node); use {r.node_count - 1}"
            )
        if model.replicas != 1:
            raise ValueError(
                "models[0].replicas: a multi-node deployment is one vLLM replica across the Ray cluster; use 1"
            )
        if self.endpoint.kind == "gateway":
            raise ValueError(
                "endpoint.kind: the oke-rdma stack exposes vLLM through an OCI load balancer; use loadBalancer or clusterIP"
            )
        if "gpu_pool" in oke.model_fields_set or oke.gpu_pools:
            raise ValueError("oke.gpuPool: platform oke-rdma runs its GPUs as rdma workers; remove oke.gpuPool")
        check_ocir(oke, self.models, self.secrets)
        if r.iam.create and r.mode == "clusterNetwork" and r.iam.tenancy_id is None:
            raise ValueError(
                "rdma.iam.tenancyId: creating the dynamic group for self-managed nodes needs the tenancy OCID"
            )
        if r.iam.home_region is not None and r.iam.home_region not in catalog.OCI_REGION_KEYS:
            raise ValueError(f"rdma.iam.homeRegion: unknown OCI region {r.iam.home_region!r}")
        check_ocid_region("rdma.imageId", r.image_id, oke.region, catalog.OCI_REGION_KEYS[oke.region])
        self._check_store_keys()

    def _check_store_keys(self) -> None:
        store = self.model_store
        byo = store.endpoint is not None
        if byo or store.key_user_id is None:
            self.secrets.s3_keys(S3_KEYS_INSTEAD)
        if byo and store.key_user_id is not None:
            raise ValueError(
                "modelStore.keyUserId: only for the OCI bucket this stack creates, not with modelStore.endpoint"
            )
