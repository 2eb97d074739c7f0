"""`models[].extraArgs`: every flag checked against the pinned vLLM's own flag list
(stacks/catalog/vllm_flags.json), flags the stack sets itself or that would change what the capacity
and scheduling checks computed pointed to their config key, and credentials pointed to `secrets.*`.
Errors never echo a flag's value."""

from __future__ import annotations

import difflib
import re

from stacks import catalog

# Credentials: refused in a flag list, which lands in plain text in the plan and the pod spec.
CREDENTIAL_FLAGS: dict[str, str] = {"--api-key": "secrets.apiKey", "--hf-token": "secrets.hfToken"}
# A value shaped like a credential, whatever the flag (the policy pack's SECRET_VALUE shapes, plus PEM keys).
CREDENTIAL_VALUE = re.compile(
    r"hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|dop_v1_[0-9a-f]{20,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY"
)

_REPLICAS = "replicas (one replica per GPU node; data parallelism would change the GPUs the capacity check counted)"
# Flags the stack computes from its own keys; given again they would contradict the capacity and
# scheduling checks (GPUs per pod, nodes, memory) or the Service, probes and model store wiring.
MANAGED_FLAGS: dict[str, str] = {
    "--model": "id",
    "--served-model-name": "servedName",
    "--revision": "revision",
    "--tensor-parallel-size": "tensorParallelSize",
    "--pipeline-parallel-size": "ray.pipelineParallelSize (a multi-node stack's pipeline stages)",
    "--prefill-context-parallel-size": "tensorParallelSize (context parallelism multiplies the GPUs per replica)",
    "--distributed-executor-backend": "the platform (multi-node stacks run on Ray)",
    "--quantization": "quantization",
    "--dtype": "dtype",
    "--max-model-len": "maxModelLen",
    "--gpu-memory-utilization": "gpuMemoryUtilization",
    "--kv-cache-memory-bytes": "gpuMemoryUtilization",
    "--host": "endpoint.kind (the Service, probes and network policies use the stack's address and port)",
    "--port": "endpoint.kind (the Service, probes and network policies use the stack's address and port)",
    "--uds": "endpoint.kind (the Service and probes need the stack's TCP port)",
    "--ssl-keyfile": "endpoint.kind (probes speak HTTP to the pod; TLS belongs at the endpoint)",
    "--ssl-certfile": "endpoint.kind (probes speak HTTP to the pod; TLS belongs at the endpoint)",
    "--load-format": "modelStore.kind (the model store chooses how weights are loaded)",
    "--model-loader-extra-config": "modelStore.streamerConcurrency",
    "--safetensors-load-strategy": "modelStore.kind (the model store chooses how weights are loaded)",
    "--download-dir": "modelStore.kind (weights come from the model store)",
    # LoRA: the model's `lora` section (stacks/config/lora.py) sets these from its adapters.
    "--enable-lora": "lora",
    "--lora-modules": "lora.adapters",
    "--max-loras": "lora.maxLoras",
    "--max-lora-rank": "lora.maxRank",
    "--config": "the stack config itself (a --config file would set flags no check sees)",
    "--headless": _REPLICAS,
    **{
        flag: _REPLICAS
        for flag in catalog.VLLM_FLAGS
        if flag.startswith(("--data-parallel", "--no-data-parallel", "--api-server-count"))
    },
}
_FLAG = re.compile(r"--[a-z0-9][a-z0-9-]*")


def check_extra_args(args: list[str]) -> None:
    """Raise ValueError("extraArgs[i]: ...") for the first flag that cannot be passed through."""
    seen: dict[str, int] = {}
    for i, arg in enumerate(args):
        key = f"extraArgs[{i}]"
        flag, has_value, value = arg.partition("=")
        if flag in CREDENTIAL_FLAGS:
            raise ValueError(
                f"{key}: {flag} carries a credential, which a flag list would put in plain text in the plan and "
                f"the pod spec; set {CREDENTIAL_FLAGS[flag]} with `pulumi config set --secret`"
            )
        if CREDENTIAL_VALUE.search(arg):
            raise ValueError(
                f"{key}: the value of {flag if _FLAG.fullmatch(flag) else 'this argument'} looks like a credential; "
                "credentials go in secrets.* (pulumi config set --secret), never in extraArgs"
            )
        if not _FLAG.fullmatch(flag):
            fixed = flag.replace("_", "-").lower() if flag.startswith("--") else None
            hint = f" (did you mean {fixed}?)" if fixed and _FLAG.fullmatch(fixed) else ""
            raise ValueError(
                f"{key}: each item is one `--flag` or `--flag=value` in lower-case-with-dashes{hint}; a value goes "
                "after `=` in the same item"
            )
        base = _base_flag(flag)
        if base in MANAGED_FLAGS or flag in MANAGED_FLAGS:
            raise ValueError(
                f"{key}: {flag} is set by the stack from {MANAGED_FLAGS.get(flag) or MANAGED_FLAGS[base]}; set that key instead"
            )
        kind = catalog.VLLM_FLAGS.get(flag)
        if kind is None:
            close = difflib.get_close_matches(flag, catalog.VLLM_FLAGS, n=1, cutoff=0.8)
            raise ValueError(
                f"{key}: vLLM {catalog.VLLM_FLAGS_VERSION} has no flag {flag}"
                + (f" (did you mean {close[0]}?)" if close else "")
                + "; see `vllm serve --help` of the pinned image"
            )
        if kind == "none" and has_value:
            raise ValueError(f"{key}: {flag} is a switch and takes no value; write {flag} alone")
        if kind == "required" and not (has_value and value):
            raise ValueError(f"{key}: {flag} needs a value: write {flag}=<value> in one item")
        if base in seen:
            raise ValueError(f"{key}: {base} is already given in extraArgs[{seen[base]}] (vLLM would keep the last)")
        seen[base] = i


def _base_flag(flag: str) -> str:
    """`--no-enable-x` / `--disable-x` are the same setting as `--enable-x` / `--x`."""
    for negative, positive in (("--no-", "--"), ("--disable-", "--enable-")):
        if flag.startswith(negative) and positive + flag[len(negative) :] in catalog.VLLM_FLAGS:
            return positive + flag[len(negative) :]
    return flag
