"""OCI resources outside OKE itself: Object Storage for model weights."""

from components.oci.object_storage import OciModelBucket, OciModelBucketArgs, s3_endpoint

__all__ = ["OciModelBucket", "OciModelBucketArgs", "s3_endpoint"]
