"""What every platform's variant of the stack config has: the shared keys, and the checks that need a
whole stack (the store holds the checkpoints, each model fits its pool's GPUs, a pod's memory fits its
node).

A platform's variant (stacks/config/doks.py, oke.py, rdma.py, existing.py, ods.py) subclasses
`StackBase` with
- `platform: Literal["<name>"]`, its tag in the union of stacks/config/stack.py;
- its sections as required fields (a section left out is read as `{}`: its defaults apply and its
  required keys are named), an optional one (existing's `ray`) as `X | None = None`;
- `model_store` typed with the store kinds it supports (`store_kinds()` reads them from that type);
- `SECTION`, the key of its own section (messages, the config reference);
- the hooks below: its GPU pools, the GPUs a model gets (`gpu_plan`), its Ray cluster, its model store,
  and `check_sections()`, its rules across sections (raising ValueError("<key>: ...")).
"""

from __future__ import annotations

import math
import re
import typing
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, model_validator

from stacks import capacity, placement
from stacks.config.autoscaling import KedaConfig, check_autoscaling
from stacks.config.base import DnsLabel, Section
from stacks.config.endpoint import EndpointConfig
from stacks.config.model_store import ModelStore
from stacks.config.models import ModelEntry, check_models, old_keys_error
from stacks.config.observability import ObservabilityConfig
from stacks.config.pools import pool_named
from stacks.config.ray import RayConfig
from stacks.config.secrets import Secrets
from stacks.config.syntax import workload_namespace
from stacks.config.tls import tls_problem


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


# The section keys of every variant (filled as the variants are defined), to tell a user who writes another
# platform's section which one this platform reads.
_PLATFORM_SECTIONS: set[str] = set()


class StackBase(Section):
    SECTION: ClassVar[str] = ""
    """The key of the variant's own section (`doks`, `oke`, `rdma`, `existing`, `dataScience`)."""

    name: DnsLabel = Field("vllm", description="Prefix for every cloud resource name. Default: vllm.")
    namespace: Annotated[DnsLabel, AfterValidator(workload_namespace)] = Field(
        "vllm", description="Kubernetes namespace for the workload (not default, kube-* or openshift-*). Default: vllm."
    )
    models: list[ModelEntry] = Field(
        default_factory=lambda: [ModelEntry()],  # type: ignore[call-arg]
        min_length=1,
        max_length=16,
        description="The models the stack serves behind its one endpoint, each with its vLLM settings and GPU pool "
        "(stacks/config/models.py). Default: one entry of defaults (Qwen/Qwen2.5-0.5B-Instruct).",
    )
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)  # type: ignore[arg-type]
    secrets: Secrets = Field(default_factory=Secrets)  # type: ignore[arg-type]
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)  # type: ignore[arg-type]
    keda: KedaConfig = Field(default_factory=KedaConfig)  # type: ignore[arg-type]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _PLATFORM_SECTIONS.update(key for key, _ in cls.sections())

    @classmethod
    def sections(cls) -> list[tuple[str, Any]]:
        """(key, field) of each section the variant adds to the shared keys (not `platform`, `modelStore`)."""
        shared = set(StackBase.model_fields) | {"platform", "model_store"}
        return [(f.alias or n, f) for n, f in cls.model_fields.items() if n not in shared]

    @classmethod
    def store_kinds(cls) -> tuple[str, ...]:
        """The `modelStore.kind`s the variant supports, read from its `model_store` annotation (none: it keeps
        no weights of its own)."""
        field = cls.model_fields.get("model_store")
        stores = _models_in(field.annotation) if field is not None else []
        return tuple(m.model_fields["kind"].default for m in stores)

    @classmethod
    def platform_name(cls) -> str:
        return typing.get_args(cls.model_fields["platform"].annotation)[0]

    # ----------------------------------------------------------------------------------------
    # What a variant overrides
    # ----------------------------------------------------------------------------------------

    def check_sections(self) -> None:
        """The variant's rules across its sections; raise ValueError("<key>: <what is allowed>")."""

    def weights_store(self) -> ModelStore | None:
        """The variant's `model_store` (None: the platform keeps no weights of its own). Each variant declares
        that field with the kinds it supports; a field here would be one type for all."""
        return None

    def ray_cluster(self) -> RayConfig | None:
        """The Ray cluster one vLLM spans across nodes (None: single-node replicas)."""
        return None

    def named_gpu_pools(self) -> list[tuple[str, str, Any]]:
        """(name, config key, pool section) of the GPU pools the config lists (their autoscale bounds)."""
        return []

    def placement_pools(self) -> list[placement.Pool]:
        """The GPU pools models are placed on (none for a platform that runs no GPU nodes of its own)."""
        return []

    def gpu_plan(self, model: ModelEntry) -> capacity.GpuPlan | None:
        """The GPUs one of the stack's models gets (on its pool); None when the config cannot tell (then
        nothing is checked)."""
        return None

    def not_autoscaled(self) -> str | None:
        """Why the platform's model replicas cannot be autoscaled (stacks/config/autoscaling.py); None: they can."""
        if self.ray_cluster() is not None:
            return (
                "a multi-node Ray replica spans every GPU node of its pool and is not autoscaled; turn autoscaling "
                "off (or serve one node per replica)"
            )
        return None

    def pod_gpus(self, m: ModelEntry, plan: capacity.GpuPlan | None) -> int:
        """GPUs one of the model's vLLM pods holds."""
        if self.ray_cluster() is not None and plan is not None:
            return plan.gpus_per_node  # a Ray pod holds every GPU of its node
        return m.tensor_parallel_size

    # ----------------------------------------------------------------------------------------
    # Checks on the whole stack
    # ----------------------------------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _no_single_model_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and (message := old_keys_error(data)):
            raise ValueError(message)
        return data

    @model_validator(mode="before")
    @classmethod
    def _sections_of_this_platform(cls, data: Any) -> Any:
        # The platform's own sections may be left out (all defaults); another platform's may not be given.
        if not isinstance(data, dict):
            return data
        platform, own = cls.platform_name(), {key for key, _ in cls.sections()}
        for other in sorted(_PLATFORM_SECTIONS - own):
            if other in data:
                raise ValueError(f"{other}: belongs to another platform; platform {platform} reads {cls.SECTION}")
        store, kinds = data.get("modelStore"), cls.store_kinds()
        store_required = "model_store" in cls.model_fields and cls.model_fields["model_store"].is_required()
        if kinds and (
            (isinstance(store, dict) and store.get("kind", kinds[0]) not in kinds) or (store is None and store_required)
        ):
            raise ValueError(f"modelStore.kind: platform {platform} supports {' or '.join(kinds)}")
        missing = {key: {} for key, field in cls.sections() if field.is_required() and key not in data}
        return {**missing, **data}

    @model_validator(mode="after")
    def _tls_fits_the_endpoint(self) -> StackBase:
        e = self.endpoint
        if problem := tls_problem(e.tls, e.kind, e.hostname, self.platform_name()):
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _model_store_supported(self) -> StackBase:
        store = self.weights_store()
        if store is None:
            return self
        for i, m in enumerate(self.models):
            if m.lora is not None and store.kind == "s3":
                raise ValueError(
                    f"models[{i}].lora: vLLM loads adapters from a local path (--lora-modules), which a bucket is "
                    "not; use modelStore.kind nfs or existingClaim for LoRA adapters"
                )
        return self

    @model_validator(mode="after")
    def _stores_hold_the_model(self) -> StackBase:
        # Every checkpoint once (two entries of the same weights, e.g. served in fp8 and bf16, share a directory).
        known = {m.directory: (m.id, stored_weights_gb(m)) for m in self.models}
        sized = [(model_id, gb) for model_id, gb in known.values() if gb is not None]
        store = self.weights_store()
        if not sized or store is None:  # no model store: the weights' bucket exists
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
    def _fits_the_cluster(self) -> StackBase:
        pools = self.placement_pools()
        check_models(list(self.models), [p.name for p in pools])
        check_autoscaling(self, pools)
        self.check_sections()
        for pool in pools:
            placement.check_pool(pool, self.demands(pool))
        check_capacity(self)
        return self

    # ----------------------------------------------------------------------------------------
    # What builders and the preview read
    # ----------------------------------------------------------------------------------------

    def pool_of(self, model: ModelEntry) -> placement.Pool:
        """The GPU pool a model runs on."""
        return pool_named(self.placement_pools(), model.pool)

    def demands(self, pool: placement.Pool) -> list[placement.Demand]:
        """What the models on `pool` ask of it: single-node replicas, or one Ray replica over all its nodes."""
        found = []
        ray = self.ray_cluster()
        for i, m in enumerate(self.models):
            if self.pool_of(m).name != pool.name:
                continue
            if ray is not None:
                pp = ray.pipeline_parallel(pool.nodes)
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


def plan_of(root: StackBase, m: ModelEntry) -> capacity.GpuPlan | None:
    """The GPUs a model gets on its pool (None: the config cannot tell)."""
    return root.gpu_plan(m)


def check_capacity(root: StackBase) -> None:
    """Raise ValueError("models[i].<key>: <one line>") when a model cannot run on the GPUs of its pool, or
    its pod does not get (or the node cannot give) the memory it needs."""
    ray = root.ray_cluster()
    for i, m in enumerate(root.models):
        try:
            plan = root.gpu_plan(m)
            if plan is not None:
                capacity.check_gpus(m, plan, m.facts())
            key, configured = ("ray.memory", ray.memory) if ray is not None else ("vllm.memory", m.memory)
            capacity.check_memory(pod_memory(root, m, plan), plan, key, configured)
        except ValueError as exc:
            raise ValueError(in_entry(str(exc), i)) from None


def in_entry(message: str, index: int) -> str:
    """The checks name a model's keys `model.<key>` / `vllm.<key>` (the entry's two halves); in the stack
    config they are `models[<index>].<key>`."""
    return re.sub(r"\b(?:model|vllm)\.(?=[a-zA-Z])", f"models[{index}].", message)


def pod_memory(root: StackBase, m: ModelEntry, plan: capacity.GpuPlan | None = None) -> capacity.PodMemory:
    """What one of a model's vLLM pods needs on this stack."""
    store = root.weights_store()
    eager = capacity.eager_load(m.extra_args, streamed=store is not None and store.kind == "s3")
    return capacity.pod_memory(m, m.facts(), gpus=root.pod_gpus(m, plan), shm_gib=m.shm_size_gi, eager=eager)


def vllm_memory(root: StackBase, m: ModelEntry) -> str:
    """A single-node vLLM pod's memory request and limit: its `memory`, or what it needs."""
    return m.memory or f"{pod_memory(root, m, root.gpu_plan(m)).needed_gib}Gi"


def headroom(root: StackBase, m: ModelEntry | None = None) -> str:
    """One line for the preview summary: a model's weights, GPUs and KV budget on its pool, or why it was
    not checked (`m`: the stack's first model by default)."""
    m = m or root.models[0]
    plan = root.gpu_plan(m)
    if plan is None:
        return f"Capacity: not checked (the {root.SECTION} config section gives no GPU plan, e.g. GPU memory unknown)"
    facts = m.facts()
    if facts is None:
        return (
            f"Capacity: not checked ({m.id} is not in stacks/catalog/models.yaml; set its architecture "
            "to have it checked)"
        )
    return capacity.headroom(m, plan, facts)


def model_lines(root: StackBase) -> list[str]:
    """The preview's plan of the models: each model on its pool with its replicas and capacity line, then
    each pool's fit line (stacks/placement.py)."""
    lines = []
    pools = root.placement_pools()
    ray = root.ray_cluster()
    for m in root.models:
        where = f" on pool {root.pool_of(m).name}" if pools else ""
        lora = f", LoRA {', '.join(m.names[1:])}" if m.lora else ""
        parallel = f"TP {m.tensor_parallel_size}"
        if ray is not None:
            parallel += f" x PP {ray.pipeline_parallel(root.pool_of(m).nodes)}"
        lines.append(f"Model {m.name} ({m.id}@{m.revision}){where}: {m.replicas} replica(s) x {parallel}{lora}")
        lines.append(f"  {headroom(root, m)}")
    for pool in pools:
        lines.append(placement.fit_line(pool, root.demands(pool)))
    return lines
