"""Small value types the workload components hand each other."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, GPU_TAINT_KEY


@dataclass(frozen=True)
class GpuPlacement:
    """Where GPU pods go: the node labels to select and the taints to tolerate."""

    node_selector: dict[str, str]
    taint_keys: list[str] = field(default_factory=lambda: [GPU_TAINT_KEY])

    def tolerations(self) -> list[k8s.core.v1.TolerationArgsDict]:
        return [{"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in self.taint_keys]


@dataclass(frozen=True)
class ModelSource:
    """How a vLLM container gets its weights: what to pass as the model and what to mount or set.

    Model stores produce one; the server consumes it, so a server never knows which store it reads.
    """

    model: pulumi.Input[str]
    volumes: list[k8s.core.v1.VolumeArgsDict] = field(default_factory=list)
    volume_mounts: list[k8s.core.v1.VolumeMountArgsDict] = field(default_factory=list)
    env: list[k8s.core.v1.EnvVarArgsDict] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources that must exist (e.g. the download Job) before a server starts reading."""


def pod_security_context(uid: int | None) -> k8s.core.v1.PodSecurityContextArgsDict:
    """Non-root always; a fixed UID/GID/fsGroup unless the platform assigns them (OpenShift SCCs do)."""
    context: k8s.core.v1.PodSecurityContextArgsDict = {
        "run_as_non_root": True,
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    if uid is not None:
        context.update({"run_as_user": uid, "run_as_group": uid, "fs_group": uid})
    return context


@dataclass(frozen=True)
class PodRuntime:
    """How a server's pods run: image, resources, shared memory, timing and identity. Config decides the
    sizes and timeouts (`vllm.*`, `ray.*`), so they have no defaults here."""

    image: str
    cpu: str
    memory: str
    """Request and limit (a GPU pod is never overcommitted)."""
    shm_size_gi: int
    """The memory-backed /dev/shm (NCCL and vLLM's workers share tensors through it)."""
    startup_timeout_seconds: int
    """Weight loading (and, on Ray, workers joining) before the startup probe restarts the server."""
    termination_grace_period_seconds: int
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""


@dataclass(frozen=True)
class ServerExposure:
    """A server's in-cluster face: the name of its objects, its ClusterIP Service port and the API key it
    checks. Never a load balancer: vLLM answers many routes without its key, so only the entry point
    reaches it (components/workloads/entry_point.py)."""

    namespace: pulumi.Input[str]
    api_key_secret_name: pulumi.Input[str]
    port: int
    name: str = "vllm"


@dataclass(frozen=True)
class ModelDownload:
    """What a model store's Hugging Face download takes: which model, where in the store, the pinned
    downloader, the token, and where the Job runs."""

    model_id: str
    model_revision: str
    model_directory: str
    """Directory (or key prefix) in the store; a new model or revision is a new one, never an overwrite."""
    downloader_image: str
    huggingface_hub_version: str
    hf_token_secret_name: pulumi.Input[str] | None = None
    job_node_selector: dict[str, str] = field(default_factory=dict)
    """Where the download runs: a CPU pool, so it overlaps GPU node provisioning."""

    def digest(self) -> str:
        """A short hash of model@revision: part of the Job's name, so a new model is a new Job."""
        return hashlib.sha256(f"{self.model_id}@{self.model_revision}".encode()).hexdigest()[:10]


def hugging_face_env(download: ModelDownload) -> list[k8s.core.v1.EnvVarArgsDict]:
    """What a Job that downloads from the Hugging Face Hub needs: the model, a writable home, the token."""
    env: list[k8s.core.v1.EnvVarArgsDict] = [
        {"name": "MODEL_ID", "value": download.model_id},
        {"name": "MODEL_REVISION", "value": download.model_revision},
        {"name": "HOME", "value": "/tmp"},
        {"name": "HF_HOME", "value": "/tmp/hf"},
        {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
    ]
    if download.hf_token_secret_name is not None:
        env.append(
            {
                "name": "HF_TOKEN",
                "value_from": {"secret_key_ref": {"name": download.hf_token_secret_name, "key": "token"}},
            }
        )
    return env


class EntryPoint(Protocol):
    """The door into the serving namespace (components/workloads/router.py): what exposure,
    NetworkPolicies and stack outputs need from it."""

    service_name: pulumi.Output[str]
    service_port: int
    container_port: int
    """The port its pods listen on (what NetworkPolicies open)."""
    metrics_port: int
    """Where its pods serve Prometheus metrics (the router's)."""
    redirect_port: int | None
    """Its plain-HTTP redirect listener, when exposed (TLS at the load balancer)."""
    load_balancer_address: pulumi.Output[str] | None
    pod_labels: dict[str, str]
