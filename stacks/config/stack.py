"""The stack config: one pydantic tree, read from the stack's structured config.

Every key lives in the project namespace (`llm-serving:<key>` in `Pulumi.<stack>.yaml`) and is
written in camelCase, as `pulumi config set --path` users type it. Unknown keys are errors.
Defaults are documented in each field's description (the README's config reference is generated
from them).
"""

from __future__ import annotations

import math
import re
import typing
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_snake

from stacks import capacity, catalog, placement
from stacks.config.autoscaling import KedaConfig, NodeAutoscaleConfig, check_autoscaling, pool_max_nodes, pool_nodes_key
from stacks.config.base import (
    DNS_LABEL,
    PROJECT,
    Cidr,
    DnsLabel,
    KubernetesMinorVersion,
    Section,
    no_overlap,
    refuse_world,
)
from stacks.config.cpu_sizes import check_droplet_size
from stacks.config.existing import ExistingClusterConfig
from stacks.config.internet import check_internet_opt_in
from stacks.config.keys import ApiKeys, bearer_key
from stacks.config.models import ModelEntry, check_models, old_keys_error
from stacks.config.observability import ObservabilityConfig
from stacks.config.ods import DataScienceConfig
from stacks.config.oke import OkeConfig
from stacks.config.pools import named_pools, pool_named
from stacks.config.rdma import RayConfig, RdmaConfig, S3ModelStoreConfig
from stacks.config.syntax import (
    AbsolutePath,
    Hostname,
    Server,
    shown,
    workload_namespace,
)
from stacks.config.tls import TlsConfig, tls_problem
from stacks.errors import ConfigError

__all__ = ["PROJECT", "StackConfig", "parse"]


# --------------------------------------------------------------------------------------------
# Model and serving engine (shared by every stack)
# --------------------------------------------------------------------------------------------


class EndpointConfig(Section):
    kind: Literal["gateway", "loadBalancer", "clusterIP"] = Field(
        "gateway",
        description="How clients reach vLLM: a Gateway API Gateway + HTTPRoute (`gateway`), a cloud load "
        "balancer Service (`loadBalancer`), or in-cluster only (`clusterIP`). Default: gateway.",
    )
    gateway_class_name: str = Field(
        "cilium", pattern=DNS_LABEL, description="GatewayClass for `gateway`. Default: cilium (DOKS)."
    )
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Client CIDRs allowed to reach a `loadBalancer` endpoint (loadBalancerSourceRanges). "
        "Required for `loadBalancer`; 0.0.0.0/0 (everyone) only together with allowInternet: true.",
    )
    allow_internet: bool = Field(
        False,
        description="Explicit opt-in to an endpoint open to every address: needed for 0.0.0.0/0 in allowedCidrs "
        "(clients still need the API key). Default: false.",
    )
    hostname: Hostname | None = Field(
        None,
        description="Host name the HTTPRoute matches (a DNS name, optionally `*.` first). Default: any.",
    )
    monitoring_namespace: str | None = Field(
        None,
        pattern=DNS_LABEL,
        description="Namespace whose pods may reach vLLM's port (Prometheus scraping /metrics); the "
        "NetworkPolicies admit no other namespace. Default: none.",
    )
    tls: TlsConfig | None = Field(
        None,
        description="HTTPS at the endpoint (stacks/config/tls.py): on the Gateway with a cert-manager ACME or "
        "your certificate Secret, or on OKE's load balancer with your Secret; HTTP redirects to HTTPS. "
        "Default: none (HTTP).",
    )

    @model_validator(mode="after")
    def _load_balancer_needs_allow_list(self) -> EndpointConfig:
        if self.kind == "loadBalancer" and not self.allowed_cidrs:
            raise ValueError("allowedCidrs: a loadBalancer endpoint needs at least one client CIDR")
        check_internet_opt_in(self.allowed_cidrs, self.allow_internet)
        return self


class NfsModelStoreConfig(Section):
    kind: Literal["nfs"] = "nfs"
    server: Server | None = Field(
        None,
        description="NFS server of a share that already exists (platform existing). Default: the share the stack creates.",
    )
    path: AbsolutePath | None = Field(
        None,
        description="Export path on `server` (platform existing). Default: the created share's.",
    )
    size_gb: int = Field(1000, ge=50, le=16384, description="Size of the NFS share in GB. Default: 1000.")
    retain_on_delete: bool = Field(
        False,
        description="Keep the share (and the downloaded weights) when the stack is destroyed. Default: false.",
    )
    download_timeout_minutes: int = Field(
        60, ge=5, le=1440, description="How long `pulumi up` waits for the model download Job. Default: 60."
    )


class ExistingClaimModelStoreConfig(Section):
    kind: Literal["existingClaim"] = "existingClaim"
    claim_name: DnsLabel = Field(
        description="The PersistentVolumeClaim in the serving namespace that holds the weights."
    )
    download: bool = Field(
        True,
        description="Fill the claim from Hugging Face with the download Job; false when the weights were copied in "
        "another way (e.g. a loader pod). Default: true.",
    )
    download_timeout_minutes: int = Field(
        60, ge=5, le=1440, description="How long `pulumi up` waits for the model download Job. Default: 60."
    )


class Secrets(Section):
    """Set with `pulumi config set --secret --path 'secrets.<name>' <value>`; never in plain text."""

    hf_token: SecretStr | None = Field(None, description="Hugging Face token, for gated models. Default: none.")
    api_key: SecretStr | None = Field(
        None,
        description="API key clients send as `Authorization: Bearer`. Default: a random 40-character key, "
        "exported as the secret stack output `apiKey`.",
    )
    api_keys: ApiKeys = Field(
        default_factory=dict,
        description="Named keys clients send to the front door as `Authorization: Bearer` (one per team or app: "
        "`pulumi config set --secret --path 'secrets.apiKeys.<name>' <key>`), checked there before a request "
        "reaches a model; vLLM's own key (`apiKey`) stays behind the door as a second layer. Default: none, "
        "the door takes `apiKey`.",
    )
    ocir_auth_token: SecretStr | None = Field(
        None,
        description="OCI auth token for the OCIR login (`oke.ocir`), for images from <key>.ocir.io. Default: none.",
    )
    s3_access_key_id: SecretStr | None = Field(
        None, description="Access key of an S3-compatible model store (`modelStore.kind: s3`). Default: none."
    )
    s3_secret_access_key: SecretStr | None = Field(
        None, description="Secret key of an S3-compatible model store (`modelStore.kind: s3`). Default: none."
    )
    kubeconfig: SecretStr | None = Field(
        None, description="kubeconfig of an existing cluster (`existing.kubeconfig: secret`). Default: none."
    )

    @field_validator("api_key")
    @classmethod
    def _api_key_strong(cls, value: SecretStr | None) -> SecretStr | None:
        # The door sends it to vLLM in its nginx config: a bearer token like the door's own keys.
        return bearer_key(value) if value is not None else None


# --------------------------------------------------------------------------------------------
# DigitalOcean
# --------------------------------------------------------------------------------------------


class DoksManagementPool(Section):
    size: str = Field(
        "s-2vcpu-4gb",
        description="Droplet size for the system pool (the reference architecture uses 2 vCPU / 4 GB). "
        "Default: s-2vcpu-4gb.",
    )
    min_nodes: int = Field(2, ge=1, le=20, description="Autoscaler minimum. Default: 2.")
    max_nodes: int = Field(3, ge=1, le=20, description="Autoscaler maximum. Default: 3.")

    @model_validator(mode="after")
    def _bounds(self) -> DoksManagementPool:
        check_droplet_size(self.size)
        if self.max_nodes < self.min_nodes:
            raise ValueError(f"maxNodes ({self.max_nodes}) must be >= minNodes ({self.min_nodes})")
        return self


class DoksGpuPool(Section):
    size: str = Field("gpu-h100x1-80gb", description="GPU Droplet size. Default: gpu-h100x1-80gb.")
    node_count: int = Field(
        1, ge=0, le=64, description="GPU nodes (the first size when `autoscale` is set). Default: 1."
    )
    autoscale: NodeAutoscaleConfig | None = Field(
        None,
        description="DOKS node-pool autoscaling (`auto_scale`, min 0 allowed) between minNodes and maxNodes. Default: off.",
    )

    @model_validator(mode="after")
    def _known_size(self) -> DoksGpuPool:
        if same := catalog.case_match(self.size, catalog.DO_GPU_SIZES):
            raise ValueError(f"size: {self.size!r} is not a size slug (they are lower case); did you mean {same!r}?")
        if self.size not in catalog.DO_GPU_SIZES:
            raise ValueError(f"size: must be one of {', '.join(sorted(catalog.DO_GPU_SIZES))} (got {self.size!r})")
        return self


class DoksNamedGpuPool(DoksGpuPool):
    name: DnsLabel = Field(description="The pool's name: models name it in `pool`; its nodes carry it as a label.")


class DoksConfig(Section):
    region: str = Field(
        "nyc2", description="DigitalOcean region; must offer the GPU size and Managed NFS. Default: nyc2."
    )
    kubernetes_version: KubernetesMinorVersion | None = Field(
        None,
        description="DOKS minor version (`1.34`): the newest patch of it that DOKS offers is used, and a minor "
        "DOKS no longer offers is an error. Default: the newest version DOKS offers when the cluster is created "
        "(later runs keep the cluster's version; set this key to upgrade).",
    )
    vpc_cidr: Cidr = Field("10.200.0.0/22", description="VPC range. Default: 10.200.0.0/22.")
    cluster_subnet: Cidr = Field("172.16.0.0/20", description="Pod network. Default: 172.16.0.0/20.")
    service_subnet: Cidr = Field("192.168.0.0/22", description="Service network. Default: 192.168.0.0/22.")
    ha_control_plane: bool = Field(False, description="Highly available control plane. Default: false.")
    surge_upgrade: bool = Field(
        False,
        description="Surge upgrades: DOKS adds nodes to a pool before upgrading it. Off by default, as in "
        "DigitalOcean's vLLM reference architecture: a GPU quota usually has no spare node to surge into. "
        "Default: false.",
    )
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the Kubernetes API (DOKS control-plane firewall); 0.0.0.0/0 is refused. "
        "Required unless apiOpenToInternet is true.",
    )
    api_open_to_internet: bool = Field(
        False,
        description="Explicit opt-in to DOKS's default: no control-plane firewall, the Kubernetes API reachable from "
        "any address (token-authenticated); only read while apiAllowedCidrs is empty. Default: false (list "
        "apiAllowedCidrs).",
    )
    management_pool: DoksManagementPool = Field(default_factory=DoksManagementPool)  # type: ignore[arg-type]
    gpu_pool: DoksGpuPool = Field(
        default_factory=DoksGpuPool,  # type: ignore[arg-type]
        description="The GPU pool, when the stack has one (the pool named `gpu`).",
    )
    gpu_pools: list[DoksNamedGpuPool] = Field(
        default_factory=list,
        max_length=8,
        description="Several GPU pools, each with a name that models pick in `pool` (instead of gpuPool; name one "
        "`gpu` to keep a one-pool stack's pool). Default: gpuPool alone.",
    )

    @property
    def named_gpu_pools(self) -> list[tuple[str, str, DoksGpuPool]]:
        return named_pools(self.gpu_pool, "doks.gpuPool", [(p.name, p) for p in self.gpu_pools], "doks.gpuPools",
                           "gpu_pool" in self.model_fields_set)  # fmt: skip

    @model_validator(mode="after")
    def _region_and_networks(self) -> DoksConfig:
        try:
            pools = self.named_gpu_pools
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("doks.")) from None
        for _, _, pool in pools:
            regions = catalog.DO_REGIONS_WITH_GPU_AND_NFS.get(pool.size, ())
            if self.region not in regions:
                raise ValueError(
                    f"region: {self.region!r} does not offer both {pool.size} and Managed NFS; "
                    f"use one of {', '.join(regions)}"
                )
        refuse_world("apiAllowedCidrs", self.api_allowed_cidrs, "the Kubernetes API",
                     "kubernetes-api-not-open-to-world", "list where kubectl and Pulumi run")  # fmt: skip
        if not self.api_allowed_cidrs and not self.api_open_to_internet:
            raise ValueError(
                "apiAllowedCidrs: list the CIDRs allowed to reach the Kubernetes API, or set doks.apiOpenToInternet: "
                "true to keep DOKS's default (no control-plane firewall)"
            )
        no_overlap(
            {
                "vpcCidr": self.vpc_cidr,
                "clusterSubnet": self.cluster_subnet,
                "serviceSubnet": self.service_subnet,
            }
        )
        return self

    def check_fit(self, root: StackConfig) -> None:
        minimum = catalog.DOKS_GATEWAY_API_MIN_VERSION
        # An unset version is the newest offered; stacks/builders/doks.py checks it once it is looked up.
        version = self.kubernetes_version
        if root.endpoint.kind == "gateway" and version is not None and _minor(version) < _minor(minimum):
            raise ValueError(
                f"doks.kubernetesVersion: DOKS enables the Cilium Gateway API from {minimum}; use >= {minimum} "
                "or endpoint.kind loadBalancer"
            )

    def placement_pools(self, root: StackConfig) -> list[placement.Pool]:
        return [
            placement.Pool(
                name,
                key,
                pool.size,
                catalog.DO_GPU_SIZES[pool.size].gpus_per_node,
                pool_max_nodes(pool),
                nodes_key=pool_nodes_key(pool, key),
            )
            for name, key, pool in self.named_gpu_pools
        ]

    def gpu_plan(self, root: StackConfig, model: ModelEntry) -> capacity.GpuPlan:
        pool = pool_named(self.placement_pools(root), model.pool)
        return capacity.GpuPlan.from_shape(
            catalog.DO_GPU_SIZES[pool.shape], pool.nodes, model.tensor_parallel_size,
            shape_key=f"{pool.key}.size", nodes_key=pool.nodes_key,
            other_shapes=tuple(catalog.DO_GPU_SIZES.values()),
        )  # fmt: skip


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


# --------------------------------------------------------------------------------------------
# The root
# --------------------------------------------------------------------------------------------


class StackConfig(Section):
    platform: Literal["doks", "oke", "oke-rdma", "existing", "oci-data-science"] = Field(
        description="Which cloud this stack builds: doks, oke, oke-rdma (oke plus multi-node RDMA GPU workers), "
        "existing (no cloud: a Kubernetes cluster you already run), or oci-data-science (no cluster: an OCI Data "
        "Science model deployment)."
    )
    name: DnsLabel = Field("vllm", description="Prefix for every cloud resource name. Default: vllm.")
    namespace: Annotated[DnsLabel, AfterValidator(workload_namespace)] = Field(
        "vllm", description="Kubernetes namespace for the workload (not default, kube-* or openshift-*). Default: vllm."
    )
    doks: DoksConfig | None = Field(None, description="DigitalOcean settings (platform doks).")
    oke: OkeConfig | None = Field(None, description="Oracle Cloud OKE settings (platform oke).")
    rdma: RdmaConfig | None = Field(None, description="RDMA GPU workers on OKE (platform oke-rdma).")
    ray: RayConfig | None = Field(
        None,
        description="The Ray cluster vLLM runs on across nodes (platform oke-rdma; optional on existing, where it "
        "makes the deployment multi-node).",
    )
    existing: ExistingClusterConfig | None = Field(
        None, description="A Kubernetes cluster you already run (platform existing)."
    )
    data_science: DataScienceConfig | None = Field(
        None, description="An OCI Data Science model deployment (platform oci-data-science)."
    )
    models: list[ModelEntry] = Field(
        default_factory=lambda: [ModelEntry()],  # type: ignore[call-arg]
        min_length=1,
        max_length=16,
        description="The models the stack serves behind its one endpoint, each with its vLLM settings and GPU pool "
        "(stacks/config/models.py). Default: one entry of defaults (Qwen/Qwen2.5-0.5B-Instruct).",
    )
    model_store: NfsModelStoreConfig | S3ModelStoreConfig | ExistingClaimModelStoreConfig = Field(
        default_factory=NfsModelStoreConfig,  # type: ignore[arg-type]
        discriminator="kind",
        description="Where the weights live: an NFS share (kind nfs), an S3-compatible bucket (kind s3) or a "
        "PersistentVolumeClaim that already exists (kind existingClaim, platform existing).",
    )
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)  # type: ignore[arg-type]
    secrets: Secrets = Field(default_factory=Secrets)  # type: ignore[arg-type]
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)  # type: ignore[arg-type]
    keda: KedaConfig = Field(default_factory=KedaConfig)  # type: ignore[arg-type]

    @model_validator(mode="before")
    @classmethod
    def _no_single_model_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and (message := old_keys_error(data)):
            raise ValueError(message)
        return data

    @model_validator(mode="before")
    @classmethod
    def _platform_section_present(cls, data: Any) -> Any:
        # The platform's own section may be left out (all defaults); another platform's may not be given.
        if isinstance(data, dict) and isinstance(data.get("platform"), str) and data["platform"] in PLATFORM_SECTIONS:
            own = PLATFORM_SECTIONS[data["platform"]]
            also = PLATFORM_ALSO_READS.get(data["platform"], ())
            optional = PLATFORM_MAY_READ.get(data["platform"], ())
            every = set(PLATFORM_SECTIONS.values()) | {s for sections in PLATFORM_ALSO_READS.values() for s in sections}
            for other in every - {own, *also, *optional}:
                if other in data:
                    raise ValueError(f"{other}: belongs to another platform; platform {data['platform']} reads {own}")
            data = {own: {}, **{s: {} for s in also}, **data}
        return data

    @model_validator(mode="after")
    def _tls_fits_the_endpoint(self) -> StackConfig:
        e = self.endpoint
        if problem := tls_problem(e.tls, e.kind, e.hostname, self.platform):
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _model_store_supported(self) -> StackConfig:
        kinds = MODEL_STORE_KINDS.get(self.platform)
        if kinds is not None and self.model_store.kind not in kinds:
            raise ValueError(f"modelStore.kind: platform {self.platform} supports {' or '.join(kinds)}")
        store = self.model_store
        for i, m in enumerate(self.models):
            if m.lora is not None and store.kind == "s3":
                raise ValueError(
                    f"models[{i}].lora: vLLM loads adapters from a local path (--lora-modules), which a bucket is "
                    "not; use modelStore.kind nfs or existingClaim for LoRA adapters"
                )
        if self.platform != "existing" and store.kind == "nfs" and (store.server or store.path):
            raise ValueError(
                f"modelStore.server: platform {self.platform} creates its NFS share; leave server and path unset"
            )
        return self

    @model_validator(mode="after")
    def _stores_hold_the_model(self) -> StackConfig:
        # Every checkpoint once (two entries of the same weights, e.g. served in fp8 and bf16, share a directory).
        known = {m.directory: (m.id, stored_weights_gb(m)) for m in self.models}
        sized = [(model_id, gb) for model_id, gb in known.values() if gb is not None]
        store = self.model_store
        if not sized or self.platform == "oci-data-science":  # no model store: the weights' bucket exists
            return self
        weights = sum(gb for _, gb in sized)
        needed = math.ceil(weights * 1.05)  # the files plus the downloader's metadata and tokenizer files
        if store.kind == "nfs" and store.size_gb < needed:
            what = f"checkpoint of {sized[0][0]}" if len(sized) == 1 else f"checkpoints of {len(sized)} models"
            raise ValueError(
                f"modelStore.sizeGb: {store.size_gb} GB cannot hold the ~{weights:.0f} GB {what}; use at least {needed}"
            )
        return self

    @model_validator(mode="after")
    def _fits_the_cluster(self) -> StackConfig:
        section = self.platform_section
        pools = self.gpu_pools
        check_models(list(self.models), [p.name for p in pools])
        check_autoscaling(self, pools, front_door_counts_requests=False)
        section.check_fit(self)
        for pool in pools:
            placement.check_pool(pool, self.demands(pool))
        check_capacity(self, section)  # sections offering gpu_plan(root, model): will each model fit its GPUs?
        return self

    @property
    def platform_section(self) -> Any:
        return getattr(self, to_snake(PLATFORM_SECTIONS[self.platform]))  # dataScience -> data_science

    @property
    def gpu_pools(self) -> list[placement.Pool]:
        """The platform's GPU pools (`placement_pools(root)` of its section; none for a platform that runs
        no GPU nodes of its own, e.g. a managed service)."""
        pools = getattr(self.platform_section, "placement_pools", None)
        return pools(self) if pools is not None else []

    def pool_of(self, model: ModelEntry) -> placement.Pool:
        """The GPU pool a model runs on."""
        return pool_named(self.gpu_pools, model.pool)

    def demands(self, pool: placement.Pool) -> list[placement.Demand]:
        """What the models on `pool` ask of it: single-node replicas, or one Ray replica over all its nodes."""
        found = []
        for i, m in enumerate(self.models):
            if self.pool_of(m).name != pool.name:
                continue
            if self.ray is not None:
                pp = self.ray.pipeline_parallel(pool.nodes)
                found.append(placement.Demand(m.name, f"models[{i}]", 1, m.tensor_parallel_size * pp, pool.nodes))
            else:  # an autoscaled model may grow to its maxReplicas
                most = m.autoscaling.max_replicas if m.autoscaling.enabled else m.replicas
                found.append(placement.Demand(m.name, f"models[{i}]", most, m.tensor_parallel_size))
        return found


def stored_weights_gb(m: ModelEntry) -> float | None:
    """GB a model's published checkpoint takes on disk (what a share must hold); None: the model is unknown."""
    facts = m.facts()
    return None if facts is None else capacity.stored_weights_gb(m.id, facts)


# --------------------------------------------------------------------------------------------
# The capacity planner (stacks/capacity.py, pure) applied to the stack
# --------------------------------------------------------------------------------------------


@runtime_checkable
class GpuPlanner(Protocol):
    """What a platform config section offers to be capacity-checked."""

    def gpu_plan(self, root: StackConfig, model: ModelEntry) -> capacity.GpuPlan | None:
        """The GPUs one of the stack's models gets (on its pool); None when the section cannot tell (then
        nothing is checked)."""
        ...


def _plan(root: StackConfig, m: ModelEntry, section: object) -> capacity.GpuPlan | None:
    return section.gpu_plan(root, m) if isinstance(section, GpuPlanner) else None


def plan_of(root: StackConfig, m: ModelEntry) -> capacity.GpuPlan | None:
    """The GPUs a model gets on its pool (None: the platform section cannot tell)."""
    return _plan(root, m, root.platform_section)


def check_capacity(root: StackConfig, section: object) -> None:
    """Raise ValueError("models[i].<key>: <one line>") when a model cannot run on the GPUs of its pool, or
    its pod does not get (or the node cannot give) the memory it needs."""
    for i, m in enumerate(root.models):
        try:
            plan = _plan(root, m, section)
            if plan is not None:
                capacity.check_gpus(m, plan, m.facts())
            key, configured = ("ray.memory", root.ray.memory) if root.ray is not None else ("vllm.memory", m.memory)
            capacity.check_memory(pod_memory(root, m, plan), plan, key, configured)
        except ValueError as exc:
            raise ValueError(in_entry(str(exc), i)) from None


def in_entry(message: str, index: int) -> str:
    """The checks name a model's keys `model.<key>` / `vllm.<key>` (the entry's two halves); in the stack
    config they are `models[<index>].<key>`."""
    return re.sub(r"\b(?:model|vllm)\.(?=[a-zA-Z])", f"models[{index}].", message)


def _pod_gpus(root: StackConfig, m: ModelEntry, plan: capacity.GpuPlan | None) -> int:
    if root.ray is None:
        return m.tensor_parallel_size
    if plan is not None:
        return plan.gpus_per_node  # a Ray pod holds every GPU of its node
    if root.existing is not None:  # Ray on existing: its one pool
        return root.existing.gpu_nodes.gpus_per_node
    return m.tensor_parallel_size


def pod_memory(root: StackConfig, m: ModelEntry, plan: capacity.GpuPlan | None = None) -> capacity.PodMemory:
    """What one of a model's vLLM pods needs on this stack."""
    eager = capacity.eager_load(m.extra_args, streamed=root.model_store.kind == "s3")
    return capacity.pod_memory(m, m.facts(), gpus=_pod_gpus(root, m, plan), shm_gib=m.shm_size_gi, eager=eager)


def vllm_memory(root: StackConfig, m: ModelEntry) -> str:
    """A single-node vLLM pod's memory request and limit: its `memory`, or what it needs."""
    return m.memory or f"{pod_memory(root, m, plan_of(root, m)).needed_gib}Gi"


def headroom(root: StackConfig, m: ModelEntry | None = None) -> str:
    """One line for the preview summary: a model's weights, GPUs and KV budget on its pool, or why it was
    not checked (`m`: the stack's first model by default)."""
    m = m or root.models[0]
    section = root.platform_section
    plan = _plan(root, m, section)
    if plan is None:
        why = "gives no GPU plan, e.g. GPU memory unknown" if isinstance(section, GpuPlanner) else "has no gpu_plan yet"
        return f"Capacity: not checked (the {PLATFORM_SECTIONS[root.platform]} config section {why})"
    facts = m.facts()
    if facts is None:
        return (
            f"Capacity: not checked ({m.id} is not in stacks/catalog/models.yaml; set its architecture "
            "to have it checked)"
        )
    return capacity.headroom(m, plan, facts)


def model_lines(root: StackConfig) -> list[str]:
    """The preview's plan of the models: each model on its pool with its replicas and capacity line, then
    each pool's fit line (stacks/placement.py)."""
    lines = []
    pools = root.gpu_pools
    for m in root.models:
        where = f" on pool {root.pool_of(m).name}" if pools else ""
        lora = f", LoRA {', '.join(m.names[1:])}" if m.lora else ""
        parallel = f"TP {m.tensor_parallel_size}"
        if root.ray is not None:
            parallel += f" x PP {root.ray.pipeline_parallel(root.pool_of(m).nodes)}"
        lines.append(f"Model {m.name} ({m.id}@{m.revision}){where}: {m.replicas} replica(s) x {parallel}{lora}")
        lines.append(f"  {headroom(root, m)}")
    for pool in pools:
        lines.append(placement.fit_line(pool, root.demands(pool)))
    return lines


def headroom_lines(raw_config: dict[str, Any]) -> list[str]:
    """The models' plan for a `config:` block of a Pulumi.<stack>.yaml (empty if it does not parse)."""
    prefix = f"{PROJECT}:"
    values = {k.removeprefix(prefix): v for k, v in raw_config.items() if k.startswith(prefix)}
    # Credentials play no part in the plan, but their presence does (an S3 store needs its keys): each
    # given secret stands in as a placeholder.
    secrets = values.pop("secrets", None)
    if isinstance(secrets, dict):
        values["secrets"] = {k: "placeholder-0123456789abcdef" for k in secrets}
    try:
        return ["", *model_lines(parse(values, {"secrets"} if "secrets" in values else set()))]
    except ConfigError:
        return []


# platform -> the config section it reads; each section has `check_fit(root)` for cross-section rules.
PLATFORM_SECTIONS: dict[str, str] = {"doks": "doks"}
PLATFORM_SECTIONS["oke"] = "oke"
# Sections a platform reads besides its own (defaulted when absent, rejected for other platforms).
PLATFORM_ALSO_READS: dict[str, tuple[str, ...]] = {"oke-rdma": ("oke", "ray")}
PLATFORM_SECTIONS["oke-rdma"] = "rdma"
# Model store kinds per platform (a platform not listed takes any).
MODEL_STORE_KINDS: dict[str, tuple[str, ...]] = {"doks": ("nfs",), "oke": ("nfs",), "oke-rdma": ("s3",)}
PLATFORM_SECTIONS["existing"] = "existing"
# Sections a platform reads only when given (existing: `ray` makes it multi-node).
PLATFORM_MAY_READ: dict[str, tuple[str, ...]] = {"existing": ("ray",)}
PLATFORM_SECTIONS["oci-data-science"] = "dataScience"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _model_store_tags() -> set[str]:
    return {m.model_fields["kind"].default for m in typing.get_args(StackConfig.model_fields["model_store"].annotation)}


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for i, part in enumerate(loc):
        if i and loc[i - 1] == "modelStore" and part in _model_store_tags():
            continue  # the discriminated union's tag (modelStore.<kind>.sizeGb) is not a key the user wrote
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("function-", "function_")):
            part = str(part) if str(part).isprintable() else repr(str(part))  # a key can hold a newline
            path += f".{part}" if path else part
    return f"{PROJECT}:{path}" if path else PROJECT


def _message(error: Any) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; keys are camelCase)"
    if error["type"] == "literal_error":
        return f"{msg} (got {shown(error.get('input'))})"
    if error["type"] == "missing":
        return "required key is missing"
    return msg


def parse(values: dict[str, Any], secret_keys: set[str]) -> StackConfig:
    """Validate raw config values; raise ConfigError naming the first bad key."""
    if "secrets" in values and "secrets" not in secret_keys:
        raise ConfigError(
            f"{PROJECT}:secrets",
            "holds credentials in plain text; set each with `pulumi config set --secret --path secrets.<name>`",
        )
    for key in sorted(set(values) & secret_keys - {"secrets"}):
        raise ConfigError(f"{PROJECT}:{key}", "is a secret; only keys under `secrets` may be secret")
    try:
        return StackConfig.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        msg = _message(first)
        # A model-level check names its own key inside the message ("replicas: ..."): lift it.
        head, sep, rest = msg.partition(": ")
        if sep and re.fullmatch(r"[a-zA-Z][\w.\[\]]*", head):
            loc, msg = loc + tuple(head.split(".")), rest
        secrets = _secret_strings({k: values[k] for k in secret_keys if k in values})
        raise ConfigError(_key_path(loc), _redact(" ".join(msg.split()), secrets)) from None  # always one line


def _secret_strings(value: Any) -> list[str]:
    """Every string inside the secret keys' values (a kubeconfig's lines too), longest first."""
    found: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            found += _secret_strings(v)
    elif isinstance(value, list):
        for v in value:
            found += _secret_strings(v)
    elif isinstance(value, str) and value:
        found += [value, *(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)]
    return sorted(set(found), key=len, reverse=True)


def _redact(message: str, secrets: list[str]) -> str:
    """Never print a secret: its value (or any line of it) in the message becomes [secret]."""
    for secret in secrets:
        message = message.replace(secret, "[secret]")
        flat = " ".join(secret.split())  # the message was flattened to one line
        if len(flat) >= 8:
            message = message.replace(flat, "[secret]")
    return message
