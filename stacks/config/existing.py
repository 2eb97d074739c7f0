"""Platform `existing`: the same workloads on a Kubernetes cluster someone else runs (OpenShift on ESXi,
RHOAI, on-prem). No cloud resources; the provider comes from a kubeconfig. Its `existing` section and its
variant of the stack config."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from components.conventions import GPU_TAINT_KEY
from stacks import catalog
from stacks.capacity import GpuPlan
from stacks.catalog import GpuShape
from stacks.config.base import DnsLabel, Section
from stacks.config.common import StackBase
from stacks.config.kserve import KserveConfig, OpenShiftRouteConfig, check_kserve
from stacks.config.model_store import ModelStore, NfsModelStoreConfig, S3ModelStoreConfig
from stacks.config.models import ModelEntry
from stacks.config.pools import DEFAULT_POOL, named_pools, pool_named
from stacks.config.ray import RayConfig
from stacks.config.syntax import LabelKey, LabelMap
from stacks.placement import Pool


class ExistingGpuNodes(Section):
    """The GPU nodes vLLM may use, as the cluster labels them."""

    node_selector: LabelMap = Field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"},
        description="Labels of the GPU nodes (the GPU Operator's feature discovery sets nvidia.com/gpu.present; "
        "without it, label the nodes by hand). Default: nvidia.com/gpu.present=true.",
    )
    taint_keys: list[LabelKey] = Field(
        default_factory=lambda: [GPU_TAINT_KEY],
        description="Taints on the GPU nodes to tolerate (NoSchedule). Default: nvidia.com/gpu.",
    )
    count: int = Field(1, ge=1, le=256, description="GPU nodes vLLM may use. Default: 1.")
    gpus_per_node: int = Field(1, ge=1, le=16, description="GPUs on each of those nodes. Default: 1.")
    gpu_model: str = Field(
        "unknown", max_length=40, description="GPU model, for the plan summary (e.g. L4, A100). Default: unknown."
    )
    gpu_memory_gb: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="Memory of one GPU in GB; given, the capacity planner checks the fit. Default: not checked.",
    )


class ExistingNamedGpuPool(ExistingGpuNodes):
    """One of several kinds of GPU node, selected by its own labels (e.g. 1xL4 and 4xL4 nodes)."""

    name: DnsLabel = Field(description="The pool's name, which models pick in `pool`.")
    node_selector: LabelMap = Field(  # type: ignore[assignment]
        description="Labels that select this pool's GPU nodes (and no other pool's), e.g. "
        "node.kubernetes.io/instance-type: g6.12xlarge."
    )


class ExistingClusterConfig(Section):
    kubeconfig: Literal["ambient", "secret"] = Field(
        "ambient",
        description="Where the cluster credentials come from: the ambient kubeconfig ($KUBECONFIG or "
        "~/.kube/config) or `secrets.kubeconfig`. Default: ambient.",
    )
    context: str | None = Field(None, max_length=253, description="kubeconfig context. Default: the current one.")
    gpu_nodes: ExistingGpuNodes = Field(
        default_factory=ExistingGpuNodes,  # type: ignore[arg-type]
        description="The GPU nodes, when they are all alike (the pool named `gpu`).",
    )
    gpu_pools: list[ExistingNamedGpuPool] = Field(
        default_factory=list,
        max_length=8,
        description="Several kinds of GPU node, each selected by its own labels and named for models' `pool` "
        "(instead of gpuNodes). Default: gpuNodes alone.",
    )
    system_node_selector: LabelMap = Field(
        default_factory=dict, description="Labels of the nodes for the model download Job. Default: any node."
    )
    openshift: bool = Field(
        False,
        description="OpenShift: pods get their UID from the restricted SCC (no fixed runAsUser), no hostPath, "
        "no privileged pods. Default: false.",
    )
    install_gpu_operator: bool = Field(
        False,
        description=f"Install the NVIDIA GPU Operator (chart {catalog.GPU_OPERATOR_CHART['version']}); on OpenShift "
        "install NVIDIA's certified operator from OperatorHub instead. Default: false (assume present).",
    )
    gpu_operator_driver: bool = Field(
        True, description="With installGpuOperator: let the operator install the driver. Default: true."
    )
    nccl_socket_ifname: str = Field(
        "eth0",
        pattern=r"^[\^=]?[A-Za-z0-9_.,-]+$",
        description="NCCL_SOCKET_IFNAME for multi-node over TCP (no RDMA on this platform). Default: eth0.",
    )
    service_account: DnsLabel | None = Field(
        None,
        description="Service account for the vLLM pods (e.g. one bound to an SCC). Default: the namespace default.",
    )

    serving: Literal["deployments", "kserve"] = Field(
        "deployments",
        description="How vLLM runs: plain Deployments (`deployments`) or KServe InferenceServices as OpenShift AI "
        "serves models (`kserve`, see existing.kserve). Default: deployments.",
    )
    kserve: KserveConfig = Field(default_factory=KserveConfig)  # type: ignore[arg-type]
    route: OpenShiftRouteConfig = Field(default_factory=OpenShiftRouteConfig)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _no_operator_on_openshift(self) -> ExistingClusterConfig:
        if self.openshift and self.install_gpu_operator:
            raise ValueError(
                "installGpuOperator: on OpenShift install NVIDIA's certified GPU Operator from OperatorHub "
                "(the Helm chart is for other distributions)"
            )
        self.named_gpu_pools  # noqa: B018 (raises for both forms given, or a name twice)
        return self

    @property
    def named_gpu_pools(self) -> list[tuple[str, str, ExistingGpuNodes]]:
        try:
            return named_pools(self.gpu_nodes, "existing.gpuNodes", [(p.name, p) for p in self.gpu_pools], "existing.gpuPools",
                               "gpu_nodes" in self.model_fields_set)  # fmt: skip
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("existing.")) from None

    def gpu_nodes_of(self, pool: str | None) -> ExistingGpuNodes:
        """The nodes of the pool named `pool` (None: the only pool)."""
        pools = self.named_gpu_pools
        wanted = pool or DEFAULT_POOL
        return next((p for n, _, p in pools if n == wanted), pools[0][2])

    def shape(self, nodes: ExistingGpuNodes | None = None, key: str = "existing.gpuNodes") -> GpuShape:
        nodes = nodes or self.gpu_nodes
        return GpuShape(
            name=f"{nodes.gpus_per_node}x{nodes.gpu_model}",
            gpus_per_node=nodes.gpus_per_node,
            gpu_model=nodes.gpu_model,
            gpu_memory_gb=nodes.gpu_memory_gb or 0,
            source=f"stack config ({key})",
        )

    def placement_pools(self) -> list[Pool]:
        return [
            Pool(name, key, self.shape(nodes, key).name, nodes.gpus_per_node, nodes.count, nodes_key=f"{key}.count")
            for name, key, nodes in self.named_gpu_pools
        ]


class ExistingStack(StackBase):
    """A Kubernetes cluster someone else runs: no cloud resources, the provider from a kubeconfig."""

    SECTION: ClassVar[str] = "existing"

    platform: Literal["existing"] = Field(description="A Kubernetes cluster you already run.")
    existing: ExistingClusterConfig = Field(description="A Kubernetes cluster you already run (platform existing).")
    ray: RayConfig | None = Field(
        None,
        description="The Ray cluster vLLM runs on across nodes; given, the deployment is multi-node (one vLLM "
        "spans every GPU node). Default: none (single-node replicas).",
    )
    model_store: ModelStore = Field(
        default_factory=NfsModelStoreConfig,  # type: ignore[arg-type]
        discriminator="kind",
        description="Where the weights live: an NFS share that exists (kind nfs, with server and path), an "
        "S3-compatible bucket (kind s3, with endpoint) or a PersistentVolumeClaim that exists (kind existingClaim).",
    )

    def weights_store(self) -> ModelStore:
        return self.model_store

    def kserve_store(self) -> S3ModelStoreConfig:
        """The bucket KServe's storage initializer reads (check_kserve refuses any other store first)."""
        if not isinstance(self.model_store, S3ModelStoreConfig):
            raise ValueError("modelStore.kind: existing.serving kserve reads the weights from S3; use kind s3")
        return self.model_store

    def ray_cluster(self) -> RayConfig | None:
        return self.ray

    def named_gpu_pools(self) -> list[tuple[str, str, Any]]:
        return list(self.existing.named_gpu_pools)

    def placement_pools(self) -> list[Pool]:
        return self.existing.placement_pools()

    def not_autoscaled(self) -> str | None:
        if self.existing.serving == "kserve":
            return "not with existing.serving kserve (KServe scales its own predictors)"
        return super().not_autoscaled()

    def pod_gpus(self, m: ModelEntry, plan: GpuPlan | None) -> int:
        if self.ray is not None and plan is None:  # Ray on existing: its one pool's nodes, whole
            return self.existing.gpu_nodes.gpus_per_node
        return super().pod_gpus(m, plan)

    def gpu_plan(self, model: ModelEntry) -> GpuPlan | None:
        e = self.existing
        pool = pool_named(self.placement_pools(), model.pool)
        nodes = e.gpu_nodes_of(model.pool)
        if nodes.gpu_memory_gb is None:
            return None
        pp = self.ray.pipeline_parallel(nodes.count) if self.ray is not None else 1
        return GpuPlan.from_shape(
            e.shape(nodes, pool.key), nodes.count, model.tensor_parallel_size, pp,
            nodes_key=pool.nodes_key,
            pipeline_key="ray.pipelineParallelSize" if self.ray is not None else "",
            cross_node_tensor_parallel=self.ray is not None,
        )  # fmt: skip

    def check_sections(self) -> None:
        e, store = self.existing, self.model_store
        check_kserve(e.serving, e.kserve, openshift=e.openshift, store_kind=store.kind,
                     kserve_given="kserve" in e.model_fields_set, route_given="route" in e.model_fields_set,
                     images=tuple(m.image for m in self.models), multi_node=self.ray is not None,
                     grace_periods=tuple(m.termination_grace_period_seconds for m in self.models))  # fmt: skip
        if e.kubeconfig == "secret" and self.secrets.kubeconfig is None:
            raise ValueError("secrets.kubeconfig: existing.kubeconfig is `secret` but no secrets.kubeconfig is set")
        if isinstance(store, NfsModelStoreConfig):
            nfs_share(store)
        if isinstance(store, S3ModelStoreConfig):
            s3_endpoint(store)
            self.secrets.s3_keys(S3_KEYS_INSTEAD)
        if self.ray is not None:
            self._check_ray(self.ray)

    def _check_ray(self, ray: RayConfig) -> None:
        nodes = self.existing.gpu_nodes
        if self.existing.gpu_pools or len(self.models) > 1:
            raise ValueError(
                "models: with `ray` one vLLM spans every GPU node (existing.gpuNodes); list one model and no gpuPools"
            )
        model = self.models[0]
        tp, pp = model.tensor_parallel_size, ray.pipeline_parallel(nodes.count)
        total = nodes.gpus_per_node * nodes.count
        if tp * pp != total:
            raise ValueError(
                f"ray.pipelineParallelSize: tensor parallel {tp} x pipeline parallel {pp} = {tp * pp} GPUs, but "
                f"existing.gpuNodes has {nodes.count} nodes x {nodes.gpus_per_node} GPUs = {total}; they must be equal"
            )
        # Over Ray, tensor parallelism may span nodes when it covers them whole (TP 16 over eight 2-GPU nodes).
        if tp > nodes.gpus_per_node and tp % nodes.gpus_per_node:
            raise ValueError(
                f"models[0].tensorParallelSize: {tp} spans nodes, so it must be a multiple of the {nodes.gpus_per_node} "
                "GPUs per node"
            )
        if ray.worker_replicas is not None and ray.worker_replicas != nodes.count - 1:
            raise ValueError(
                f"ray.workerReplicas: {ray.worker_replicas} Ray workers + 1 head must equal existing.gpuNodes.count "
                f"{nodes.count} (one Ray pod per node); use {nodes.count - 1}"
            )
        if model.replicas != 1:
            raise ValueError(
                "models[0].replicas: a multi-node deployment is one vLLM replica across the Ray cluster; use 1"
            )


# The checks of an existing cluster's store, which also hand builders what they checked.
S3_KEYS_INSTEAD = " for the S3 endpoint"


def nfs_share(store: NfsModelStoreConfig) -> tuple[str, str]:
    """The server and export path of the share that exists (ValueError naming modelStore.server without them)."""
    if store.server is None or store.path is None:
        raise ValueError("modelStore.server: on an existing cluster give the NFS share's server and path")
    return store.server, store.path


def s3_endpoint(store: S3ModelStoreConfig) -> str:
    """The S3-compatible endpoint (ValueError naming modelStore.endpoint without it)."""
    if store.endpoint is None:
        raise ValueError("modelStore.endpoint: on an existing cluster give the S3-compatible endpoint (e.g. MinIO)")
    return store.endpoint
