"""Model weights on a PersistentVolumeClaim that already exists (or that a sibling component made):
a download-once Job fills it from Hugging Face, and vLLM mounts it read-only.

The claim must be ReadWriteMany when more than one replica (or node) reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.workloads.types import ModelDownload, ModelSource, hugging_face_env, pod_security_context

MOUNT_PATH = "/models"
COMPLETE_MARKER = ".download-complete"


# Downloads into /models/<org>--<name>/<revision>. `hf download --local-dir` keeps per-file metadata
# under .cache/huggingface and skips files already present; the marker makes a finished model a
# no-op. A new model or revision is a new directory (and a new Job), never an overwrite. `original/`
# (Meta's own checkpoint format in Llama repos, as large again) is skipped as vLLM skips it: LoadConfig
# ignore_patterns defaults to ["original/**/*"] (vllm 0.33.0 vllm/config/load.py).
def download_script(mount: str, marker: str, hub_version: str) -> str:
    """The download container's script (POSIX sh; MODEL_ID, MODEL_REVISION, MODEL_DIR from the env)."""
    return f"""\
set -eu
target="{mount}/$MODEL_DIR"
if [ -f "$target/{marker}" ]; then
  echo "model $MODEL_ID@$MODEL_REVISION already present in $target"
  exit 0
fi
mkdir -p "$target"
pip install --quiet --no-cache-dir --target=/tmp/pip "huggingface_hub=={hub_version}"
export PYTHONPATH=/tmp/pip PATH="/tmp/pip/bin:$PATH"
hf download "$MODEL_ID" --revision "$MODEL_REVISION" --local-dir "$target" --exclude 'original/*'
date -u +%Y-%m-%dT%H:%M:%SZ > "$target/{marker}"
echo "model $MODEL_ID@$MODEL_REVISION downloaded to $target"
"""


# An NFS export that does not squash root (OCI File Storage with identity_squash NONE) has a root-owned
# 0755 root directory, and the kubelet applies no fsGroup to NFS volumes (kubernetes pkg/volume/nfs/nfs.go:
# GetAttributes Managed: false), so a non-root download cannot create its directory. A root init step
# creates it and hands it to the download's UID, and does nothing else.
def prepare_script(mount: str, uid: int) -> str:
    """The root init container's script: the model directory, owned by the UID that downloads into it."""
    return f"""\
set -eu
target="{mount}/$MODEL_DIR"
mkdir -p "$target"
chown {uid}:{uid} "$target"
echo "$target ready for uid {uid}"
"""


@dataclass(frozen=True)
class DownloadJob:
    """How a claim's download Job runs (what it downloads is the ModelDownload)."""

    enabled: bool = True
    """False when the weights are already on the claim (copied in by other means)."""
    timeout_minutes: int = 60
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""
    prepare_as_root: bool = False
    """Create the model directory as root (CHOWN only) and give it to run_as_user before the download: for
    NFS exports whose root is root-owned and that keep root as root (no squash). Needs run_as_user and a
    namespace whose Pod Security level admits a root init container (baseline does)."""


@dataclass(frozen=True)
class ClaimModelStoreArgs:
    namespace: pulumi.Input[str]
    claim_name: pulumi.Input[str]
    model: ModelDownload
    job: DownloadJob = field(default_factory=DownloadJob)


def prepare_container(model: ModelDownload, uid: int) -> k8s.core.v1.ContainerArgsDict:
    """The root init step (`prepare_script`): only CHOWN, nothing else of root's."""
    return {
        "name": "prepare",
        "image": model.downloader_image,
        "command": ["/bin/sh", "-c"],
        "args": [prepare_script(MOUNT_PATH, uid)],
        "env": [{"name": "MODEL_DIR", "value": model.model_directory}],
        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        "security_context": {
            "run_as_user": 0,
            "run_as_group": 0,
            "run_as_non_root": False,
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"], "add": ["CHOWN"]},
        },
        "volume_mounts": [{"name": "models", "mount_path": MOUNT_PATH}],
    }


def download_pod_spec(args: ClaimModelStoreArgs) -> k8s.core.v1.PodSpecArgsDict:
    """The download Job's pod: `download_script` on the claim, non-root, where the model says."""
    model, job = args.model, args.job
    init_containers: list[k8s.core.v1.ContainerArgsDict] = []
    if job.prepare_as_root:
        if job.run_as_user is None:
            raise ValueError("ClaimModelStoreArgs: prepare_as_root needs run_as_user (the owner to hand over to)")
        init_containers.append(prepare_container(model, job.run_as_user))
    return {
        "restart_policy": "Never",
        "node_selector": model.job_node_selector,
        "automount_service_account_token": False,
        "security_context": pod_security_context(job.run_as_user),
        "init_containers": init_containers,
        "containers": [
            {
                "name": "download",
                "image": model.downloader_image,
                "command": ["/bin/sh", "-c"],
                "args": [download_script(MOUNT_PATH, COMPLETE_MARKER, model.huggingface_hub_version)],
                "env": [*hugging_face_env(model), {"name": "MODEL_DIR", "value": model.model_directory}],
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
                "security_context": {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]}},
                "volume_mounts": [{"name": "models", "mount_path": MOUNT_PATH}],
            }
        ],
        "volumes": [{"name": "models", "persistent_volume_claim": {"claim_name": args.claim_name}}],
    }


class ClaimModelStore(pulumi.ComponentResource):
    model_path: str
    source: ModelSource

    def __init__(self, name: str, args: ClaimModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:ClaimModelStore", name, None, opts)
        ready: list[pulumi.Resource] = []
        if args.job.enabled:
            ready.append(self._download_job(name, args))

        self.model_path = f"{MOUNT_PATH}/{args.model.model_directory}"
        self.source = ModelSource(
            model=self.model_path,
            volumes=[{"name": "models", "persistent_volume_claim": {"claim_name": args.claim_name, "read_only": True}}],
            volume_mounts=[{"name": "models", "mount_path": MOUNT_PATH, "read_only": True}],
            # Read whole files sequentially instead of mmap's random reads, which are slow over NFS.
            args=["--safetensors-load-strategy", "eager"],
            ready=ready,
        )
        self.register_outputs({"modelPath": self.model_path})

    def _download_job(self, name: str, args: ClaimModelStoreArgs) -> k8s.batch.v1.Job:
        labels = {f"{LABEL_PREFIX}/component": "model-download"}
        return k8s.batch.v1.Job(
            f"{name}-download",
            metadata={"name": f"model-download-{args.model.digest()}", "namespace": args.namespace, "labels": labels},
            spec={
                "backoff_limit": 4,
                "template": {"metadata": {"labels": labels}, "spec": download_pod_spec(args)},
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.job.timeout_minutes}m"),
            ),
        )
