"""Model weights on an NFS share: a static RWX PersistentVolume and its claim, filled and mounted by
a ClaimModelStore on that claim.

Works on any NFS server (DigitalOcean Managed NFS, OCI File Storage, a NAS): the cloud share is
created elsewhere and handed in as server + path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import LABEL_PREFIX
from components.workloads.claim_model_store import ClaimModelStore, ClaimModelStoreArgs, DownloadJob
from components.workloads.types import ModelDownload, ModelSource

CLAIM_REQUEST = "1Gi"


@dataclass(frozen=True)
class NfsModelStoreArgs:
    namespace: pulumi.Input[str]
    server: pulumi.Input[str]
    path: pulumi.Input[str]
    capacity_gb: int
    model: ModelDownload
    mount_options: list[str] = field(default_factory=list)
    job: DownloadJob = field(default_factory=DownloadJob)
    """How the first model's download runs (prepare_as_root: for exports that keep root as root and are
    root-owned)."""
    volume_name: str = "models"


class NfsModelStore(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]
    model_path: str
    source: ModelSource

    def __init__(self, name: str, args: NfsModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:NfsModelStore", name, None, opts)

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
            opts=pulumi.ResourceOptions(parent=self),
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": args.volume_name, "namespace": args.namespace},
            spec={
                "access_modes": ["ReadWriteMany"],
                "storage_class_name": "",
                "volume_name": volume.metadata.apply(lambda m: m.name or ""),
                # A fixed request, not the share's size: a claim of class "" cannot grow (the
                # PersistentVolumeClaimResize admission plugin forbids it), so a bigger share must only
                # change the PV's capacity. The claim binds to the PV by name and shows its capacity.
                "resources": {"requests": {"storage": CLAIM_REQUEST}},
            },
            # pulumi-kubernetes replaces a PVC on any spec change (provider/pkg/provider/diff.go), and a
            # replaced claim cannot rebind the Retain PV it released: growing the share must only grow
            # the PV. A static NFS claim binds to any PV at least its size, so the first request stays.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[volume], ignore_changes=["spec.resources"]),
        )
        self.claim_name = claim.metadata.apply(lambda m: m.name or args.volume_name)
        weights = ClaimModelStore(
            f"{name}-weights",
            ClaimModelStoreArgs(
                namespace=args.namespace,
                claim_name=self.claim_name,
                model=args.model,
                job=args.job,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.model_path = weights.model_path
        self.source = weights.source
        self.register_outputs({"claimName": self.claim_name, "modelPath": self.model_path})
