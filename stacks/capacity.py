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

Pure: plain values in (a `GpuPlan`, the model's `ModelFacts`, its `Engine` settings), a verdict out
(a ValueError("<config key>: <one line>"), or a summary line); it imports nothing of the config, whose
validators call it (stacks/config/stack.py). Model facts come from stacks/catalog (models.yaml) or a
model's `architecture`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from stacks.catalog import BYTES_PER_PARAM, MODELS, GpuShape, ModelFacts
from stacks.catalog import GPU_MEMORY_VISIBLE_GB as VISIBLE_GB
from stacks.catalog import RESERVE_GB_PER_GPU as RESERVE_GB

__all__ = [
    "MODELS",
    "Engine",
    "Estimate",
    "GpuPlan",
    "ModelFacts",
    "PodMemory",
    "check_gpus",
    "check_memory",
    "eager_load",
    "estimate",
    "headroom",
    "lookup",
    "pod_memory",
    "stored_weights_gb",
]

GB = 1e9  # decimal GB throughout; GPU memory as the driver reports it (catalog/models.yaml)


# ------------------------------------------------------------------------------------------
# What a platform's config variant tells the planner
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GpuPlan:
    """The GPUs one stack gives vLLM, as its platform's config variant sees them."""

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
    """Tensor parallelism may span whole nodes (Ray over TCP, e.g. TP 16 over eight 2-GPU nodes)."""
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


# ------------------------------------------------------------------------------------------
# Model facts: the catalog, or the stack's own `model.architecture`
# ------------------------------------------------------------------------------------------


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


def implied_quantization(model_id: str) -> str | None:
    """The checkpoint format a repo's name implies (`...-FP8` fp8, `...-AWQ` int4, ...), or None."""
    return _canonical(model_id.rsplit("/", 1)[-1])[1]


def stored_weights_gb(model_id: str, facts: ModelFacts) -> float:
    """GB a model's published checkpoint takes on disk (what a share must hold): its own size when the
    catalog or its architecture gives one, else params x the bytes of the format the repo name implies
    (fp8/int8 1, int4 0.5) or bf16's 2 (online quantization does not shrink the files)."""
    if facts.checkpoint_gb is not None:
        return facts.checkpoint_gb
    per_param = {"fp8": "fp8", "int8": "int8", "int4": "int4"}.get(implied_quantization(model_id) or "", "bf16")
    return facts.params_b * BYTES_PER_PARAM[per_param]


_BY_NAME: dict[str, ModelFacts] = {_canonical(f.name)[0]: f for f in MODELS.values()}


def lookup(model_id: str) -> ModelFacts | None:
    """The catalog row for a Hugging Face id, also for renamed and pre-quantized repos of it."""
    if model_id in MODELS:
        return MODELS[model_id]
    return _BY_NAME.get(_canonical(model_id.rsplit("/", 1)[-1])[0])


# ------------------------------------------------------------------------------------------
# The estimate
# ------------------------------------------------------------------------------------------


class Engine(Protocol):
    """What the planner reads of one model's engine settings (a `models:` entry of the config has them;
    the planner imports no config)."""

    @property
    def id(self) -> str: ...
    @property
    def quantization(self) -> str | None: ...
    @property
    def dtype(self) -> str: ...
    @property
    def max_model_len(self) -> int: ...
    @property
    def gpu_memory_utilization(self) -> float: ...
    @property
    def extra_args(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Precision:
    label: str
    bytes_per_param: float | None
    """None: the published checkpoint's size is used as is."""
    weights_gb: float
    """The weights in GPU memory, all GPUs together."""


def precision(m: Engine, facts: ModelFacts, quantization: str | None = None) -> Precision:
    """How the weights sit in GPU memory; `quantization` overrides the config's (for suggestions)."""
    q = quantization or m.quantization
    if facts.checkpoint_gb is not None and (q is None or q == facts.checkpoint_quantization):
        return Precision(facts.checkpoint_quantization or "checkpoint", None, facts.checkpoint_gb)
    implied = implied_quantization(m.id)
    if q == "fp8" or (q is None and implied == "fp8"):
        return _per_param("fp8", "fp8", facts)
    if q in ("awq", "gptq", "bitsandbytes") or implied in ("int4", "int8"):
        bits = "int8" if implied == "int8" else "int4"
        return _per_param(f"{bits} ({q or 'pre-quantized'})", bits, facts)
    return _per_param("fp16" if m.dtype == "float16" else "bf16", "bf16", facts)


def _per_param(label: str, bits: str, facts: ModelFacts) -> Precision:
    return Precision(label, BYTES_PER_PARAM[bits], facts.params_b * BYTES_PER_PARAM[bits])


def _kv_bytes(m: Engine) -> int:
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


def estimate(m: Engine, plan: GpuPlan, facts: ModelFacts, *, quantization: str | None = None,
             max_model_len: int | None = None, gpu_memory_utilization: float | None = None) -> Estimate:  # fmt: skip
    prec = precision(m, facts, quantization)
    weights_gb = prec.weights_gb
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


def check_gpus(m: Engine, plan: GpuPlan, facts: ModelFacts | None) -> None:
    """Raise ValueError("<key>: <one line>") when the model cannot run on the planned GPUs (with the
    nearest configurations that would); `facts` None (a model the catalog does not know): only the GPU
    counts are checked. Keys are named `vllm.<key>` / `model.<key>`, as one model's settings."""
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


def _candidates(m: Engine, plan: GpuPlan, facts: ModelFacts) -> Iterator[tuple[str, Estimate]]:
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


def _nearest(m: Engine, plan: GpuPlan, facts: ModelFacts, count: int = 3) -> str:
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


def eager_load(extra_args: Sequence[str], streamed: bool) -> bool:
    """Whether each GPU worker reads whole weight files into memory: `--safetensors-load-strategy`, else
    eager for file stores (NFS, claims: components/workloads/claim_model_store.py) and not for a streamed
    one (S3, the Run:ai streamer)."""
    for arg in extra_args:
        flag, _, value = arg.partition("=")
        if flag == "--safetensors-load-strategy":
            return value == "eager"
    return not streamed


def pod_memory(m: Engine, facts: ModelFacts | None, *, gpus: int, shm_gib: float, eager: bool) -> PodMemory:
    """What one vLLM pod holding `gpus` GPU worker processes needs."""
    file_gb = 0.0
    if eager:
        weights = None
        if facts is not None:
            prec = precision(m, facts)
            weights = prec.weights_gb
        file_gb = min(SHARD_GB, weights) if weights else SHARD_GB
    return PodMemory(gpus=gpus, shm_gib=shm_gib, eager_file_gb=file_gb)


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


_BINARY_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_gib(quantity: str) -> float:
    """A Kubernetes memory quantity with a binary suffix ("512Mi", "32Gi") in GiB (the config's memory
    keys allow only these suffixes)."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)", quantity)
    if m is None:
        raise ValueError(f"{quantity!r} is not a memory size such as 32Gi")
    return int(m.group(1)) * _BINARY_SUFFIX[m.group(2)] / 2**30


def check_memory(need: PodMemory, plan: GpuPlan | None, key: str, configured: str | None) -> None:
    """Raise ValueError("<key>: ...") when the pod's memory (`configured` at config key `key`, or unset:
    what it needs) is below what it needs or above what the plan's GPU node can give."""
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


def headroom(m: Engine, plan: GpuPlan, facts: ModelFacts) -> str:
    """One line for the preview summary: a model's weights, GPUs and KV budget on its pool."""
    est = estimate(m, plan, facts)
    return (
        f"Capacity: {facts.name} {est.precision.label} weights {_gb(est.weights_gb)} over {plan.label} "
        f"({_gb(est.weights_per_gpu_gb)}/GPU), KV budget {_gb(est.kv_budget_gb)} "
        f"= {est.concurrent_sequences:.1f} x maxModelLen {est.max_model_len} "
        f"(gpuMemoryUtilization {est.gpu_memory_utilization:.2f}, {plan.shape_name} x{plan.nodes})"
    )


def _gb(value: float) -> str:
    return f"{_num(value)} GB"


def _num(value: float) -> str:
    if value == int(value):
        return str(int(value))
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"
