"""What `vllm serve` is told, the same for the single-node and the Ray server: the engine flags and the
argument list built from them. Its own module, so neither server imports the other."""

from __future__ import annotations

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


def vllm_args(engine: EngineFlags, source: ModelSource, parallel: tuple[str, ...] = ()) -> list[pulumi.Input[str]]:
    """`vllm serve` arguments: the model as the store hands it, the engine flags, `parallel` flags such as
    pipeline parallelism, then the store's own flags and config's extra ones (last, so they win)."""
    flags: list[pulumi.Input[str]] = [
        source.model,
        "--served-model-name", engine.served_model_name,
        "--host", "0.0.0.0",
        "--port", str(PORT),
        "--tensor-parallel-size", str(engine.tensor_parallel_size),
        *parallel,
        "--max-model-len", str(engine.max_model_len),
        "--gpu-memory-utilization", str(engine.gpu_memory_utilization),
        "--dtype", engine.dtype,
    ]  # fmt: skip
    if engine.quantization:
        flags += ["--quantization", engine.quantization]
    return flags + list(source.args) + list(engine.extra_args)
