"""What `vllm serve` is told, the same for the single-node server, the Ray server and KServe: the engine
flags and the argument list built from them. Its own module, so no server imports another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.workloads.types import ModelSource

PORT = 8000
"""Where vLLM's OpenAI-compatible server listens in its container."""


@dataclass(frozen=True)
class EngineFlags:
    """The engine settings config decides (`vllm.*`); no defaults here, so config is their one source."""

    served_model_name: str
    tensor_parallel_size: int
    """GPUs per replica (single node) or per node (Ray)."""
    max_model_len: int
    gpu_memory_utilization: float
    dtype: str
    quantization: str | None = None
    extra_args: list[str] = field(default_factory=list)


Flag = tuple[str, str]
"""A `vllm serve` option and its value; a caller writes it as `--flag value` or `--flag=value`."""


def engine_flags(engine: EngineFlags, *, listen: Sequence[Flag] = (), parallel: Sequence[Flag] = ()) -> list[Flag]:
    """The engine settings as options, in one order everywhere: the served name, where the server listens
    (`listen`, unless a runtime sets it), tensor parallelism and other `parallel` options (pipeline
    parallelism on Ray), the context length, the memory share, dtype and quantization."""
    flags: list[Flag] = [
        ("--served-model-name", engine.served_model_name),
        *listen,
        ("--tensor-parallel-size", str(engine.tensor_parallel_size)),
        *parallel,
        ("--max-model-len", str(engine.max_model_len)),
        ("--gpu-memory-utilization", str(engine.gpu_memory_utilization)),
        ("--dtype", engine.dtype),
    ]
    if engine.quantization:
        flags.append(("--quantization", engine.quantization))
    return flags


def vllm_args(engine: EngineFlags, source: ModelSource, parallel: Sequence[Flag] = ()) -> list[pulumi.Input[str]]:
    """`vllm serve` arguments: the model as the store hands it, the engine flags listening on PORT,
    `parallel` options, then the store's own flags and config's extra ones (last, so they win)."""
    listen = [("--host", "0.0.0.0"), ("--port", str(PORT))]
    flags = [token for flag in engine_flags(engine, listen=listen, parallel=parallel) for token in flag]
    return [source.model, *flags, *source.args, *engine.extra_args]
