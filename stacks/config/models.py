"""`models:`: the models a stack serves, each with its vLLM engine settings and the GPU pool it runs on.

One entry holds what the single-model stacks kept in `model:` and `vllm:` (those keys are refused with
a message saying what to write instead). Every model gets its own vLLM Deployment and Service, its own
download/upload Job into the stack's model store (under its own directory), and is reached through
the one endpoint by its served name.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from stacks import capacity, catalog
from stacks.catalog import ModelFacts
from stacks.config.autoscaling import AutoscalingConfig
from stacks.config.base import DnsLabel, PinnedImage, Section
from stacks.config.extra_args import check_extra_args
from stacks.config.lora import LoraConfig
from stacks.config.pools import DEFAULT_POOL
from stacks.config.syntax import HubId, Revision, ServedName

__all__ = ["ModelArchitecture", "ModelEntry", "check_models", "old_keys_error"]


class ModelArchitecture(Section):
    """The numbers of a model's config.json, for a model the catalog does not know."""

    params: float = Field(gt=0, le=10_000, description="Parameters, in billions (e.g. 8.03).")
    layers: int = Field(ge=1, le=1024, description="`num_hidden_layers`.")
    kv_heads: int = Field(ge=1, le=1024, description="`num_key_value_heads`.")
    head_dim: int = Field(ge=1, le=1024, description="`head_dim` (or hidden_size / num_attention_heads).")
    max_context: int = Field(ge=128, le=10_485_760, description="`max_position_embeddings`.")
    attention_heads: int | None = Field(
        None, ge=1, le=4096, description="`num_attention_heads`; checks that TP divides it. Default: not checked."
    )
    checkpoint_gb: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description="Size of the published weights in GB, when it is not params x bytes (e.g. an MoE model "
        "shipped in MXFP4). Default: params x bytes of the dtype or quantization.",
    )

    def facts(self, model_id: str) -> ModelFacts:
        return ModelFacts(
            id=model_id,
            params_b=self.params,
            layers=self.layers,
            kv_heads=self.kv_heads,
            head_dim=self.head_dim,
            max_context=self.max_context,
            attention_heads=self.attention_heads,
            checkpoint_gb=self.checkpoint_gb,
            source="stack config models[].architecture",
        )


class ModelEntry(Section):
    # --- the model
    id: HubId = Field(
        "Qwen/Qwen2.5-0.5B-Instruct",
        description="Hugging Face model id (`org/name`). Default: Qwen/Qwen2.5-0.5B-Instruct (no token needed).",
    )
    revision: Revision = Field(
        "main",
        description="Model revision: a branch, tag or commit sha. Pin a commit sha for reproducible weights. "
        "Default: main.",
    )
    served_name: ServedName | None = Field(
        None,
        description="Name clients send as `model`; unique in the stack. Default: the part of `id` after the slash.",
    )
    architecture: ModelArchitecture | None = Field(
        None,
        description="The model's config.json numbers (params, layers, kvHeads, headDim, maxContext), so the "
        "capacity planner can check a model stacks/catalog/models.yaml does not list. Default: from the catalog; "
        "a model in neither is not checked.",
    )
    pool: DnsLabel | None = Field(
        None,
        description="Name of the GPU pool the model runs on. Default: the pool named `gpu` (a one-pool stack's "
        "only pool).",
    )
    lora: LoraConfig | None = Field(
        None, description="LoRA adapters served with the model (`--enable-lora`). Default: none."
    )
    # --- its vLLM engine
    image: PinnedImage = Field(
        catalog.VLLM_IMAGE,
        description=f"vLLM server image, pinned by tag or digest (`latest` is rejected). Default: {catalog.VLLM_IMAGE}.",
    )
    replicas: int = Field(
        1, ge=1, le=64, description="vLLM replicas, one per GPU node of its pool (hard anti-affinity). Default: 1."
    )
    autoscaling: AutoscalingConfig = Field(default_factory=AutoscalingConfig)  # type: ignore[arg-type]
    tensor_parallel_size: int = Field(
        1, ge=1, le=16, description="GPUs per replica (`--tensor-parallel-size`). Default: 1."
    )
    quantization: Literal["fp8", "awq", "gptq", "bitsandbytes"] | None = Field(
        None, description="`--quantization` (e.g. fp8 to fit a 72B model on one 80 GB GPU). Default: none."
    )
    dtype: Literal["auto", "bfloat16", "float16"] = Field("auto", description="`--dtype`. Default: auto.")
    max_model_len: int = Field(8192, ge=256, le=1_048_576, description="`--max-model-len`. Default: 8192.")
    gpu_memory_utilization: float = Field(
        0.90, gt=0.1, le=0.98, description="`--gpu-memory-utilization`. Default: 0.90."
    )
    extra_args: list[str] = Field(
        default_factory=list, description="Extra `--flag[=value]` arguments for `vllm serve`. Default: none."
    )
    startup_timeout_seconds: int = Field(
        1800,
        ge=120,
        le=7200,
        description="How long a replica may take to load weights before the startup probe restarts it. Default: 1800.",
    )
    termination_grace_period_seconds: int = Field(
        120, ge=30, le=3600, description="Time to drain in-flight requests on shutdown. Default: 120."
    )
    shm_size_gi: int = Field(16, ge=1, le=512, description="Size of the in-memory /dev/shm in GiB. Default: 16.")
    cpu: str = Field("4", pattern=r"^\d+(\.\d+)?m?$", description="CPU request per replica. Default: 4.")
    memory: str | None = Field(
        None,
        pattern=r"^\d+(Ki|Mi|Gi|Ti)$",
        description="Memory request and limit per replica. Default: derived from shmSizeGi (a memory-backed "
        "/dev/shm counts against it), tensorParallelSize (one process per GPU) and eager safetensors loading "
        "(each process reads a whole weight file), and checked against the GPU node's allocatable memory.",
    )

    @model_validator(mode="after")
    def _extra_args_known_to_vllm(self) -> ModelEntry:
        check_extra_args(self.extra_args)
        return self

    @property
    def name(self) -> str:
        """The served model name."""
        return self.served_name or self.id.split("/", 1)[1]

    @property
    def directory(self) -> str:
        """Directory on the model store: a new model or revision never overwrites another."""
        return f"{self.id.replace('/', '--')}/{self.revision}"

    def facts(self) -> ModelFacts | None:
        """What the capacity planner knows of the model: its `architecture`, else the catalog row (None: neither)."""
        return self.architecture.facts(self.id) if self.architecture is not None else capacity.lookup(self.id)

    @property
    def names(self) -> list[str]:
        """Every name clients may send as `model` for it: the served name, then its LoRA adapters'."""
        return [self.name, *(a.name for a in (self.lora.adapters if self.lora else []))]


def check_models(models: list[ModelEntry], pools: list[str]) -> None:
    """Served names (and adapter names) unique across the stack; every model on a pool the stack has."""
    seen: dict[str, int] = {}
    for i, m in enumerate(models):
        for name in m.names:
            if name in seen:
                raise ValueError(
                    f"models[{i}]: the name {name!r} is already served by models[{seen[name]}]; every model and "
                    "adapter needs its own name (set servedName)"
                )
            seen[name] = i
        if m.pool is not None and not pools:
            raise ValueError(f"models[{i}].pool: this platform has no GPU pools to choose from; remove pool")
        if m.pool is None and len(pools) > 1 and DEFAULT_POOL not in pools:
            raise ValueError(
                f"models[{i}].pool: the stack has several GPU pools and none named {DEFAULT_POOL}; name one of "
                f"{', '.join(pools)}"
            )
        if m.pool is not None and m.pool not in pools:
            raise ValueError(f"models[{i}].pool: no GPU pool {m.pool!r}; the stack has {', '.join(pools)}")


# The keys of one-model stacks (before `models:`), and where each of their keys went.
OLD_KEYS = ("model", "vllm")


def old_keys_error(data: dict[str, Any]) -> str | None:
    """The one-line message for a config still written with `model:`/`vllm:`, or None."""
    old = [k for k in OLD_KEYS if k in data]
    if not old:
        return None
    given = [key for section in OLD_KEYS if isinstance(data.get(section), dict) for key in data[section]]
    keys = ", ".join(f"{k}: ..." for k in given[:4]) or "id: org/name"
    return (
        f"{old[0]}: `model` and `vllm` became one entry of the `models` list (several models per stack); write "
        f"models: [{{{keys}}}] with the keys of both sections side by side"
    )
