"""Model weights in an S3-compatible bucket: the credentials Secret, a one-time upload Job (Hugging
Face -> bucket) and the ModelSource that makes vLLM stream the weights straight from the bucket.

Works with any S3-compatible endpoint given its URL and keys: OCI Object Storage's S3 compatibility
API, MinIO, DigitalOcean Spaces. The bucket itself is created elsewhere (e.g. components/oci) or
already exists (a bring-your-own endpoint), unless `create_bucket` asks the Job to make it.

Sources:
- vLLM "Loading models with Run:ai Model Streamer"
  (https://docs.vllm.ai/en/stable/models/extensions/runai_model_streamer/): `--load-format
  runai_streamer`, the model given as `s3://bucket/path`, and for S3-compatible stores
  `RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING=0 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=...`.
  The vllm/vllm-openai image ships `runai-model-streamer[s3]` (vllm docker/Dockerfile).
- run-ai/runai-model-streamer docs/src/env-vars.md: AWS_ENDPOINT_URL is mandatory for S3-compatible
  stores, virtual addressing "should be 0 for reading from compatible object store"; credentials come
  from the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), signed for AWS_REGION.
- OCI "Amazon S3 Compatibility API" (https://docs.oracle.com/en-us/iaas/Content/Object/Tasks/s3compatibleapi.htm):
  "supports only path style URLs", hence path-style everywhere (streamer and the AWS CLI).
- The upload Job follows seed 004's "Downloads from HF, uploads to MinIO" helper Job, made idempotent:
  a marker object ends a finished upload, and `aws s3 sync --size-only` skips objects already there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.workloads.types import LABEL_PREFIX, ModelSource, hugging_face_env, pod_security_context

COMPLETE_MARKER = ".upload-complete"
SCRATCH = "/scratch"

# Secret keys are the AWS SDK's environment variable names, so a container can also `envFrom` it.
ENDPOINT_KEY = "AWS_ENDPOINT_URL"
ACCESS_KEY_ID_KEY = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY_KEY = "AWS_SECRET_ACCESS_KEY"

# Path-style addressing for the AWS CLI (its `s3.addressing_style` setting); a fresh config file in
# the writable /tmp, since the containers run as a non-root user with a read-only image.
_AWS_CONFIG = "printf '[default]\\ns3 =\\n    addressing_style = path\\n' > /tmp/aws-config"

_CHECK_SCRIPT = """\
set -eu
{aws_config}
{make_bucket}if aws s3api head-object --bucket "$BUCKET" --key "$PREFIX/{marker}" >/dev/null 2>&1; then
  echo "s3://$BUCKET/$PREFIX is complete; nothing to upload"
  touch {scratch}/SKIP
fi
"""

_MAKE_BUCKET = (
    'aws s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 || aws s3api create-bucket --bucket "$BUCKET"\n'
)

_DOWNLOAD_SCRIPT = """\
set -eu
if [ -f {scratch}/SKIP ]; then exit 0; fi
pip install --quiet --no-cache-dir --target=/tmp/pip "huggingface_hub=={hub_version}"
export PYTHONPATH=/tmp/pip PATH="/tmp/pip/bin:$PATH"
hf download "$MODEL_ID" --revision "$MODEL_REVISION" --local-dir {scratch}/model
"""

_UPLOAD_SCRIPT = """\
set -eu
if [ -f {scratch}/SKIP ]; then exit 0; fi
{aws_config}
aws s3 sync {scratch}/model "s3://$BUCKET/$PREFIX" --size-only --no-progress --exclude '.cache/*'
date -u +%Y-%m-%dT%H:%M:%SZ | aws s3 cp - "s3://$BUCKET/$PREFIX/{marker}"
echo "model $MODEL_ID@$MODEL_REVISION uploaded to s3://$BUCKET/$PREFIX"
"""


@dataclass(frozen=True)
class S3ModelStoreArgs:
    namespace: pulumi.Input[str]
    endpoint_url: pulumi.Input[str]
    """e.g. https://<namespace>.compat.objectstorage.<region>.oraclecloud.com, http://minio.minio:9000,
    https://<region>.digitaloceanspaces.com."""
    region: str
    """The SigV4 signing region: the OCI region identifier (us-ashburn-1), the Spaces region, or
    us-east-1 for MinIO."""
    bucket: pulumi.Input[str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    model_id: str
    model_revision: str
    model_directory: str
    """Key prefix in the bucket; a new model or revision is a new prefix, never an overwrite."""
    downloader_image: str
    huggingface_hub_version: str
    uploader_image: str
    hf_token_secret_name: pulumi.Input[str] | None = None
    job_node_selector: dict[str, str] = field(default_factory=dict)
    """Where the upload runs: a CPU pool, so it overlaps GPU node provisioning."""
    scratch_size_gi: int = 200
    """Local space for one copy of the model between download and upload."""
    scratch_storage_class: str | None = None
    """Back the scratch space with a volume of this StorageClass (a generic ephemeral volume, deleted
    with the pod); None: the node's ephemeral storage (emptyDir)."""
    create_bucket: bool = False
    """Create the bucket when it is missing (MinIO); cloud buckets are better created by the cloud component."""
    upload_timeout_minutes: int = 120
    streamer_concurrency: int | None = None
    """Run:ai streamer reader threads (`--model-loader-extra-config '{"concurrency": N}'`); None: its default."""
    run_as_user: int | None = 1000
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""
    secret_name: str = "model-store-s3"


class S3ModelStore(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]
    model_uri: pulumi.Output[str]
    job_name: str
    source: ModelSource

    def __init__(self, name: str, args: S3ModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:S3ModelStore", name, None, opts)

        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={
                "name": args.secret_name,
                "namespace": args.namespace,
                "labels": {f"{LABEL_PREFIX}/component": "model-store"},
            },
            type="Opaque",
            # Every value a Pulumi secret: the endpoint too (it names the tenancy's namespace).
            string_data={
                ENDPOINT_KEY: pulumi.Output.secret(args.endpoint_url),
                ACCESS_KEY_ID_KEY: pulumi.Output.secret(args.access_key_id),
                SECRET_ACCESS_KEY_KEY: pulumi.Output.secret(args.secret_access_key),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret_name = secret.metadata.apply(lambda m: m.name or args.secret_name)

        def from_secret(key: str) -> k8s.core.v1.EnvVarArgsDict:
            return {"name": key, "value_from": {"secret_key_ref": {"name": secret_name, "key": key}}}

        s3_env: list[k8s.core.v1.EnvVarArgsDict] = [
            {"name": "BUCKET", "value": args.bucket},
            {"name": "PREFIX", "value": args.model_directory},
            {"name": "AWS_DEFAULT_REGION", "value": args.region},
            {"name": "AWS_CONFIG_FILE", "value": "/tmp/aws-config"},
            # OCI rejects the CRC checksums and aws-chunked uploads newer AWS clients default to.
            {"name": "AWS_REQUEST_CHECKSUM_CALCULATION", "value": "when_required"},
            {"name": "AWS_RESPONSE_CHECKSUM_VALIDATION", "value": "when_required"},
            {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
            {"name": "HOME", "value": "/tmp"},
            from_secret(ENDPOINT_KEY),
            from_secret(ACCESS_KEY_ID_KEY),
            from_secret(SECRET_ACCESS_KEY_KEY),
        ]
        hf_env = hugging_face_env(args.model_id, args.model_revision, args.hf_token_secret_name)
        security: k8s.core.v1.SecurityContextArgsDict = {
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
        mounts: list[k8s.core.v1.VolumeMountArgsDict] = [
            {"name": "scratch", "mount_path": SCRATCH},
            {"name": "tmp", "mount_path": "/tmp"},
        ]
        fmt = {
            "scratch": SCRATCH,
            "marker": COMPLETE_MARKER,
            "aws_config": _AWS_CONFIG,
            "hub_version": args.huggingface_hub_version,
            "make_bucket": _MAKE_BUCKET if args.create_bucket else "",
        }

        def container(
            role: str, image: str, script: str, env: list[k8s.core.v1.EnvVarArgsDict], memory: tuple[str, str]
        ) -> k8s.core.v1.ContainerArgsDict:
            request, limit = memory  # the API server rejects a request above the limit
            return {
                "name": role,
                "image": image,
                "command": ["/bin/sh", "-c"],
                "args": [script.format(**fmt)],
                "env": env,
                "resources": {"requests": {"cpu": "500m", "memory": request}, "limits": {"memory": limit}},
                "security_context": security,
                "volume_mounts": mounts,
            }

        if args.scratch_storage_class is not None:
            scratch: k8s.core.v1.VolumeArgsDict = {
                "name": "scratch",
                "ephemeral": {
                    "volume_claim_template": {
                        "spec": {
                            "access_modes": ["ReadWriteOnce"],
                            "storage_class_name": args.scratch_storage_class,
                            "resources": {"requests": {"storage": f"{args.scratch_size_gi}Gi"}},
                        }
                    }
                },
            }
        else:
            scratch = {"name": "scratch", "empty_dir": {"size_limit": f"{args.scratch_size_gi}Gi"}}

        digest = hashlib.sha256(f"{args.model_id}@{args.model_revision}".encode()).hexdigest()[:10]
        labels = {f"{LABEL_PREFIX}/component": "model-upload"}
        self.job_name = f"model-upload-{digest}"
        job = k8s.batch.v1.Job(
            f"{name}-upload",
            metadata={"name": self.job_name, "namespace": args.namespace, "labels": labels},
            spec={
                "backoff_limit": 4,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "restart_policy": "Never",
                        "node_selector": args.job_node_selector,
                        "automount_service_account_token": False,
                        "security_context": pod_security_context(args.run_as_user),
                        # check (marker present?) -> download (HF) -> upload (sync, then the marker).
                        "init_containers": [
                            container("check", args.uploader_image, _CHECK_SCRIPT, s3_env, ("256Mi", "512Mi")),
                            container("download", args.downloader_image, _DOWNLOAD_SCRIPT, hf_env, ("1Gi", "4Gi")),
                        ],
                        "containers": [
                            container(
                                "upload", args.uploader_image, _UPLOAD_SCRIPT, [*s3_env, *hf_env[:2]], ("1Gi", "2Gi")
                            )
                        ],
                        "volumes": [scratch, {"name": "tmp", "empty_dir": {"size_limit": "10Gi"}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[secret],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.upload_timeout_minutes}m"),
            ),
        )

        model_uri = pulumi.Output.concat("s3://", args.bucket, "/", args.model_directory)
        stream_args = ["--load-format", "runai_streamer"]
        if args.streamer_concurrency is not None:
            stream_args += ["--model-loader-extra-config", json.dumps({"concurrency": args.streamer_concurrency})]
        self.secret_name = secret_name
        self.model_uri = model_uri
        self.source = ModelSource(
            model=model_uri,
            env=[
                from_secret(ENDPOINT_KEY),
                from_secret(ACCESS_KEY_ID_KEY),
                from_secret(SECRET_ACCESS_KEY_KEY),
                {"name": "AWS_REGION", "value": args.region},
                {"name": "AWS_DEFAULT_REGION", "value": args.region},
                {"name": "RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING", "value": "0"},
                {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
            ],
            args=stream_args,
            ready=[job],
        )
        self.register_outputs({"secretName": self.secret_name, "modelUri": self.model_uri})
