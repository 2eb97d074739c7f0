"""What every vLLM server container has wherever it runs (the plain Deployment, the Ray head, KServe's
ServingRuntime and InferenceService): its GPUs and memory, health probes sized for slow starts and the
hardened security context. In the SDK's snake_case; `components/workloads/wire.camel` gives a custom
resource's camelCase (RayCluster, ServingRuntime, InferenceService)."""

from __future__ import annotations

import math
from typing import TypedDict

import pulumi_kubernetes as k8s

from components.conventions import GPU_RESOURCE

HEALTH_PATH = "/health"
"""vLLM's OpenAI server: 200 while its engine is healthy, 503 once it died (vllm 0.33.0
vllm/entrypoints/serve/instrumentator/health.py)."""


def gpu_resources(cpu: str, memory: str, gpus: int) -> k8s.core.v1.ResourceRequirementsArgsDict:
    """The CPU asked for, memory as request and limit (a GPU pod is never overcommitted), whole GPUs."""
    return {
        "requests": {"cpu": cpu, "memory": memory, GPU_RESOURCE: str(gpus)},
        "limits": {"memory": memory, GPU_RESOURCE: str(gpus)},
    }


class HealthProbes(TypedDict):
    startup_probe: k8s.core.v1.ProbeArgsDict
    readiness_probe: k8s.core.v1.ProbeArgsDict
    liveness_probe: k8s.core.v1.ProbeArgsDict


def health_probes(port: str | int, startup_timeout_seconds: int) -> HealthProbes:
    """Startup, readiness and liveness on /health of the port (its name or number). Loading a large model takes
    minutes: only the startup probe waits that long; afterwards a hung engine is restarted in a minute."""
    health: k8s.core.v1.HTTPGetActionArgsDict = {"path": HEALTH_PATH, "port": port}
    return {
        "startup_probe": {
            "http_get": health,
            "period_seconds": 10,
            "failure_threshold": math.ceil(startup_timeout_seconds / 10),
        },
        "readiness_probe": {"http_get": health, "period_seconds": 5, "failure_threshold": 3},
        "liveness_probe": {"http_get": health, "period_seconds": 10, "timeout_seconds": 5, "failure_threshold": 6},
    }


def server_env() -> list[k8s.core.v1.EnvVarArgsDict]:
    """The environment of every vLLM server container (the same in snake_case and camelCase)."""
    return [
        # Weights come from the model store only; never reach out to the Hub at start.
        {"name": "HF_HUB_OFFLINE", "value": "1"},
        # An arbitrary UID (OpenShift, the stacks' fixed non-root UID) has no home and no /etc/passwd entry:
        # getpass.getuser() (vllm 0.33.0 vllm/config/vllm.py) reads USER before it asks the passwd database.
        {"name": "HOME", "value": "/tmp"},
        {"name": "USER", "value": "vllm"},
        {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
    ]


def hardened() -> k8s.core.v1.SecurityContextArgsDict:
    """Non-root, no privilege escalation, no capabilities (Pod Security `restricted`)."""
    return {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]}, "run_as_non_root": True}
