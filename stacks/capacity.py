"""Capacity and fit planner: will the model, at this precision and context, fit the GPUs the stack
asks for? Runs inside config validation, before any resource is registered.

The arithmetic, per GPU of one replica (tensor parallel TP x pipeline parallel PP GPUs):

    weights  = params x bytes/param (or the published checkpoint size) / (TP x PP)
    KV cache = 2 (K and V) x layers/PP x max(1, kvHeads/TP) x headDim x KV bytes x maxModelLen
    needed   = weights + KV cache for one sequence of maxModelLen + a small reserve
    offered  = GPU memory x gpuMemoryUtilization

vLLM refuses to start when one sequence of `--max-model-len` does not fit in what is left after the
weights; this check says so in the first second of a preview instead, with the nearest configurations
that would fit.

Each platform config section opts in by offering `gpu_plan(root) -> GpuPlan` (see `GpuPlanner`);
sections without it are not checked. Model facts come from `catalog/models.yaml` or the stack's
`model.architecture`; a model known to neither is not checked (see `headroom`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import yaml
from pydantic import Field

from stacks.catalog import GpuShape
from stacks.config.base import PROJECT, Section
from stacks.config.syntax import quantity_bytes

if TYPE_CHECKING:
    from stacks.config.models import ModelEntry
    from stacks.config.stack import StackConfig

__all__ = [
    "MODELS",
    "Estimate",
    "GpuPlan",
    "GpuPlanner",
    "ModelArchitecture",
    "ModelFacts",
    "PodMemory",
    "check",
    "check_memory",
    "estimate",
    "headroom",
    "headroom_lines",
    "lookup",
    "pod_memory",
    "vllm_memory",
]

GB = 1e9  # decimal GB throughout; GPU memory as the driver reports it (catalog/models.yaml)


# ------------------------------------------------------------------------------------------
# What a platform section tells the planner
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GpuPlan:
    """The GPUs one stack gives vLLM, as its platform section sees them."""

    shape_name: str
    gpu_model: str
    gpu_memory_gb: float
    """Memory of one GPU (not of the node)."""
    gpus_per_node: int
    nodes: int
    tensor_parallel: int
    pipeline_parallel: int = 1
    # Optional, for the "nearest configurations that fit" hint:
    shape_key: str = ""
    """Config key that picks the shape, e.g. `doks.gpuPool.size`."""
    nodes_key: str = ""
    """Config key for the GPU node count, e.g. `doks.gpuPool.nodeCount`."""
    pipeline_key: str = ""
    """Config key for pipeline parallelism when one replica may span nodes; empty: single node only."""
    other_shapes: tuple[GpuShape, ...] = ()
    """Shapes the platform could use instead (bigger GPUs, more GPUs per node)."""
    cross_node_tensor_parallel: bool = False
    """Tensor parallelism may span whole nodes (Ray over TCP, seed 002's TP=16 on 2-GPU nodes)."""
    node_memory_gib: float | None = None
    """RAM of one GPU node, from the shape catalog; None: the pod's memory is not checked against it."""

    @classmethod
    def from_shape(cls, shape: GpuShape, nodes: int, tensor_parallel: int, pipeline_parallel: int = 1,
                   **hints: Any) -> GpuPlan:  # fmt: skip
        return cls(
            shape_name=shape.name,
            gpu_model=shape.gpu_model,
            gpu_memory_gb=shape.gpu_memory_gb,
            gpus_per_node=shape.gpus_per_node,
            node_memory_gib=shape.memory_gib,
            nodes=nodes,
            tensor_parallel=tensor_parallel,
            pipeline_parallel=pipeline_parallel,
            **hints,
        )

    @property
    def visible_memory_gb(self) -> float:
        """Memory the driver reports for one GPU (what gpuMemoryUtilization is a fraction of)."""
        return VISIBLE_GB.get(self.gpu_model, self.gpu_memory_gb)

    @property
    def gpus(self) -> int:
        """GPUs one replica uses."""
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def label(self) -> str:
        return f"{self.gpus}\N{MULTIPLICATION SIGN}{self.gpu_model} {_num(self.gpu_memory_gb)} GB"


@runtime_checkable
class GpuPlanner(Protocol):
    """What a platform config section offers to be capacity-checked."""

    def gpu_plan(self, root: StackConfig, model: ModelEntry) -> GpuPlan | None:
        """The GPUs one of the stack's models gets (on its pool); None when the section cannot tell (then
        nothing is checked)."""
        ...


# ------------------------------------------------------------------------------------------
# Model facts: the catalog, or the stack's own `model.architecture`
# ------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ModelFacts:
    id: str
    params_b: float
    layers: int
    kv_heads: int
    head_dim: int
    max_context: int
    source: str
    attention_heads: int | None = None
    checkpoint_gb: float | None = None
    checkpoint_quantization: str | None = None
    sliding_window: int | None = None
    sliding_window_layers: int = 0

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]


_DATA = yaml.load(
    (Path(__file__).parent / "catalog" / "models.yaml").read_bytes(),
    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
)
MODELS: dict[str, ModelFacts] = {k: ModelFacts(id=k, **row) for k, row in _DATA["models"].items()}
BYTES_PER_PARAM: dict[str, float] = _DATA["bytes_per_param"]
RESERVE_GB: float = _DATA["reserve_gb_per_gpu"]
VISIBLE_GB: dict[str, float] = _DATA["gpu_memory_visible_gb"]

# Suffixes of renamed or pre-quantized repos of a catalog model, and the format they imply.
_QUANT_SUFFIX = re.compile(
    r"-(?P<q>fp8(?:-dynamic)?|awq(?:-int4)?|gptq(?:-int(?P<bits>4|8))?|int4|int8|w8a8|w4a16)$", re.IGNORECASE
)


def _canonical(name: str) -> tuple[str, str | None]:
    """Catalog matching key of a repo name, and the quantization its name implies."""
    name = name.lower()
    implied = None
    while m := _QUANT_SUFFIX.search(name):
        q = m.group("q")
        if implied is None:
            implied = (
                "fp8" if q.startswith("fp8") else
                "int8" if q in ("int8", "w8a8") or m.group("bits") == "8" else
                "int4"
            )  # fmt: skip
        name = name[: m.start()]
    name = name.removeprefix("meta-").removesuffix("-instruct")
    return name, implied


_BY_NAME: dict[str, ModelFacts] = {_canonical(f.name)[0]: f for f in MODELS.values()}


def lookup(model_id: str) -> ModelFacts | None:
    """The catalog row for a Hugging Face id, also for renamed and pre-quantized repos of it."""
    if model_id in MODELS:
        return MODELS[model_id]
    return _BY_NAME.get(_canonical(model_id.rsplit("/", 1)[-1])[0])


def _facts(m: ModelEntry) -> ModelFacts | None:
    arch: ModelArchitecture | None = m.architecture
    if arch is not None:
        return ModelFacts(
            id=m.id,
            params_b=arch.params,
            layers=arch.layers,
            kv_heads=arch.kv_heads,
            head_dim=arch.head_dim,
            max_context=arch.max_context,
            attention_heads=arch.attention_heads,
            checkpoint_gb=arch.checkpoint_gb,
            source="stack config models[].architecture",
        )
    return lookup(m.id)


# ------------------------------------------------------------------------------------------
# The estimate
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Precision:
    label: str
    bytes_per_param: float | None
    """None: the published checkpoint's size is used as is."""


def precision(m: ModelEntry, facts: ModelFacts, quantization: str | None = None) -> Precision:
    """How the weights sit in GPU memory; `quantization` overrides the config's (for suggestions)."""
    q = quantization or m.quantization
    if facts.checkpoint_gb is not None and (q is None or q == facts.checkpoint_quantization):
        return Precision(facts.checkpoint_quantization or "checkpoint", None)
    implied = _canonical(m.id.rsplit("/", 1)[-1])[1]
    if q == "fp8" or (q is None and implied == "fp8"):
        return Precision("fp8", BYTES_PER_PARAM["fp8"])
    if q in ("awq", "gptq", "bitsandbytes") or implied in ("int4", "int8"):
        bits = "int8" if implied == "int8" else "int4"
        return Precision(f"{bits} ({q or 'pre-quantized'})", BYTES_PER_PARAM[bits])
    return Precision("fp16" if m.dtype == "float16" else "bf16", BYTES_PER_PARAM["bf16"])


def _kv_bytes(m: ModelEntry) -> int:
    for arg in m.extra_args:
        flag, _, value = arg.partition("=")
        if flag == "--kv-cache-dtype" and value.startswith("fp8"):
            return 1
    return 2


@dataclass(frozen=True)
class Estimate:
    facts: ModelFacts
    plan: GpuPlan
    precision: Precision
    max_model_len: int
    gpu_memory_utilization: float
    weights_gb: float
    kv_per_token_gb: float
    """KV cache of one token of full attention, per GPU."""
    kv_sequence_gb: float
    """KV cache of one sequence of max_model_len, per GPU (sliding-window layers capped at their window)."""
    reserve_gb: float = RESERVE_GB

    @property
    def weights_per_gpu_gb(self) -> float:
        return self.weights_gb / self.plan.gpus

    @property
    def usable_per_gpu_gb(self) -> float:
        return self.plan.visible_memory_gb * self.gpu_memory_utilization

    @property
    def needed_per_gpu_gb(self) -> float:
        return self.weights_per_gpu_gb + self.kv_sequence_gb + self.reserve_gb

    @property
    def fits(self) -> bool:
        return self.needed_per_gpu_gb <= self.usable_per_gpu_gb

    @property
    def weights_fit(self) -> bool:
        return self.weights_per_gpu_gb + self.reserve_gb < self.usable_per_gpu_gb

    @property
    def kv_budget_gb(self) -> float:
        """KV cache pool of one replica, over all its GPUs."""
        return max(0.0, self.usable_per_gpu_gb - self.weights_per_gpu_gb - self.reserve_gb) * self.plan.gpus

    @property
    def concurrent_sequences(self) -> float:
        """How many sequences of max_model_len the KV pool holds at once."""
        return self.kv_budget_gb / self.plan.gpus / self.kv_sequence_gb if self.kv_sequence_gb else math.inf

    def longest_fitting_len(self) -> int:
        left = self.usable_per_gpu_gb - self.weights_per_gpu_gb - self.reserve_gb
        return int(left / self.kv_per_token_gb) if left > 0 and self.kv_per_token_gb else 0


def estimate(m: ModelEntry, plan: GpuPlan, facts: ModelFacts, *, quantization: str | None = None,
             max_model_len: int | None = None, gpu_memory_utilization: float | None = None) -> Estimate:  # fmt: skip
    prec = precision(m, facts, quantization)
    weights_gb = facts.checkpoint_gb if prec.bytes_per_param is None else facts.params_b * prec.bytes_per_param
    assert weights_gb is not None
    length = max_model_len or m.max_model_len
    heads_per_gpu = max(1, math.ceil(facts.kv_heads / plan.tensor_parallel))
    per_layer_token = 2 * heads_per_gpu * facts.head_dim * _kv_bytes(m) / GB
    sliding = facts.sliding_window_layers if facts.sliding_window else 0
    full_layers = math.ceil((facts.layers - sliding) / plan.pipeline_parallel)
    sliding_layers = math.ceil(sliding / plan.pipeline_parallel) if sliding else 0
    window = min(length, facts.sliding_window or 0)
    return Estimate(
        facts=facts,
        plan=plan,
        precision=prec,
        max_model_len=length,
        gpu_memory_utilization=gpu_memory_utilization or m.gpu_memory_utilization,
        weights_gb=weights_gb,
        kv_per_token_gb=per_layer_token * full_layers,
        kv_sequence_gb=per_layer_token * (full_layers * length + sliding_layers * window),
    )


# ------------------------------------------------------------------------------------------
# The check
# ------------------------------------------------------------------------------------------


def _valid_tensor_parallel(facts: ModelFacts, tp: int) -> bool:
    """vLLM shards attention heads evenly; KV heads are split, or replicated when TP exceeds them."""
    if facts.attention_heads is not None and facts.attention_heads % tp:
        return False
    return tp % facts.kv_heads == 0 if tp >= facts.kv_heads else facts.kv_heads % tp == 0


def _plan(root: StackConfig, m: ModelEntry, section: object) -> GpuPlan | None:
    return section.gpu_plan(root, m) if isinstance(section, GpuPlanner) else None


def check(root: StackConfig, section: object) -> None:
    """Raise ValueError("models[i].<key>: <one line>") when a model cannot run on the GPUs of its pool, or
    its pod does not get (or the node cannot give) the memory it needs."""
    for i, m in enumerate(root.models):
        try:
            plan = _plan(root, m, section)
            _check_gpus(m, plan)
            check_memory(root, m, plan)
        except ValueError as exc:
            raise ValueError(in_entry(str(exc), i)) from None


def in_entry(message: str, index: int) -> str:
    """The checks name a model's keys `model.<key>` / `vllm.<key>` (the entry's two halves); in the stack
    config they are `models[<index>].<key>`."""
    return re.sub(r"\b(?:model|vllm)\.(?=[a-zA-Z])", f"models[{index}].", message)


def _check_gpus(m: ModelEntry, plan: GpuPlan | None) -> None:
    if plan is None:
        return
    if plan.tensor_parallel > plan.gpus_per_node and not plan.cross_node_tensor_parallel:
        raise ValueError(
            f"vllm.tensorParallelSize: {plan.tensor_parallel} is more than the {plan.gpus_per_node} GPU(s) per "
            f"{plan.shape_name} node; tensor parallelism stays within one node"
        )
    if plan.gpus > plan.gpus_per_node * plan.nodes:
        raise ValueError(
            f"vllm.tensorParallelSize: one replica needs TP {plan.tensor_parallel} x PP {plan.pipeline_parallel} = "
            f"{plan.gpus} GPUs but {plan.nodes} {plan.shape_name} node(s) have {plan.gpus_per_node * plan.nodes}"
        )
    facts = _facts(m)
    if facts is None:
        return
    if not _valid_tensor_parallel(facts, plan.tensor_parallel):
        valid = [str(tp) for tp in range(1, plan.gpus_per_node + 1) if _valid_tensor_parallel(facts, tp)]
        heads = f"{facts.attention_heads} attention heads and " if facts.attention_heads else ""
        raise ValueError(
            f"vllm.tensorParallelSize: {plan.tensor_parallel} does not evenly split the {heads}{facts.kv_heads} KV "
            f"heads of {facts.name} (vLLM refuses to start); use one of {', '.join(valid)}"
        )
    if facts.checkpoint_quantization and m.quantization not in (None, facts.checkpoint_quantization):
        raise ValueError(
            f"vllm.quantization: {facts.name} ships {facts.checkpoint_quantization} weights and vLLM refuses "
            f"--quantization {m.quantization} for them; leave vllm.quantization unset"
        )
    long_context = any(a.startswith(("--hf-overrides", "--rope-scaling")) for a in m.extra_args)
    if m.max_model_len > facts.max_context and not long_context:
        raise ValueError(
            f"vllm.maxModelLen: {m.max_model_len} is more than {facts.name}'s context of "
            f"{facts.max_context} tokens (max_position_embeddings; vLLM refuses it); use <= {facts.max_context} "
            "or extend it with rope scaling in vllm.extraArgs (--hf-overrides=...)"
        )
    est = estimate(m, plan, facts)
    if est.fits:
        return
    hint = _nearest(m, plan, facts)
    usable = (
        f"each GPU offers {_gb(est.usable_per_gpu_gb)} ({_num(plan.visible_memory_gb)} GB visible on a "
        f"{plan.gpu_model} x gpuMemoryUtilization {m.gpu_memory_utilization:.2f})"
    )
    if est.weights_fit:
        raise ValueError(
            f"vllm.maxModelLen: one {est.max_model_len}-token sequence of {facts.name} needs "
            f"{_gb(est.kv_sequence_gb)} of KV cache per GPU, but {usable} and {_gb(est.weights_per_gpu_gb)} of "
            f"{est.precision.label} weights + {_gb(est.reserve_gb)} reserve leave "
            f"{_gb(max(0.0, est.usable_per_gpu_gb - est.weights_per_gpu_gb - est.reserve_gb))}; {hint}"
        )
    raise ValueError(
        f"model.id: {facts.name} needs {_gb(est.needed_per_gpu_gb)} per GPU ({_gb(est.weights_gb)} of "
        f"{est.precision.label} weights over {plan.label} = {_gb(est.weights_per_gpu_gb)}, + "
        f"{_gb(est.kv_sequence_gb)} KV cache for one {est.max_model_len}-token sequence, + "
        f"{_gb(est.reserve_gb)} reserve) but {usable}; {hint}"
    )


def _candidates(m: ModelEntry, plan: GpuPlan, facts: ModelFacts) -> Iterator[tuple[str, Estimate]]:
    """Changes to try, cheapest first (same GPUs, then more GPUs on this shape, other shapes, more nodes)."""
    v = m
    can_fp8 = facts.checkpoint_gb is None and precision(m, facts).bytes_per_param not in (
        None,
        BYTES_PER_PARAM["fp8"],
        BYTES_PER_PARAM["int4"],
    )
    quants: list[str | None] = [None, "fp8"] if can_fp8 else [None]

    if v.gpu_memory_utilization < 0.95:
        yield "vllm.gpuMemoryUtilization=0.95", estimate(m, plan, facts, gpu_memory_utilization=0.95)
    here = estimate(m, plan, facts)
    longest = here.longest_fitting_len() // 1024 * 1024
    if 1024 <= longest < v.max_model_len:
        yield f"vllm.maxModelLen={longest}", estimate(m, plan, facts, max_model_len=longest)
    if can_fp8:
        yield "vllm.quantization=fp8", estimate(m, plan, facts, quantization="fp8")
    tps = [tp for tp in range(plan.tensor_parallel + 1, plan.gpus_per_node + 1) if _valid_tensor_parallel(facts, tp)]
    for q in quants:
        for tp in tps:
            label = f"vllm.tensorParallelSize={tp}" + (" + vllm.quantization=fp8" if q else "")
            yield label, estimate(m, replace(plan, tensor_parallel=tp), facts, quantization=q)
    if plan.shape_key:
        for q in quants:
            for shape in plan.other_shapes:
                if shape.name == plan.shape_name or (
                    shape.gpu_memory_gb <= plan.gpu_memory_gb and shape.gpus_per_node <= plan.gpus_per_node
                ):
                    continue
                bigger_gpu = shape.gpu_memory_gb > plan.gpu_memory_gb
                for tp in (t for t in range(1, shape.gpus_per_node + 1) if _valid_tensor_parallel(facts, t)):
                    if not bigger_gpu and tp <= plan.gpus_per_node:
                        continue  # the same GPUs as this shape offers: suggested above, if at all
                    other = GpuPlan.from_shape(shape, plan.nodes, tp, plan.pipeline_parallel)
                    label = f"{plan.shape_key}={shape.name} + vllm.tensorParallelSize={tp}"
                    yield (
                        label + (" + vllm.quantization=fp8" if q else ""),
                        estimate(m, other, facts, quantization=q),
                    )
    if plan.pipeline_key:
        tp = max(t for t in range(1, plan.gpus_per_node + 1) if _valid_tensor_parallel(facts, t))
        for pp in range(plan.pipeline_parallel + 1, 17):
            if pp > facts.layers:
                break
            nodes = math.ceil(tp * pp / plan.gpus_per_node)
            label = f"{plan.pipeline_key}={pp} + vllm.tensorParallelSize={tp} over {plan.nodes_key}>={nodes}"
            yield label, estimate(m, replace(plan, tensor_parallel=tp, pipeline_parallel=pp), facts)


def _nearest(m: ModelEntry, plan: GpuPlan, facts: ModelFacts, count: int = 3) -> str:
    fitting: list[tuple[int, int, str, Estimate]] = []
    for order, (label, est) in enumerate(_candidates(m, plan, facts)):
        if est.fits:
            fitting.append((est.plan.gpus, order, label, est))
    if not fitting:
        return (
            f"nothing on {plan.shape_name} or the platform's other shapes fits it at this precision; "
            "choose a smaller or quantized model, or a multi-node stack"
        )
    fitting.sort(key=lambda item: item[:2])
    shown = [f"{label} ({_gb(est.needed_per_gpu_gb)}/GPU of {_gb(est.usable_per_gpu_gb)})"
             for _, _, label, est in fitting[:count]]  # fmt: skip
    return "nearest configurations that fit: " + "; ".join(shown)


# ------------------------------------------------------------------------------------------
# Pod memory: what one vLLM pod's memory cgroup holds while it loads and serves
# ------------------------------------------------------------------------------------------

GIB = 2**30
# Estimates, not measurements (vLLM documents no host-memory figure): the API server and engine core
# processes, and each GPU worker process (CUDA context, PyTorch, NCCL buffers).
SERVER_GIB = 6.0
WORKER_GIB = 4.0
# Checkpoint shards: huggingface_hub serialization/_base.py MAX_SHARD_SIZE = "5GB", the size
# save_pretrained/push_to_hub split weights at; a smaller checkpoint is one file.
SHARD_GB = 5.0


@dataclass(frozen=True)
class PodMemory:
    """The memory one vLLM pod needs, by what holds it."""

    gpus: int
    """GPU worker processes in the pod (TP for a single-node replica, the node's GPUs for a Ray pod)."""
    shm_gib: float
    """The memory-backed /dev/shm: tmpfs pages are charged to the pod's memory cgroup
    (https://kubernetes.io/docs/concepts/storage/volumes/#emptydir, medium: Memory)."""
    eager_file_gb: float
    """Largest weight file one worker reads whole (0: not eager). `--safetensors-load-strategy eager`
    does `load(f.read())` per file (vllm/model_executor/model_loader/weight_utils.py,
    safetensors_weights_iterator): the file's bytes and its tensors, in every worker at once."""

    @property
    def runtime_gib(self) -> float:
        return SERVER_GIB + self.gpus * WORKER_GIB

    @property
    def load_gib(self) -> float:
        return self.gpus * 2 * self.eager_file_gb * GB / GIB

    @property
    def needed_gib(self) -> int:
        return math.ceil(self.shm_gib + self.runtime_gib + self.load_gib)

    def describe(self) -> str:
        load = f" + {_num(self.load_gib)} GiB eager load ({self.gpus} x 2 x a {_num(self.eager_file_gb)} GB file)"
        return (
            f"{self.shm_gib:g} GiB /dev/shm + {_num(self.runtime_gib)} GiB for vLLM's processes "
            f"({self.gpus} GPU worker(s))" + (load if self.eager_file_gb else "")
        )


def _eager(root: StackConfig, m: ModelEntry) -> bool:
    for arg in m.extra_args:
        flag, _, value = arg.partition("=")
        if flag == "--safetensors-load-strategy":
            return value == "eager"
    # NFS and claim stores load eagerly (components/workloads/claim_model_store.py); S3 streams.
    return root.model_store.kind != "s3"


def _pod_gpus(root: StackConfig, m: ModelEntry, plan: GpuPlan | None) -> int:
    if root.ray is None:
        return m.tensor_parallel_size
    if plan is not None:
        return plan.gpus_per_node  # a Ray pod holds every GPU of its node
    nodes = getattr(getattr(root, "existing", None), "gpu_nodes", None)  # Ray on existing: its one pool
    return nodes.gpus_per_node if nodes is not None else m.tensor_parallel_size


def pod_memory(root: StackConfig, m: ModelEntry, plan: GpuPlan | None = None) -> PodMemory:
    file_gb = 0.0
    if _eager(root, m):
        facts = _facts(m)
        weights = None
        if facts is not None:
            prec = precision(m, facts)
            weights = facts.checkpoint_gb if prec.bytes_per_param is None else facts.params_b * prec.bytes_per_param
        file_gb = min(SHARD_GB, weights) if weights else SHARD_GB
    return PodMemory(gpus=_pod_gpus(root, m, plan), shm_gib=m.shm_size_gi, eager_file_gb=file_gb)


def reserved_gib(node_gib: float) -> float:
    """Memory the node keeps from pods: the tiered kube-reserved formula GKE documents (25% of the first
    4 GiB, 20% of the next 4, 10% of the next 8, 6% of the next 112, 2% above 128 GiB) plus 100 MiB for
    the eviction threshold (https://cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes).
    DOKS and OKE publish no figure of their own; this is the conservative stand-in."""
    tiers = [(4, 0.25), (4, 0.20), (8, 0.10), (112, 0.06), (math.inf, 0.02)]
    left, reserved = node_gib, 0.1
    for size, rate in tiers:
        part = min(left, size)
        reserved += part * rate
        left -= part
        if left <= 0:
            break
    return reserved


def quantity_gib(quantity: str) -> float:
    """A Kubernetes memory quantity with a binary suffix ("512Mi", "32Gi") in GiB."""
    return quantity_bytes(quantity) / 2**30


def vllm_memory(root: StackConfig, m: ModelEntry) -> str:
    """A single-node vLLM pod's memory request and limit: its `memory`, or what it needs."""
    return m.memory or f"{pod_memory(root, m, _plan_of(root, m)).needed_gib}Gi"


def _plan_of(root: StackConfig, m: ModelEntry) -> GpuPlan | None:
    from stacks.config.stack import PLATFORM_SECTIONS

    return _plan(root, m, getattr(root, PLATFORM_SECTIONS[root.platform], None))


def check_memory(root: StackConfig, m: ModelEntry, plan: GpuPlan | None) -> None:
    """Raise ValueError("<key>: ...") when the pod's memory is below what it needs or above the node's."""
    need = pod_memory(root, m, plan)
    key, configured = ("ray.memory", root.ray.memory) if root.ray is not None else ("vllm.memory", m.memory)
    if configured is not None and quantity_gib(configured) < need.needed_gib:
        derive = ", or leave it unset to derive it" if key == "vllm.memory" else ""
        raise ValueError(
            f"{key}: {configured} is less than the {need.needed_gib}Gi one pod needs ({need.describe()}); "
            f"use >= {need.needed_gib}Gi{derive}"
        )
    if plan is None or plan.node_memory_gib is None:
        return
    pod = quantity_gib(configured) if configured is not None else need.needed_gib
    allocatable = plan.node_memory_gib - reserved_gib(plan.node_memory_gib)
    if pod > allocatable:
        culprit = key if configured is not None else "vllm.shmSizeGi"
        raise ValueError(
            f"{culprit}: one pod needs {_num(pod)} GiB ({need.describe()}) but a {plan.shape_name} node "
            f"({_num(plan.node_memory_gib)} GiB) has {_num(allocatable)} GiB allocatable; lower vllm.shmSizeGi "
            "or tensorParallelSize, or pick a bigger shape"
        )


# ------------------------------------------------------------------------------------------
# The preview's headroom line
# ------------------------------------------------------------------------------------------


def headroom(root: StackConfig, m: ModelEntry | None = None) -> str:
    """One line for the preview summary: a model's weights, GPUs and KV budget on its pool, or why it was
    not checked (`m`: the stack's first model by default)."""
    from stacks.config.stack import PLATFORM_SECTIONS

    m = m or root.models[0]
    section = getattr(root, PLATFORM_SECTIONS[root.platform], None)
    plan = _plan(root, m, section)
    if plan is None:
        why = "gives no GPU plan, e.g. GPU memory unknown" if isinstance(section, GpuPlanner) else "has no gpu_plan yet"
        return f"Capacity: not checked (the {PLATFORM_SECTIONS[root.platform]} config section {why})"
    facts = _facts(m)
    if facts is None:
        return (
            f"Capacity: not checked ({m.id} is not in stacks/catalog/models.yaml; set its architecture "
            "to have it checked)"
        )
    est = estimate(m, plan, facts)
    return (
        f"Capacity: {facts.name} {est.precision.label} weights {_gb(est.weights_gb)} over {plan.label} "
        f"({_gb(est.weights_per_gpu_gb)}/GPU), KV budget {_gb(est.kv_budget_gb)} "
        f"= {est.concurrent_sequences:.1f} x maxModelLen {est.max_model_len} "
        f"(gpuMemoryUtilization {est.gpu_memory_utilization:.2f}, {plan.shape_name} x{plan.nodes})"
    )


def model_lines(root: StackConfig) -> list[str]:
    """The preview's plan of the models: each model on its pool with its replicas and capacity line, then
    each pool's fit line (stacks/placement.py)."""
    from stacks import placement

    lines = []
    for m in root.models:
        pool = root.pool_of(m)
        lora = f", LoRA {', '.join(m.names[1:])}" if m.lora else ""
        parallel = f"TP {m.tensor_parallel_size}"
        if root.ray is not None:
            parallel += f" x PP {root.ray.pipeline_parallel(pool.nodes)}"
        lines.append(
            f"Model {m.name} ({m.id}@{m.revision}) on pool {pool.name}: {m.replicas} replica(s) x {parallel}{lora}"
        )
        lines.append(f"  {headroom(root, m)}")
    for pool in root.platform_section.placement_pools(root):
        lines.append(placement.fit_line(pool, root.demands(pool)))
    return lines


def headroom_lines(raw_config: dict[str, Any]) -> list[str]:
    """The headroom line for a `config:` block of a Pulumi.<stack>.yaml (empty if it does not parse)."""
    from stacks.config.stack import parse
    from stacks.errors import ConfigError

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


def _gb(value: float) -> str:
    return f"{_num(value)} GB"


def _num(value: float) -> str:
    if value == int(value):
        return str(int(value))
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"
