"""Cloud and software facts as data, each row with its source. Loaded once at import."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    # libyaml's loader (same safe schema): the pure-Python one costs ~0.1 s per preview on these files.
    return yaml.load((_HERE / name).read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class GpuShape:
    name: str
    gpus_per_node: int
    gpu_model: str
    gpu_memory_gb: int
    source: str
    rdma: bool = False
    memory_gib: float | None = None
    """The node's RAM (None: not in the catalog, so the pod's memory is not checked against it)."""


@dataclass(frozen=True)
class ModelFacts:
    """A model's config.json numbers, as the capacity planner needs them (models.yaml, each row citing its source)."""

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


# vLLM's OpenAI-compatible server image, pinned to a release (vllm 0.33.0 is the newest release on
# PyPI on 2026-11-24; images are published per release: https://hub.docker.com/r/vllm/vllm-openai/tags).
VLLM_IMAGE = "vllm/vllm-openai:v0.33.0"

# The model download Job: the official Python image plus a pinned huggingface_hub whose `hf download
# --local-dir` skips files already present (huggingface_hub 2.4.0, newest on PyPI on 2026-11-24).
DOWNLOADER_IMAGE = "python:3.12.12-slim"
HUGGINGFACE_HUB_VERSION = "2.4.0"

# The entry point in front of vLLM (components/workloads/entry_point.py): nginx built to run as a
# non-root user on a high port. Tag 1.29.5-alpine: nginx/docker-nginx-unprivileged release, e.g.
# https://gitlab.com/commonground/haven/havenplus/docs/-/merge_requests/41 (1.29.3-alpine -> 1.29.5-alpine).
ENTRY_PROXY_IMAGE = "nginxinc/nginx-unprivileged:1.29.5-alpine"

# The front door's router (components/workloads/router.py): vllm-project/router's release image. Its
# release script tags `vllm/vllm-router:v${VERSION}` for each PyPI release (.buildkite/scripts/
# publish-release-images.sh: "Release tags: latest, v${VERSION}"); 0.1.17 is the PyPI release the tests run
# (pyproject.toml vllm-router==0.1.17, tests/test_router.py). Keep the two equal.
ROUTER_VERSION = "0.1.17"
ROUTER_IMAGE = f"vllm/vllm-router:v{ROUTER_VERSION}"

_do = _load("digitalocean.yaml")
DO_GPU_SIZES: dict[str, GpuShape] = {name: GpuShape(name=name, **row) for name, row in _do["gpu_sizes"].items()}
DO_REGIONS_WITH_GPU_AND_NFS: dict[str, list[str]] = _do["regions_with_gpu_and_nfs"]
DOKS_GATEWAY_API_MIN_VERSION: str = _do["gateway_api_min_version"]
DO_CPU_SIZES: list[str] = list(_do["cpu_sizes"])

# RDMA multi-node serving (oci-h100-rdma): per-shape NCCL env, KubeRay chart, agent plugins, S3 uploader.
_nccl = _load("nccl.yaml")
NCCL_ENV: dict[str, dict[str, str]] = {shape: dict(row["env"]) for shape, row in _nccl["shapes"].items()}
_rdma = _load("rdma.yaml")
KUBERAY_CHART: dict[str, str] = {k: str(v) for k, v in _rdma["kuberay"].items()}
RDMA_AGENT_PLUGINS: dict[str, str] = dict(_rdma["agent_plugins"]["plugins"])
RDMA_BOOT_VOLUME_GB: int = _rdma["boot_volume"]["size_gb"]
RDMA_BOOT_VOLUME_VPUS_PER_GB: int = _rdma["boot_volume"]["vpus_per_gb"]
S3_UPLOADER_IMAGE: str = _rdma["s3_uploader_image"]

_oci = _load("oci.yaml")
OCI_GPU_SHAPES: dict[str, GpuShape] = {name: GpuShape(name=name, **row) for name, row in _oci["gpu_shapes"].items()}
# Region identifier -> region key; OCIR is <key>.ocir.io.
OCI_REGION_KEYS: dict[str, str] = _oci["region_keys"]
# CPU shapes for system pools: Flex shape -> the OCPU counts it takes (None: any), fixed shapes, Arm shapes.
OCI_CPU_FLEX_SHAPES: dict[str, list[int] | None] = {
    name: (row or {}).get("ocpus") for name, row in _oci["cpu_shapes"]["flex"].items()
}
OCI_CPU_FIXED_SHAPES: list[str] = list(_oci["cpu_shapes"]["fixed"])
OCI_ARM_SHAPES: list[str] = list(_oci["cpu_shapes"]["arm"])

# OCI Data Science model deployments (oci-data-science): the GPU shapes the service offers, the BYOC contract.
_data_science = _load("data_science.yaml")
DATA_SCIENCE_GPU_SHAPES: tuple[str, ...] = tuple(_data_science["model_deployment_gpu_shapes"])
DATA_SCIENCE_MODEL_MOUNT: str = _data_science["byoc"]["model_mount"]
DATA_SCIENCE_PORT: int = _data_science["byoc"]["port"]
DATA_SCIENCE_RESERVED_PORTS: tuple[int, ...] = tuple(_data_science["byoc"]["reserved_ports"])


def ocir_host(region: str) -> str:
    return f"{OCI_REGION_KEYS[region]}.ocir.io"


# The existing-cluster stack: NVIDIA GPU Operator chart and NCCL's TCP-socket settings.
_existing = _load("existing.yaml")
GPU_OPERATOR_CHART: dict[str, str] = {k: str(v) for k, v in _existing["gpu_operator"].items()}
NCCL_TCP_ENV: dict[str, str] = dict(_existing["nccl_tcp_env"])

# Every flag `vllm serve` of the pinned release accepts, generated from vLLM's own argument parser
# (tools/vllm_flags_gen.py over the release's wheel); tests/test_extra_args.py checks it matches VLLM_IMAGE.
_vllm_flags = json.loads((_HERE / "vllm_flags.json").read_text())
VLLM_FLAGS_VERSION: str = _vllm_flags["vllmVersion"]
VLLM_FLAGS: dict[str, str] = {flag: row["value"] for flag, row in _vllm_flags["flags"].items()}
"""`--flag` -> "none" (a switch), "optional" or "required" (takes a value)."""


def case_match(name: str, names: Any) -> str | None:
    """The catalog name that differs from `name` only in case (shape and size names are case-sensitive)."""
    return next((n for n in names if n.lower() == name.lower() and n != name), None)


# Metric names the pinned vLLM, dcgm-exporter and kube-state-metrics export (metrics.yaml, with sources):
# what every dashboard, alert and scaler query may use.
_metrics = _load("metrics.yaml")
VLLM_METRICS_VERSION: str = _metrics["vllm"]["version"]
VLLM_METRICS: dict[str, str] = {name: row["type"] for name, row in _metrics["vllm"]["metrics"].items()}
DCGM_EXPORTER_IMAGE: str = _metrics["dcgm"]["image"]
DCGM_EXPORTER_PORT: int = _metrics["dcgm"]["port"]
DCGM_METRICS: dict[str, str] = {name: row["type"] for name, row in _metrics["dcgm"]["metrics"].items()}
DCGM_METRIC_HELP: dict[str, str] = {name: row["help"] for name, row in _metrics["dcgm"]["metrics"].items()}
DCGM_LABELS: frozenset[str] = frozenset(_metrics["dcgm"]["labels"])
ROUTER_METRICS_VERSION: str = _metrics["vllm_router"]["version"]
ROUTER_METRICS: dict[str, str] = {name: row["type"] for name, row in _metrics["vllm_router"]["metrics"].items()}


def exposed_metric_names() -> frozenset[str]:
    """Every series name a query may select. prometheus_client (vLLM) exposes a counter `x` as `x_total`
    and a histogram as `x_bucket`/`x_sum`/`x_count`; dcgm-exporter, vllm-router and kube-state-metrics print
    names as listed."""
    names: set[str] = set()
    for name, kind in VLLM_METRICS.items():
        names |= {"counter": {f"{name}_total"}, "histogram": {f"{name}_{s}" for s in ("bucket", "sum", "count")}}.get(
            kind, {name}
        )
    names |= set(DCGM_METRICS)
    for section in ("vllm_router", "kube_state_metrics", "prometheus"):
        names |= set(_metrics[section]["metrics"])
    return frozenset(names)


# Charts observability and autoscaling install when asked (observability.yaml, with sources).
_observability = _load("observability.yaml")
KUBE_PROMETHEUS_STACK_CHART: dict[str, str] = {k: str(v) for k, v in _observability["kube_prometheus_stack"].items()}
KEDA_CHART: dict[str, str] = {k: str(v) for k, v in _observability["keda"].items()}

# The capacity planner's facts (stacks/capacity.py): models, bytes per parameter of each format, the
# per-GPU reserve, and the memory each GPU model's driver reports.
_models = _load("models.yaml")
MODELS: dict[str, ModelFacts] = {k: ModelFacts(id=k, **row) for k, row in _models["models"].items()}
BYTES_PER_PARAM: dict[str, float] = _models["bytes_per_param"]
RESERVE_GB_PER_GPU: float = _models["reserve_gb_per_gpu"]
GPU_MEMORY_VISIBLE_GB: dict[str, float] = _models["gpu_memory_visible_gb"]


# The estimates' tables (tools/estimates.py): list prices and typical durations, each row with its source
# or basis. Read on first use: only the preview's summary needs them.
@cache
def prices() -> dict[str, Any]:
    return _load("prices.yaml")


@cache
def durations() -> dict[str, Any]:
    return _load("durations.yaml")
