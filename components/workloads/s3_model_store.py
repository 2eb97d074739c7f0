"""Model weights in an S3-compatible bucket: the credentials Secret, a one-time staging Job (Hugging
Face -> bucket) and the ModelSource that makes vLLM stream the weights straight from the bucket.

Works with any S3-compatible endpoint given its URL and keys: OCI Object Storage's S3 compatibility
API, MinIO, DigitalOcean Spaces. The bucket itself is created elsewhere (e.g. components/oci) or
already exists (a bring-your-own endpoint), unless `create_bucket` asks the Job to make it.

Staging streams file by file, so it runs at the network's rate and needs no volume the size of the
model: a `download` container fetches a few files at a time (Hugging Face's Xet high-performance mode)
while an `upload` container moves each finished file to the bucket (parallel multipart) and deletes it.
Local space is a small emptyDir bounded by `MAX_FILES_ON_DISK`; the kubelet removes an emptyDir when
its pod terminates (kubernetes pkg/kubelet/volumemanager/populator/desired_state_of_world_populator.go,
findAndRemoveDeletedPods: volumes of a pod whose containers all terminated leave the desired state and
are torn down; pkg/volume/emptydir/empty_dir.go TearDownAt removes the directory). A volume claim would
not go: a generic ephemeral volume's claim is deleted only with its pod ("When the Pod is deleted, the
Kubernetes garbage collector deletes the PVC", kubernetes.io/docs/concepts/storage/ephemeral-volumes/)
and a completed Job keeps its pods ("When a Job completes, no more Pods are created, but the Pods are
usually not deleted either", kubernetes.io/docs/concepts/workloads/controllers/job/). The Job itself
stays (no ttlSecondsAfterFinished), so `pulumi refresh` still finds it and the next `up` does not
recreate it.

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
- huggingface_hub 2.4.0 constants.py: HF_XET_HIGH_PERFORMANCE, "high performance transfer with Xet"
  (https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hfxethighperformance).
- AWS CLI S3 configuration (https://docs.aws.amazon.com/cli/latest/topic/s3-config.html):
  max_concurrent_requests (default 10) and multipart_chunksize (default 8MB).
- Idempotent: a marker object ends a finished upload, and objects already in the bucket are not
  fetched again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.workloads.types import ModelDownload, ModelSource, hugging_face_env, pod_security_context

COMPLETE_MARKER = ".upload-complete"
SCRATCH = "/scratch"
FILES_PER_BATCH = 4
"""Files one `hf download` fetches at once (its --max-workers)."""
MAX_FILES_ON_DISK = 8
"""Files on local disk at most (a batch downloading + finished ones waiting for the uploader)."""
UPLOAD_CONCURRENCY = 32
UPLOAD_CHUNK_MB = 64

# Secret keys are the AWS SDK's environment variable names, so a container can also `envFrom` it.
ENDPOINT_KEY = "AWS_ENDPOINT_URL"
ACCESS_KEY_ID_KEY = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY_KEY = "AWS_SECRET_ACCESS_KEY"


def aws_config_command(concurrency: int = UPLOAD_CONCURRENCY, chunk_mb: int = UPLOAD_CHUNK_MB) -> str:
    """Write the AWS CLI config: path-style addressing and parallel multipart transfers. OCI allows
    10,000 parts per object, so 64 MB parts cover objects up to 640 GB."""
    return (
        "printf '[default]\\ns3 =\\n    addressing_style = path\\n"
        f"    max_concurrent_requests = {concurrency}\\n    multipart_chunksize = {chunk_mb}MB\\n'"
        ' > "$AWS_CONFIG_FILE"'
    )


def check_script(scratch: str, marker: str, create_bucket: bool) -> str:
    """Init container: a finished upload (its marker object) skips everything; else list what an earlier
    try already uploaded (a PUT or a completed multipart upload is atomic: every listed object is whole)."""
    make_bucket = (
        'aws s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 || aws s3api create-bucket --bucket "$BUCKET"\n'
        if create_bucket
        else ""
    )
    return f"""\
set -eu
{aws_config_command()}
{make_bucket}if aws s3api head-object --bucket "$BUCKET" --key "$PREFIX/{marker}" >/dev/null 2>&1; then
  echo "s3://$BUCKET/$PREFIX is complete; nothing to upload"
  touch {scratch}/SKIP
  exit 0
fi
aws s3api list-objects-v2 --bucket "$BUCKET" --prefix "$PREFIX/" --query 'Contents[].Key' --output text \\
  | tr '\\t' '\\n' | sed -n "s|^$PREFIX/||p" > {scratch}/present
echo "$(wc -l < {scratch}/present) object(s) already in s3://$BUCKET/$PREFIX"
"""


def download_script(scratch: str, hub_version: str, batch: int = FILES_PER_BATCH, room: int = MAX_FILES_ON_DISK) -> str:
    """The download container: every file of the revision but `original/` (vLLM skips it: LoadConfig
    ignore_patterns ["original/**/*"], vllm 0.33.0 vllm/config/load.py) and what the bucket has, `batch`
    files per `hf download`, waiting while the uploader has not made room. Leaves DOWNLOADED when done,
    FAILED when not (the uploader stops on it)."""
    return f"""\
set -eu
if [ -f {scratch}/SKIP ]; then exit 0; fi
trap '[ -f {scratch}/DOWNLOADED ] || touch {scratch}/FAILED' EXIT
pip install --quiet --no-cache-dir --target=/tmp/pip "huggingface_hub=={hub_version}"
export PYTHONPATH=/tmp/pip PATH="/tmp/pip/bin:$PATH"
mkdir -p {scratch}/model
touch {scratch}/present
python3 -c 'import os; from huggingface_hub import list_repo_files; print("\\n".join(list_repo_files(os.environ["MODEL_ID"], revision=os.environ["MODEL_REVISION"])))' \\
  > {scratch}/files
grep -v '^original/' {scratch}/files | grep -vxF -f {scratch}/present > {scratch}/todo || true
echo "$(wc -l < {scratch}/todo) file(s) to stage"
on_disk() {{ find {scratch}/model -type f -not -path '*/.cache/*' | wc -l; }}
fetch() {{
  while [ "$(on_disk)" -gt $(({room} - $#)) ]; do
    if [ -f {scratch}/FAILED ]; then echo "upload failed; stopping"; exit 1; fi
    sleep 2
  done
  hf download "$MODEL_ID" "$@" --revision "$MODEL_REVISION" --local-dir {scratch}/model --max-workers {batch} < /dev/null
}}
set --
while read -r file; do
  set -- "$@" "$file"
  if [ $# -ge {batch} ]; then fetch "$@"; set --; fi
done < {scratch}/todo
if [ $# -gt 0 ]; then fetch "$@"; fi
touch {scratch}/DOWNLOADED
"""


def upload_script(scratch: str, marker: str) -> str:
    """The upload container: move every finished file to the bucket as it lands (`hf download` renames
    a file into place when whole; partial files live under .cache/), delete it locally, and write the
    marker once the download is done and nothing is left. Leaves FAILED on error (the downloader stops)."""
    return f"""\
set -eu
if [ -f {scratch}/SKIP ]; then exit 0; fi
trap '[ -f {scratch}/UPLOADED ] || touch {scratch}/FAILED' EXIT
{aws_config_command()}
mkdir -p {scratch}/model
while :; do
  if [ -f {scratch}/FAILED ]; then echo "download failed; stopping"; exit 1; fi
  done_downloading=0
  if [ -f {scratch}/DOWNLOADED ]; then done_downloading=1; fi
  if [ -n "$(find {scratch}/model -type f -not -path '*/.cache/*' | head -n 1)" ]; then
    aws s3 mv {scratch}/model "s3://$BUCKET/$PREFIX" --recursive --exclude '.cache/*' --no-progress
  fi
  if [ "$done_downloading" = 1 ]; then break; fi
  sleep 2
done
date -u +%Y-%m-%dT%H:%M:%SZ | aws s3 cp - "s3://$BUCKET/$PREFIX/{marker}"
touch {scratch}/UPLOADED
echo "model $MODEL_ID@$MODEL_REVISION staged in s3://$BUCKET/$PREFIX"
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
    model: ModelDownload
    """`model_directory` is the key prefix in the bucket. The Job runs on `job_node_selector`, whose network
    bandwidth is the staging rate (OCI flexible VMs get bandwidth per OCPU)."""
    uploader_image: str
    scratch_size_gi: int = 100
    """Node-local space (emptyDir) for the files in flight: MAX_FILES_ON_DISK of the model's largest files."""
    transfer_cpu: str = "2"
    """CPU request of each transfer container: TLS, hashing and Xet decoding at network rate need cores."""
    create_bucket: bool = False
    """Create the bucket when it is missing (MinIO); cloud buckets are better created by the cloud component."""
    upload_timeout_minutes: int = 120
    streamer_concurrency: int | None = None
    """Run:ai streamer reader threads (`--model-loader-extra-config '{"concurrency": N}'`); None: its default."""
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID; None lets the platform assign one (OpenShift's restricted SCC does)."""
    secret_name: str = "model-store-s3"


def from_secret(secret_name: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgsDict:
    return {"name": key, "value_from": {"secret_key_ref": {"name": secret_name, "key": key}}}


def staging_env(
    args: S3ModelStoreArgs, secret_name: pulumi.Input[str]
) -> tuple[list[k8s.core.v1.EnvVarArgsDict], list[k8s.core.v1.EnvVarArgsDict]]:
    """The staging containers' environment: the bucket side (AWS CLI) and the Hugging Face side."""
    s3_env: list[k8s.core.v1.EnvVarArgsDict] = [
        {"name": "BUCKET", "value": args.bucket},
        {"name": "PREFIX", "value": args.model.model_directory},
        {"name": "AWS_DEFAULT_REGION", "value": args.region},
        {"name": "AWS_CONFIG_FILE", "value": "/tmp/aws-config"},
        # OCI rejects the CRC checksums and aws-chunked uploads newer AWS clients default to.
        {"name": "AWS_REQUEST_CHECKSUM_CALCULATION", "value": "when_required"},
        {"name": "AWS_RESPONSE_CHECKSUM_VALIDATION", "value": "when_required"},
        {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
        {"name": "HOME", "value": "/tmp"},
        from_secret(secret_name, ENDPOINT_KEY),
        from_secret(secret_name, ACCESS_KEY_ID_KEY),
        from_secret(secret_name, SECRET_ACCESS_KEY_KEY),
    ]
    hf_env: list[k8s.core.v1.EnvVarArgsDict] = [
        *hugging_face_env(args.model),
        # Xet's high-performance mode (more parallel range requests, all cores), and no local chunk
        # cache: a one-pass copy never reads a chunk twice (huggingface_hub environment variables).
        {"name": "HF_XET_HIGH_PERFORMANCE", "value": "1"},
        {"name": "HF_XET_CHUNK_CACHE_SIZE_BYTES", "value": "0"},
    ]
    return s3_env, hf_env


def _transfer_container(
    role: str, image: str, script: str, env: list[k8s.core.v1.EnvVarArgsDict], cpu: str, memory: tuple[str, str]
) -> k8s.core.v1.ContainerArgsDict:
    request, limit = memory  # the API server rejects a request above the limit
    return {
        "name": role,
        "image": image,
        "command": ["/bin/sh", "-c"],
        "args": [script],
        "env": env,
        "resources": {"requests": {"cpu": cpu, "memory": request}, "limits": {"memory": limit}},
        "security_context": {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]}},
        "volume_mounts": [{"name": "scratch", "mount_path": SCRATCH}, {"name": "tmp", "mount_path": "/tmp"}],
    }


def staging_pod_spec(args: S3ModelStoreArgs, secret_name: pulumi.Input[str]) -> k8s.core.v1.PodSpecArgsDict:
    """The staging pod: check (finished? what is there?), then download and upload side by side through a
    small node-local scratch volume, gone with the pod's termination (module docstring)."""
    s3_env, hf_env = staging_env(args, secret_name)
    check = check_script(SCRATCH, COMPLETE_MARKER, args.create_bucket)
    return {
        "restart_policy": "Never",
        "node_selector": args.model.job_node_selector,
        "automount_service_account_token": False,
        "security_context": pod_security_context(args.run_as_user),
        "init_containers": [
            _transfer_container("check", args.uploader_image, check, s3_env, "100m", ("256Mi", "512Mi")),
        ],
        "containers": [
            _transfer_container(
                "download",
                args.model.downloader_image,
                download_script(SCRATCH, args.model.huggingface_hub_version),
                hf_env,
                args.transfer_cpu,
                ("2Gi", "4Gi"),
            ),
            _transfer_container(
                "upload",
                args.uploader_image,
                upload_script(SCRATCH, COMPLETE_MARKER),
                [*s3_env, *hf_env[:2]],
                args.transfer_cpu,
                # UPLOAD_CONCURRENCY parts of UPLOAD_CHUNK_MB in flight: ~2 GB of buffers.
                ("3Gi", "4Gi"),
            ),
        ],
        "volumes": [
            {"name": "scratch", "empty_dir": {"size_limit": f"{args.scratch_size_gi}Gi"}},
            {"name": "tmp", "empty_dir": {"size_limit": "10Gi"}},
        ],
    }


def streamer_settings(
    args: S3ModelStoreArgs, secret_name: pulumi.Input[str]
) -> tuple[list[k8s.core.v1.EnvVarArgsDict], list[str]]:
    """What vLLM needs to stream the weights from the bucket: the Run:ai streamer's environment and flags."""
    env: list[k8s.core.v1.EnvVarArgsDict] = [
        from_secret(secret_name, ENDPOINT_KEY),
        from_secret(secret_name, ACCESS_KEY_ID_KEY),
        from_secret(secret_name, SECRET_ACCESS_KEY_KEY),
        {"name": "AWS_REGION", "value": args.region},
        {"name": "AWS_DEFAULT_REGION", "value": args.region},
        {"name": "RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING", "value": "0"},
        {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
    ]
    flags = ["--load-format", "runai_streamer"]
    if args.streamer_concurrency is not None:
        flags += ["--model-loader-extra-config", json.dumps({"concurrency": args.streamer_concurrency})]
    return env, flags


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

        labels = {f"{LABEL_PREFIX}/component": "model-upload"}
        self.job_name = f"model-upload-{args.model.digest()}"
        job = k8s.batch.v1.Job(
            f"{name}-upload",
            metadata={"name": self.job_name, "namespace": args.namespace, "labels": labels},
            spec={
                "backoff_limit": 4,
                "template": {"metadata": {"labels": labels}, "spec": staging_pod_spec(args, secret_name)},
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[secret],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.upload_timeout_minutes}m"),
            ),
        )

        env, flags = streamer_settings(args, secret_name)
        self.secret_name = secret_name
        self.model_uri = pulumi.Output.concat("s3://", args.bucket, "/", args.model.model_directory)
        self.source = ModelSource(model=self.model_uri, env=env, args=flags, ready=[job])
        self.register_outputs({"secretName": self.secret_name, "modelUri": self.model_uri})
