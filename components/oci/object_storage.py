"""An OCI Object Storage bucket for model weights and the S3-compatible access to it.

- Bucket: private (`NoPublicAccess`). Versioning is passed as the API takes it: "Allowed Create values:
  Enabled, Disabled. Allowed Update values: Enabled, Suspended" (pulumi_oci objectstorage.Bucket
  `versioning`, from terraform-provider-oci's objectstorage_bucket docs; Oracle, "Managing Object
  Versioning": "Versioning can't be disabled after it is enabled on a bucket. Versioning can only be
  suspended",
  https://docs.oracle.com/en-us/iaas/Content/Object/Tasks/usingversioning_topic-To_enable_object_versioning_after_bucket_creation.htm).
- Destroy: OCI deletes only an empty bucket (`oci os bucket delete`: "Deletes a bucket if the bucket is
  already empty", https://docs.oracle.com/iaas/tools/oci-cli/latest/oci_cli_docs/cmdref/os/bucket/delete.html),
  and the stack fills it, so `retain_on_delete` is the caller's way to let `pulumi destroy` finish.
- Customer secret key: "an Oracle-provided key for using the Object Storage Service's Amazon S3
  compatible API ... a secret key/access key pair. A user can have up to two secret keys at a time"
  (OCI CLI reference, iam customer-secret-key). Its `id` is the access key, its `key` the secret key
  (OCI Ruby SDK CustomerSecretKey model); pulumi_oci 5.5.0 does not mark `key` secret, so it is
  marked here (and in state) with additional_secret_outputs.
- Endpoint: https://<namespace>.compat.objectstorage.<region>.oraclecloud.com, path-style only
  (OCI "Amazon S3 Compatibility API",
  https://docs.oracle.com/en-us/iaas/Content/Object/Tasks/s3compatibleapi.htm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_oci as oci


def s3_endpoint(namespace: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("https://", namespace, ".compat.objectstorage.", region, ".oraclecloud.com")


@dataclass(frozen=True)
class OciModelBucketArgs:
    compartment_id: pulumi.Input[str]
    region: str
    """OCI region identifier (us-ashburn-1): the endpoint's host and the SigV4 signing region."""
    bucket_name: str
    versioning: Literal["Enabled", "Disabled", "Suspended"] = "Disabled"
    """Keep object versions (a re-upload never loses the previous weights; costs storage). Disabled only
    at creation: to turn versioning off later, Suspended."""
    namespace: pulumi.Input[str] | None = None
    """The tenancy's Object Storage namespace; looked up when None."""
    key_user_id: pulumi.Input[str] | None = None
    """User OCID that owns the customer secret key; None: no key is created (bring your own)."""
    retain_on_delete: bool = True
    """Keep the bucket (and the weights) when the stack is destroyed; False: destroy fails unless it is empty."""
    identity_provider: pulumi.ProviderResource | None = None
    """Provider for the key (an IAM resource, created in the home region); None: the default."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class OciModelBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    region: str
    access_key_id: pulumi.Output[str] | None
    secret_access_key: pulumi.Output[str] | None

    def __init__(self, name: str, args: OciModelBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oci:ModelBucket", name, None, opts)
        if args.namespace is not None:
            namespace = pulumi.Output.from_input(args.namespace)
        else:
            namespace = oci.objectstorage.get_namespace_output(
                compartment_id=args.compartment_id, opts=pulumi.InvokeOutputOptions(parent=self)
            ).namespace

        bucket = oci.objectstorage.Bucket(
            f"{name}-bucket",
            compartment_id=args.compartment_id,
            namespace=namespace,
            name=args.bucket_name,
            access_type="NoPublicAccess",
            versioning=args.versioning,
            freeform_tags=args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete),
        )

        self.access_key_id = None
        self.secret_access_key = None
        if args.key_user_id is not None:
            key = oci.identity.CustomerSecretKey(
                f"{name}-s3-key",
                display_name=f"{name}-s3-model-store",
                user_id=args.key_user_id,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.identity_provider, additional_secret_outputs=["key"]
                ),
            )
            self.access_key_id = key.id
            self.secret_access_key = pulumi.Output.secret(key.key)

        self.bucket_name = bucket.name
        self.namespace = namespace
        self.region = args.region
        self.endpoint = s3_endpoint(namespace, args.region)
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "endpoint": self.endpoint,
                "accessKeyId": self.access_key_id,
                "secretAccessKey": self.secret_access_key,
            }
        )
