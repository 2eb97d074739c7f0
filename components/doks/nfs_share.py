"""DigitalOcean Managed NFS share in the cluster's VPC: the single source of model weights."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.doks import sdk as do


@dataclass(frozen=True)
class DoksNfsShareArgs:
    region: str
    vpc_id: pulumi.Input[str]
    size_gb: int
    retain_on_delete: bool = False


class DoksNfsShare(pulumi.ComponentResource):
    share_id: pulumi.Output[str]
    host: pulumi.Output[str]
    mount_path: pulumi.Output[str]

    def __init__(self, name: str, args: DoksNfsShareArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:doks:NfsShare", name, None, opts)
        share = do.Nfs(
            f"{name}-share",
            name=name,
            region=args.region,
            size=args.size_gb,
            vpc_id=args.vpc_id,
            # Kept out of `pulumi destroy` when asked, so downloaded weights survive a rebuild.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete),
        )
        self.share_id = share.id
        self.host = share.host
        self.mount_path = share.mount_path
        self.register_outputs({"shareId": self.share_id, "host": self.host, "mountPath": self.mount_path})
