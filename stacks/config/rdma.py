"""Config sections of multi-node serving: `rdma` (RDMA GPU workers on OKE, platform oke-rdma, which
also reads `oke` for the network, cluster and system pool), `ray` (the Ray cluster vLLM runs on) and
the S3 model store (`modelStore.kind: s3`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from stacks import catalog
from stacks.config.base import CompartmentOcid, DnsLabel, ImageOcid, Section, check_ocid_region, ocid_validator
from stacks.config.oke import AdNumber, SshPublicKey
from stacks.config.pools import DEFAULT_POOL
from stacks.placement import Pool

if TYPE_CHECKING:
    from stacks.capacity import GpuPlan
    from stacks.config.models import ModelEntry
    from stacks.config.stack import StackConfig

UserOcid = Annotated[str, AfterValidator(ocid_validator("user"))]
TenancyOcid = Annotated[str, AfterValidator(ocid_validator("tenancy"))]
# The committed stack file carries an obviously fake, format-valid tenancy: every user sets their own.
PLACEHOLDER_TENANCY = "ocid1.tenancy.oc1..aaaaaaaareplacewithyourtenancyocid0000000000000000000000000000"
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

    def network_name(self, root: StackConfig) -> str:
        return self.cluster_network_name or f"{root.name}-rdma"

    def check_fit(self, root: StackConfig) -> None:
        assert root.oke is not None and root.ray is not None  # checked by StackConfig for this platform
        gpus = catalog.OCI_GPU_SHAPES[self.shape].gpus_per_node
        ray = root.ray
        if len(root.models) > 1:
            raise ValueError(
                "models: platform oke-rdma runs one model over its cluster network (one vLLM on Ray spans every "
                "node); list one entry"
            )
        model = root.models[0]
        tp, pp = model.tensor_parallel_size, ray.pipeline_parallel(self.node_count)
        if tp > gpus:
            raise ValueError(
                f"models[0].tensorParallelSize: {tp} is more than the {gpus} GPUs of one {self.shape} node"
            )
        if tp * pp != gpus * self.node_count:
            raise ValueError(
                f"ray.pipelineParallelSize: tensor parallel {tp} x pipeline parallel {pp} = {tp * pp} GPUs, but "
                f"rdma.nodeCount {self.node_count} x {gpus} GPUs per {self.shape} = {gpus * self.node_count}; they must be equal"
            )
        if ray.worker_replicas is not None and ray.worker_replicas != self.node_count - 1:
            raise ValueError(
                f"ray.workerReplicas: {ray.worker_replicas} Ray workers + 1 head must equal rdma.nodeCount "
                f"{self.node_count} (one Ray pod per node); use {self.node_count - 1}"
            )
        if model.replicas != 1:
            raise ValueError(
                "models[0].replicas: a multi-node deployment is one vLLM replica across the Ray cluster; use 1"
            )
        if root.endpoint.kind == "gateway":
            raise ValueError(
                "endpoint.kind: the oke-rdma stack exposes vLLM through an OCI load balancer; use loadBalancer or clusterIP"
            )
        if "gpu_pool" in root.oke.model_fields_set or root.oke.gpu_pools:
            raise ValueError("oke.gpuPool: platform oke-rdma runs its GPUs as rdma workers; remove oke.gpuPool")
        root.oke.check_ocir(root)
        if self.iam.create and self.mode == "clusterNetwork" and self.iam.tenancy_id is None:
            raise ValueError(
                "rdma.iam.tenancyId: creating the dynamic group for self-managed nodes needs the tenancy OCID"
            )
        if self.iam.home_region is not None and self.iam.home_region not in catalog.OCI_REGION_KEYS:
            raise ValueError(f"rdma.iam.homeRegion: unknown OCI region {self.iam.home_region!r}")
        check_ocid_region("rdma.imageId", self.image_id, root.oke.region, catalog.OCI_REGION_KEYS[root.oke.region])
        store = root.model_store
        if store.kind == "s3":
            byo = store.endpoint is not None
            keys = (root.secrets.s3_access_key_id, root.secrets.s3_secret_access_key)
            if (byo or store.key_user_id is None) and None in keys:
                raise ValueError(
                    "secrets.s3AccessKeyId: set secrets.s3AccessKeyId and secrets.s3SecretAccessKey, or let the stack "
                    "create a customer secret key with modelStore.keyUserId (OCI Object Storage only)"
                )
            if byo and store.key_user_id is not None:
                raise ValueError(
                    "modelStore.keyUserId: only for the OCI bucket this stack creates, not with modelStore.endpoint"
                )

    def placement_pools(self, root: StackConfig) -> list[Pool]:
        """The cluster network is the stack's one GPU pool."""
        gpus = catalog.OCI_GPU_SHAPES[self.shape].gpus_per_node
        return [Pool(DEFAULT_POOL, "rdma", self.shape, gpus, self.node_count, nodes_key="rdma.nodeCount")]

    def gpu_plan(self, root: StackConfig, model: ModelEntry) -> GpuPlan:
        from stacks.capacity import GpuPlan

        assert root.ray is not None
        return GpuPlan.from_shape(
            catalog.OCI_GPU_SHAPES[self.shape], self.node_count, model.tensor_parallel_size,
            root.ray.pipeline_parallel(self.node_count),
            shape_key="rdma.shape", nodes_key="rdma.nodeCount", pipeline_key="ray.pipelineParallelSize",
            other_shapes=tuple(s for s in catalog.OCI_GPU_SHAPES.values() if s.rdma and s.name in catalog.NCCL_ENV),
        )  # fmt: skip


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


class S3ModelStoreConfig(Section):
    kind: Literal["s3"] = "s3"
    endpoint: str | None = Field(
        None,
        pattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?/?$",
        description="S3-compatible endpoint of an existing bucket (MinIO, DigitalOcean Spaces, ...), with keys in "
        "secrets.s3AccessKeyId / secrets.s3SecretAccessKey. Default: an OCI Object Storage bucket this stack "
        "creates (https://<namespace>.compat.objectstorage.<region>.oraclecloud.com).",
    )
    region: str | None = Field(
        None, pattern=r"^[a-z0-9-]+$", description="SigV4 signing region. Default: oke.region (us-east-1 for MinIO)."
    )
    bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$",
        description="Bucket name. Default: <name>-models.",
    )
    create_bucket: bool = Field(
        False, description="With endpoint: create the bucket when missing (the upload Job does). Default: false."
    )
    versioning: Literal["Enabled", "Disabled", "Suspended"] = Field(
        "Disabled",
        description="OCI bucket object versioning, as the API takes it: Enabled or Disabled when the bucket is "
        'created; once it was Enabled it can only be Suspended, never Disabled again (Oracle, "Managing Object '
        'Versioning"). Default: Disabled.',
    )
    key_user_id: UserOcid | None = Field(
        None,
        description="OCI user OCID that gets a customer secret key (S3 access key pair) for the bucket. Default: "
        "none; then secrets.s3AccessKeyId and secrets.s3SecretAccessKey are required.",
    )
    namespace: str | None = Field(
        None,
        pattern=r"^[a-z0-9]+$",
        description="The tenancy's Object Storage namespace (`oci os ns get`). Default: looked up.",
    )
    compartment_id: CompartmentOcid | None = Field(
        None, description="Compartment of the OCI bucket. Default: oke.compartmentId."
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the OCI bucket (and the weights) when the stack is destroyed: OCI refuses to delete a "
        "bucket that still holds objects, so with false empty it before `pulumi destroy` (docs/oci-h100-rdma.md). "
        "Default: true.",
    )
    scratch_size_gb: int = Field(
        100,
        ge=10,
        le=32768,
        description="Node-local space for the files the staging Job has in flight (8 of the model's largest "
        "files; the model streams through, file by file). Default: 100.",
    )
    upload_timeout_minutes: int = Field(
        240, ge=10, le=1440, description="How long `pulumi up` waits for the upload Job. Default: 240."
    )
    streamer_concurrency: int | None = Field(
        None, ge=1, le=256, description="Run:ai streamer reader threads. Default: the streamer's."
    )
