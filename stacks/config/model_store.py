"""The `modelStore` section: where a stack keeps the weights. Each platform's variant of the stack config
types its `model_store` with the kinds it supports (stacks/config/doks.py, oke.py, rdma.py, existing.py)."""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import Field

from stacks.config.base import CompartmentOcid, DnsLabel, ObjectStorageNamespace, Section, UserOcid
from stacks.config.syntax import AbsolutePath, Server


class NfsModelStoreConfig(Section):
    kind: Literal["nfs"] = "nfs"
    server: Server | None = Field(
        None,
        description="NFS server of a share that already exists (platform existing). Default: the share the stack creates.",
    )
    path: AbsolutePath | None = Field(
        None,
        description="Export path on `server` (platform existing). Default: the created share's.",
    )
    size_gb: int = Field(1000, ge=50, le=16384, description="Size of the NFS share in GB. Default: 1000.")
    retain_on_delete: bool = Field(
        False,
        description="Keep the share (and the downloaded weights) when the stack is destroyed. Default: false.",
    )
    download_timeout_minutes: int = Field(
        60, ge=5, le=1440, description="How long `pulumi up` waits for the model download Job. Default: 60."
    )


class ExistingClaimModelStoreConfig(Section):
    kind: Literal["existingClaim"] = "existingClaim"
    claim_name: DnsLabel = Field(
        description="The PersistentVolumeClaim in the serving namespace that holds the weights."
    )
    download: bool = Field(
        True,
        description="Fill the claim from Hugging Face with the download Job; false when the weights were copied in "
        "another way (e.g. a loader pod). Default: true.",
    )
    download_timeout_minutes: int = Field(
        60, ge=5, le=1440, description="How long `pulumi up` waits for the model download Job. Default: 60."
    )


class S3ModelStoreConfig(Section):
    kind: Literal["s3"] = "s3"
    endpoint: str | None = Field(
        None,
        pattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?/?$",
        description="S3-compatible endpoint of an existing bucket (MinIO, DigitalOcean Spaces, ...), with keys in "
        "secrets.s3AccessKeyId / secrets.s3SecretAccessKey. Default: an OCI Object Storage bucket this stack "
        "creates (https://<namespace>.compat.objectstorage.<region>.oraclecloud.com).",
    )
    region: str | None = Field(
        None, pattern=r"^[a-z0-9-]+$", description="SigV4 signing region. Default: oke.region (us-east-1 for MinIO)."
    )
    bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$",
        description="Bucket name. Default: <name>-models.",
    )
    create_bucket: bool = Field(
        False, description="With endpoint: create the bucket when missing (the upload Job does). Default: false."
    )
    versioning: Literal["Enabled", "Disabled", "Suspended"] = Field(
        "Disabled",
        description="OCI bucket object versioning, as the API takes it: Enabled or Disabled when the bucket is "
        'created; once it was Enabled it can only be Suspended, never Disabled again (Oracle, "Managing Object '
        'Versioning"). Default: Disabled.',
    )
    key_user_id: UserOcid | None = Field(
        None,
        description="OCI user OCID that gets a customer secret key (S3 access key pair) for the bucket. Default: "
        "none; then secrets.s3AccessKeyId and secrets.s3SecretAccessKey are required.",
    )
    namespace: ObjectStorageNamespace | None = Field(
        None,
        description="The tenancy's Object Storage namespace (`oci os ns get`). Default: looked up.",
    )
    compartment_id: CompartmentOcid | None = Field(
        None, description="Compartment of the OCI bucket. Default: oke.compartmentId."
    )
    retain_on_delete: bool = Field(
        True,
        description="Keep the OCI bucket (and the weights) when the stack is destroyed: OCI refuses to delete a "
        "bucket that still holds objects, so with false empty it before `pulumi destroy` (docs/oci-h100-rdma.md). "
        "Default: true.",
    )
    scratch_size_gb: int = Field(
        100,
        ge=10,
        le=32768,
        description="Node-local space for the files the staging Job has in flight (8 of the model's largest "
        "files; the model streams through, file by file). Default: 100.",
    )
    upload_timeout_minutes: int = Field(
        240, ge=10, le=1440, description="How long `pulumi up` waits for the upload Job. Default: 240."
    )
    streamer_concurrency: int | None = Field(
        None, ge=1, le=256, description="Run:ai streamer reader threads. Default: the streamer's."
    )


ModelStore = NfsModelStoreConfig | S3ModelStoreConfig | ExistingClaimModelStoreConfig
"""Every kind of model store some platform supports."""
STORE_KINDS = tuple(m.model_fields["kind"].default for m in typing.get_args(ModelStore))
"""Their `kind` tags (the discriminated union's tags, which are not keys the user wrote)."""


def created_share(store: NfsModelStoreConfig, platform: str) -> NfsModelStoreConfig:
    """A platform that creates its NFS share (doks, oke) takes no server or path of another."""
    if store.server or store.path:
        raise ValueError(f"server: platform {platform} creates its NFS share; leave server and path unset")
    return store
