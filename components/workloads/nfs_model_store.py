"""Model weights on an NFS share: a static RWX PersistentVolume, its claim, and a download-once Job.

Works on any NFS server (DigitalOcean Managed NFS, OCI File Storage, a NAS): the cloud share is
created elsewhere and handed in as server + path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.workloads.types import LABEL_PREFIX, ModelSource

MOUNT_PATH = "/models"
COMPLETE_MARKER = ".download-complete"
_UID = 1000

# Downloads into /models/<org>--<name>/<revision>. `hf download --local-dir` keeps per-file metadata
# under .cache/huggingface and skips files already present; the marker makes a finished model a
# no-op. A new model or revision is a new directory (and a new Job), never an overwrite.
_DOWNLOAD_SCRIPT = """\
set -eu
target="{mount}/$MODEL_DIR"
if [ -f "$target/{marker}" ]; then
  echo "model $MODEL_ID@$MODEL_REVISION already present in $target"
  exit 0
fi
mkdir -p "$target"
pip install --quiet --no-cache-dir --target=/tmp/pip "huggingface_hub=={hub_version}"
export PYTHONPATH=/tmp/pip PATH="/tmp/pip/bin:$PATH"
hf download "$MODEL_ID" --revision "$MODEL_REVISION" --local-dir "$target"
date -u +%Y-%m-%dT%H:%M:%SZ > "$target/{marker}"
echo "model $MODEL_ID@$MODEL_REVISION downloaded to $target"
"""


@dataclass(frozen=True)
class NfsModelStoreArgs:
    namespace: pulumi.Input[str]
    server: pulumi.Input[str]
    path: pulumi.Input[str]
    capacity_gb: int
    model_id: str
    model_revision: str
    model_directory: str
    downloader_image: str
    huggingface_hub_version: str
    hf_token_secret_name: pulumi.Input[str] | None = None
    job_node_selector: dict[str, str] = field(default_factory=dict)
    """Where the download runs: a CPU pool, so it overlaps GPU node provisioning."""
    mount_options: list[str] = field(default_factory=list)
    download_timeout_minutes: int = 60
    volume_name: str = "models"


class NfsModelStore(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]
    model_path: str
    source: ModelSource

    def __init__(self, name: str, args: NfsModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:NfsModelStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        pv_name = pulumi.Output.from_input(args.namespace).apply(lambda ns: f"{ns}-{args.volume_name}")
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata={"name": pv_name, "labels": {f"{LABEL_PREFIX}/volume": args.volume_name}},
            spec={
                "capacity": {"storage": f"{args.capacity_gb}Gi"},
                "access_modes": ["ReadWriteMany"],
                # Deleting the claim must never delete the weights on the share.
                "persistent_volume_reclaim_policy": "Retain",
                "storage_class_name": "",
                "mount_options": args.mount_options,
                "nfs": {"server": args.server, "path": args.path},
            },
            opts=child,
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": args.volume_name, "namespace": args.namespace},
            spec={
                "access_modes": ["ReadWriteMany"],
                "storage_class_name": "",
                "volume_name": volume.metadata.apply(lambda m: m.name or ""),
                "resources": {"requests": {"storage": f"{args.capacity_gb}Gi"}},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[volume]),
        )
        claim_name = claim.metadata.apply(lambda m: m.name or args.volume_name)

        digest = hashlib.sha256(f"{args.model_id}@{args.model_revision}".encode()).hexdigest()[:10]
        env: list[k8s.core.v1.EnvVarArgsDict] = [
            {"name": "MODEL_ID", "value": args.model_id},
            {"name": "MODEL_REVISION", "value": args.model_revision},
            {"name": "MODEL_DIR", "value": args.model_directory},
            {"name": "HOME", "value": "/tmp"},
            {"name": "HF_HOME", "value": "/tmp/hf"},
            {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
        ]
        if args.hf_token_secret_name is not None:
            env.append(
                {
                    "name": "HF_TOKEN",
                    "value_from": {"secret_key_ref": {"name": args.hf_token_secret_name, "key": "token"}},
                }
            )
        job = k8s.batch.v1.Job(
            f"{name}-download",
            metadata={
                "name": f"model-download-{digest}",
                "namespace": args.namespace,
                "labels": {f"{LABEL_PREFIX}/component": "model-download"},
            },
            spec={
                "backoff_limit": 4,
                "template": {
                    "metadata": {"labels": {f"{LABEL_PREFIX}/component": "model-download"}},
                    "spec": {
                        "restart_policy": "Never",
                        "node_selector": args.job_node_selector,
                        "automount_service_account_token": False,
                        "security_context": {
                            "run_as_non_root": True,
                            "run_as_user": _UID,
                            "run_as_group": _UID,
                            "fs_group": _UID,
                            "seccomp_profile": {"type": "RuntimeDefault"},
                        },
                        "containers": [
                            {
                                "name": "download",
                                "image": args.downloader_image,
                                "command": ["/bin/sh", "-c"],
                                "args": [
                                    _DOWNLOAD_SCRIPT.format(
                                        mount=MOUNT_PATH,
                                        marker=COMPLETE_MARKER,
                                        hub_version=args.huggingface_hub_version,
                                    )
                                ],
                                "env": env,
                                "resources": {
                                    "requests": {"cpu": "500m", "memory": "1Gi"},
                                    "limits": {"memory": "4Gi"},
                                },
                                "security_context": {
                                    "allow_privilege_escalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "volume_mounts": [{"name": "models", "mount_path": MOUNT_PATH}],
                            }
                        ],
                        "volumes": [{"name": "models", "persistent_volume_claim": {"claim_name": claim_name}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.download_timeout_minutes}m"),
            ),
        )

        self.claim_name = claim_name
        self.model_path = f"{MOUNT_PATH}/{args.model_directory}"
        self.source = ModelSource(
            model=self.model_path,
            volumes=[{"name": "models", "persistent_volume_claim": {"claim_name": claim_name, "read_only": True}}],
            volume_mounts=[{"name": "models", "mount_path": MOUNT_PATH, "read_only": True}],
            # Read whole files sequentially instead of mmap's random reads, which are slow over NFS.
            args=["--safetensors-load-strategy", "eager"],
            ready=[job],
        )
        self.register_outputs({"claimName": self.claim_name, "modelPath": self.model_path})
