"""`models[].lora`: LoRA adapters served next to a base model.

The adapters are downloaded into the model store like the base weights (each under its own
directory) and named on vLLM's command line, so `/v1/models` lists them with the base model as
their parent and a request whose `model` is an adapter's name is served by it. Flags and formats
from vLLM 0.33.0:
- `--enable-lora`, `--max-loras`, `--max-lora-rank` (vllm/engine/arg_utils.py, LoRAConfig group;
  vllm/config/lora.py: `MaxLoRARanks = Literal[1, 8, 16, 32, 64, 128, 256, 320, 512]`, max_loras >= 1,
  default 1, max_lora_rank default 16);
- `--lora-modules` takes one or more items after one flag (nargs "+"; LoRAParserAction replaces the
  list on every occurrence, so the flag is given once), each `name=path` or a JSON object
  `{"name", "path", "base_model_name"}` (vllm/entrypoints/common/cli_args.py, LoRAModulePath in
  vllm/entrypoints/openai/models/protocol.py);
- `/v1/models` adds a card per static adapter with `parent` = its base_model_name
  (vllm/entrypoints/openai/models/serving.py, show_available_models).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, model_validator

from stacks.config.base import Section
from stacks.config.syntax import HubId, Revision, ServedName


class LoraAdapter(Section):
    name: ServedName = Field(description="Name clients send as `model` to use the adapter.")
    id: HubId = Field(description="Hugging Face repo of the adapter (`org/name`).")
    revision: Revision = Field("main", description="Branch, tag or commit of the adapter. Default: main.")

    @property
    def directory(self) -> str:
        """Directory on the model store, the same scheme as a base model's."""
        return f"{self.id.replace('/', '--')}/{self.revision}"


class LoraConfig(Section):
    adapters: list[LoraAdapter] = Field(
        min_length=1, max_length=64, description="The adapters, downloaded with the model and served by its replicas."
    )
    max_rank: Literal[1, 8, 16, 32, 64, 128, 256, 320, 512] = Field(
        16,
        description="`--max-lora-rank`: at least the largest adapter's rank (vLLM refuses a bigger one). Default: 16.",
    )
    max_loras: int | None = Field(
        None,
        ge=1,
        le=64,
        description="`--max-loras`: adapters in one batch (each takes GPU memory for its weights). Default: the "
        "number of adapters.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> LoraConfig:
        seen: set[str] = set()
        for i, adapter in enumerate(self.adapters):
            if adapter.name in seen:
                raise ValueError(f"adapters[{i}].name: {adapter.name!r} is already the name of another adapter")
            seen.add(adapter.name)
        return self


def lora_args(base_name: str, lora: LoraConfig | None, paths: list[str]) -> list[str]:
    """The `vllm serve` flags serving `lora`'s adapters from `paths` (one per adapter, in order)."""
    if lora is None:
        return []
    assert len(paths) == len(lora.adapters)
    modules = [
        json.dumps({"name": a.name, "path": path, "base_model_name": base_name}, separators=(",", ":"))
        for a, path in zip(lora.adapters, paths, strict=True)
    ]
    max_loras = lora.max_loras or len(lora.adapters)
    return [
        "--enable-lora",
        "--max-lora-rank", str(lora.max_rank),
        "--max-loras", str(max_loras),
        "--lora-modules", *modules,
    ]  # fmt: skip
