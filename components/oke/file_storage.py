"""OCI File Storage for model weights: a file system, a mount target in its subnet, and an export
readable and writable only from the given client CIDRs (the workers; pods too with VCN-native).

The export's `source` is one IP or CIDR per option (pulumi_oci ExportExportOptionArgs); options not
matching any source get no access. `require_privileged_source_port` stays at the API default (true):
the kubelet's NFS client mounts from a privileged port. Source: the OCI Terraform provider's
oci_file_storage_export reference, https://docs.oracle.com/en-us/iaas/tools/terraform-provider-oci/latest/docs/r/file_storage_export.html
(without export options the export defaults to 0.0.0.0/0 READ_WRITE, which we never leave in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci


@dataclass(frozen=True)
class OciFileStorageArgs:
    compartment_id: pulumi.Input[str]
    availability_domain: pulumi.Input[str]
    """Full AD name ("Uocm:US-ASHBURN-AD-1"); file system and mount target share it."""
    subnet_id: pulumi.Input[str]
    client_cidrs: list[str]
    nsg_ids: list[pulumi.Input[str]] = field(default_factory=list)
    export_path: str = "/models"
    retain_on_delete: bool = False
    """Keep the file system (and the weights on it) out of `pulumi destroy`. Only the file system: the
    mount target always goes with the stack (its VNIC sits in the stack's subnet), and "deleting the mount
    target also deletes all its exports" (Oracle, "Deleting a Mount Target",
    https://docs.oracle.com/en-us/iaas/Content/File/Tasks/delete-mount-target.htm), so a retained export
    would be a resource Pulumi forgets that no longer exists."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class OciFileStorage(pulumi.ComponentResource):
    file_system_id: pulumi.Output[str]
    mount_target_id: pulumi.Output[str]
    export_id: pulumi.Output[str]
    server: pulumi.Output[str]
    """The mount target's private IP: the NFS server."""
    export_path: str
    ready: list[pulumi.Resource]
    """What a mount waits for (`depends_on`): the export, without which the server refuses the path."""

    def __init__(self, name: str, args: OciFileStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:FileStorage", name, None, opts)
        if not args.client_cidrs:
            raise ValueError("OciFileStorageArgs: client_cidrs must name at least one CIDR")
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete)
        file_system = oci.filestorage.FileSystem(
            f"{name}-fs",
            compartment_id=args.compartment_id,
            availability_domain=args.availability_domain,
            display_name=f"{name}-fs",
            freeform_tags=args.freeform_tags,
            opts=keep,
        )
        mount_target = oci.filestorage.MountTarget(
            f"{name}-mt",
            compartment_id=args.compartment_id,
            availability_domain=args.availability_domain,
            subnet_id=args.subnet_id,
            nsg_ids=args.nsg_ids,
            display_name=f"{name}-mt",
            freeform_tags=args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        export = oci.filestorage.Export(
            f"{name}-export",
            # Every mount target comes with its export set.
            export_set_id=mount_target.export_set_id,
            file_system_id=file_system.id,
            path=args.export_path,
            export_options=[
                oci.filestorage.ExportExportOptionArgs(
                    source=cidr,
                    access="READ_WRITE",
                    identity_squash="NONE",
                    require_privileged_source_port=True,
                )
                for cidr in args.client_cidrs
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.file_system_id = file_system.id
        self.mount_target_id = mount_target.id
        self.export_id = export.id
        self.server = mount_target.ip_address
        self.export_path = args.export_path
        self.ready = [export]
        self.register_outputs(
            {
                "fileSystemId": self.file_system_id,
                "mountTargetId": self.mount_target_id,
                "exportId": self.export_id,
                "server": self.server,
            }
        )
