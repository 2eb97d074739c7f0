"""StorageClasses for OCI's CSI drivers: Block Volume, encrypted in transit.

- Block Volume: `blockvolume.csi.oraclecloud.com` with `attachment-type: paravirtualized`, which with
  the node pools' isPvEncryptionInTransitEnabled encrypts the attachment in transit (Oracle,
  "Provisioning PVCs on the Block Volume Service",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengcreatingpersistentvolumeclaim.htm);
  `vpusPerGB` "0"/"10"/"20" (oracle/oci-cloud-controller-manager
  docs/setting-block-volume-performance-using-csi.md); block volumes live in one AD, so binding waits
  for the pod's node (WaitForFirstConsumer); expandable. Bare metal nodes have no paravirtualized
  attachments: claims for them use OKE's default iSCSI class (`oci-bv`).
- No File Storage class: dynamic provisioning with `fss.csi.oraclecloud.com` only works once a policy
  lets every cluster in the compartment `manage file-family` and `use virtual-network-family`
  (`request.principal.type = 'cluster'`: Oracle, "Provisioning PVCs on the File Storage Service",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengcreatingpersistentvolumeclaim_Provisioning_PVCs_on_FSS.htm;
  oracle-quickstart/oci-hpc-oke terraform/iam.tf `services_policies`). Nothing here provisions File
  Storage dynamically: the weights are a static PersistentVolume on the export the stack creates
  (components/oke/file_storage.py), so the stacks do not ask for that grant; docs/oci-a10.md says how
  to add the class and the policy yourself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

BLOCK_VOLUME_PROVISIONER = "blockvolume.csi.oraclecloud.com"


@dataclass(frozen=True)
class OciStorageClassesArgs:
    block_volume_name: str = "oci-bv-encrypted"
    vpus_per_gb: Literal["0", "10", "20"] = "10"
    reclaim_policy: Literal["Delete", "Retain"] = "Delete"


class OciStorageClasses(pulumi.ComponentResource):
    block_volume_class: str

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
        self.register_outputs({"blockVolumeClass": self.block_volume_class})
