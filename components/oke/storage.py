"""StorageClasses for OCI's CSI drivers: Block Volume (encrypted in transit) and File Storage.

- Block Volume: `blockvolume.csi.oraclecloud.com` with `attachment-type: paravirtualized`, which with
  the node pools' isPvEncryptionInTransitEnabled encrypts the attachment in transit (Oracle,
  "Provisioning PVCs on the Block Volume Service",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengcreatingpersistentvolumeclaim.htm);
  `vpusPerGB` "0"/"10"/"20" (oracle/oci-cloud-controller-manager
  docs/setting-block-volume-performance-using-csi.md); block volumes live in one AD, so binding waits
  for the pod's node (WaitForFirstConsumer); expandable. Bare metal nodes have no paravirtualized
  attachments: claims for them use OKE's default iSCSI class (`oci-bv`).
- File Storage: `fss.csi.oraclecloud.com`, dynamic provisioning into an existing mount target, with
  export options limited to the given client CIDRs instead of the driver's 0.0.0.0/0 default (Oracle,
  "Provisioning PVCs on the File Storage Service",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengcreatingpersistentvolumeclaim_Provisioning_PVCs_on_FSS.htm).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

BLOCK_VOLUME_PROVISIONER = "blockvolume.csi.oraclecloud.com"
FSS_PROVISIONER = "fss.csi.oraclecloud.com"


@dataclass(frozen=True)
class OciStorageClassesArgs:
    block_volume_name: str = "oci-bv-encrypted"
    vpus_per_gb: Literal["0", "10", "20"] = "10"
    fss_name: str | None = "oci-fss"
    """None: no File Storage class."""
    fss_availability_domain: pulumi.Input[str] | None = None
    """AD name as the driver takes it, e.g. US-ASHBURN-AD-1 (no tenancy prefix)."""
    fss_mount_target_id: pulumi.Input[str] | None = None
    fss_client_cidrs: list[str] = field(default_factory=list)
    reclaim_policy: Literal["Delete", "Retain"] = "Delete"


class OciStorageClasses(pulumi.ComponentResource):
    block_volume_class: str
    fss_class: str | None

    def __init__(self, name: str, args: OciStorageClassesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:StorageClasses", name, None, opts)
        k8s.storage.v1.StorageClass(
            f"{name}-block-volume",
            metadata={"name": args.block_volume_name},
            provisioner=BLOCK_VOLUME_PROVISIONER,
            parameters={"attachment-type": "paravirtualized", "vpusPerGB": args.vpus_per_gb},
            reclaim_policy=args.reclaim_policy,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.block_volume_class = args.block_volume_name
        self.fss_class = None
        if args.fss_name is not None:
            if args.fss_availability_domain is None or args.fss_mount_target_id is None or not args.fss_client_cidrs:
                raise ValueError("OciStorageClassesArgs: File Storage needs an AD, a mount target and client CIDRs")
            export_options = json.dumps(
                [
                    {
                        "source": c,
                        "requirePrivilegedSourcePort": False,
                        "access": "READ_WRITE",
                        "identitySquash": "NONE",
                    }
                    for c in args.fss_client_cidrs
                ]
            )
            k8s.storage.v1.StorageClass(
                f"{name}-fss",
                metadata={"name": args.fss_name},
                provisioner=FSS_PROVISIONER,
                parameters={
                    "availabilityDomain": args.fss_availability_domain,
                    "mountTargetOcid": args.fss_mount_target_id,
                    "exportOptions": export_options,
                },
                reclaim_policy=args.reclaim_policy,
                volume_binding_mode="Immediate",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.fss_class = args.fss_name
        self.register_outputs({"blockVolumeClass": self.block_volume_class, "fssClass": self.fss_class})
