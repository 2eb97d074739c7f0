"""The `oci-data-science` stacks: vLLM as an OCI Data Science model deployment. No cluster, no network:
a project, a model whose artifact references the weights already in a versioned Object Storage bucket
("model by reference"), the deployment running the vLLM image from OCIR, its logs, and the IAM its
resource principal needs. Clients sign each request with OCI IAM (no API key to hand out).

Everything the deployment depends on outside the stack is looked up first, so a wrong key is one
ConfigError before anything is created: the shape (`datascience.get_model_deployment_shapes`), the bucket
and its versioning (`objectstorage.get_bucket`), the model's objects and their versions
(`get_objects`, `get_object_versions`).
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

import pulumi
import pulumi_oci as oci

from components.oci_datascience import (
    DataScienceProject,
    ModelDeploymentIam,
    ModelDeploymentIamArgs,
    ReferencedModel,
    ReferencedModelArgs,
    VllmModelDeployment,
    VllmModelDeploymentArgs,
)
from components.oci_datascience.artifact import (
    ObjectVersion,
    StoredObject,
    artifact_location,
    description_bytes,
    model_description,
)
from components.oci_datascience.deployment import (
    PREDICT_ENDPOINT,
    container_environment,
    contract_problem,
    split_image,
    vllm_command,
)
from stacks import catalog
from stacks.builders.oci_provider import check_provider_region, warn_placeholders
from stacks.config.base import PLACEHOLDER_COMPARTMENT, PLACEHOLDER_TENANCY, PROJECT
from stacks.config.ods import DataScienceConfig, DataScienceStack
from stacks.errors import ConfigError

# Where the model description is written for the provider to upload: relative to the project directory
# (where `pulumi up` runs), so the path recorded in state is the same on every machine.
ARTIFACT_DIR = Path("build") / "model-artifacts"
ENTRYPOINT = ["vllm", "serve"]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_shape(ds: DataScienceConfig) -> None:
    """The compartment is offered the shape (ListModelDeploymentShapes)."""
    shapes = oci.datascience.get_model_deployment_shapes(compartment_id=ds.compartment_id).model_deployment_shapes
    offered = sorted(s.name for s in shapes)
    if ds.shape not in offered:
        gpus = [s.name for s in shapes if s.shape_series == "NVIDIA_GPU"]
        raise ConfigError(
            f"{PROJECT}:dataScience.shape",
            f"{ds.shape} is not offered to model deployments in this compartment and region; GPU shapes offered: "
            f"{', '.join(sorted(gpus)) or 'none'} (oci data-science model-deployment-shape list)",
        )


def upload_command(model_id: str, revision: str, bucket: str, namespace: str, prefix: str) -> str:
    """How the weights get into the bucket from any machine with the hf and oci CLIs."""
    local = f"/tmp/{model_id.split('/')[-1]}"
    return (
        f"hf download {shlex.quote(model_id)} --revision {shlex.quote(revision)} --local-dir {local} && "
        f"oci os object bulk-upload --src-dir {local} --prefix {shlex.quote(prefix + '/')} "
        f"--bucket-name {shlex.quote(bucket)} --namespace {namespace}"
    )


def describe_weights(cfg: DataScienceStack, ds: DataScienceConfig, namespace: str) -> dict[str, object]:
    """The model-by-reference description of the weights' objects, or a ConfigError naming the key to fix."""
    bucket, prefix = ds.weights.bucket, cfg.weights_prefix
    try:
        found = oci.objectstorage.get_bucket(name=bucket, namespace=namespace)
    except Exception as exc:  # the provider reports a 404 as a plain invoke error
        raise ConfigError(
            f"{PROJECT}:dataScience.weights.bucket",
            f"bucket {bucket} was not found in namespace {namespace} or is not visible to you ({_first_line(exc)})",
        ) from None
    if found.versioning != "Enabled":
        raise ConfigError(
            f"{PROJECT}:dataScience.weights.bucket",
            f"bucket {bucket} has versioning {found.versioning}; a model by reference pins object versions, so "
            f"enable it (oci os bucket update --bucket-name {bucket} --versioning Enabled) and upload the weights again",
        )
    listing = oci.objectstorage.get_objects(bucket=bucket, namespace=namespace, prefix=f"{prefix}/")
    versions = oci.objectstorage.get_object_versions(
        bucket=bucket, namespace=namespace, prefix=f"{prefix}/", fields="name,etag,size"
    )
    objects = [StoredObject(o.name, o.etag, int(o.size or 0)) for o in listing.objects]
    pinned = [ObjectVersion(v.name, v.etag, v.version_id, bool(v.is_delete_marker)) for v in versions.items]
    if not objects:
        raise ConfigError(
            f"{PROJECT}:dataScience.weights.prefix",
            f"no objects under oci://{bucket}@{namespace}/{prefix}/; upload the weights first: "
            + upload_command(cfg.models[0].id, cfg.models[0].revision, bucket, namespace, prefix),
        )
    try:
        return model_description(namespace, bucket, prefix, objects, pinned)
    except ValueError as exc:
        raise ConfigError(f"{PROJECT}:dataScience.weights.bucket", str(exc)) from None


def write_artifact(stack: str, description: dict[str, object]) -> tuple[str, int]:
    """The description as a file named after its content (a new listing is a new file, hence a new model)."""
    data = description_bytes(description)
    path = ARTIFACT_DIR / stack / f"model_description-{hashlib.sha256(data).hexdigest()[:12]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != data:
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: concurrent runs write the same bytes
    return path.as_posix(), len(data)


def predict_example(url: str, served_model_name: str) -> str:
    """A ready-to-run `oci raw-request` (OCI request signing with the CLI's profile) for one chat completion
    (the llama2 sample's `oci raw-request --http-method POST --target-uri .../predict --request-body`)."""
    body = (
        f'{{"model": "{served_model_name}", "messages": [{{"role": "user", "content": "Say hello."}}], '
        '"max_tokens": 64}'
    )
    return f"oci raw-request --http-method POST --target-uri {url}/predict --request-body '{body}'"


def build(cfg: DataScienceStack) -> None:
    ds, v = cfg.data_science, cfg.models[0]  # one model: DataScienceStack.check_sections
    command, environment = check_before_build(cfg)
    namespace = ds.weights.namespace or oci.objectstorage.get_namespace(compartment_id=ds.compartment_id).namespace
    description = describe_weights(cfg, ds, namespace)
    artifact_path, artifact_size = write_artifact(pulumi.get_stack(), description)
    prefix = cfg.weights_prefix

    tags = {"app": cfg.name, "managed-by": PROJECT}
    iam = deployment_iam(cfg, tags)
    project = DataScienceProject(cfg.name, ds.compartment_id, tags)
    location = artifact_location(namespace, ds.weights.bucket, prefix)
    model = ReferencedModel(
        f"{cfg.name}-weights",
        ReferencedModelArgs(
            compartment_id=ds.compartment_id,
            project_id=project.project_id,
            display_name=f"{v.id}@{v.revision}",
            artifact_path=artifact_path,
            artifact_size=artifact_size,
            artifact_location=location,
            freeform_tags=tags,
        ),
    )
    image, digest = split_image(v.image)
    deployment = VllmModelDeployment(
        f"{cfg.name}-vllm",
        VllmModelDeploymentArgs(
            compartment_id=ds.compartment_id,
            project_id=project.project_id,
            model_id=model.model_id,
            image=image,
            image_digest=digest,
            entrypoint=list(ENTRYPOINT),
            command=command,
            environment=environment,
            port=catalog.DATA_SCIENCE_PORT,
            shape=ds.shape,
            instance_count=v.replicas,
            bandwidth_mbps=ds.bandwidth_mbps,
            maximum_bandwidth_mbps=ds.maximum_bandwidth_mbps,
            log_retention_days=ds.log_retention_days,
            # The image pull and the weights' mount need the policy first; destroy removes the deployment first.
            wait_for=list(iam.ready),
            freeform_tags=tags,
        ),
    )
    pulumi.export("invokeUrl", deployment.url.apply(lambda url: f"{url}/predict"))
    pulumi.export("predictExample", deployment.url.apply(lambda url: predict_example(url, v.name)))
    pulumi.export("predictRoute", f"/predict -> vLLM {PREDICT_ENDPOINT} (OpenAI chat completions)")
    pulumi.export("servedModelName", v.name)
    pulumi.export("modelDeploymentId", deployment.deployment_id)
    pulumi.export("modelId", v.id)
    pulumi.export("dataScienceModelId", model.model_id)
    pulumi.export("modelArtifactLocation", location)
    pulumi.export("logGroupId", deployment.log_group_id)
    pulumi.export("accessLogId", deployment.access_log_id)
    pulumi.export("predictLogId", deployment.predict_log_id)
    pulumi.export("dataSciencePolicyStatements", iam.policy_statements)


def check_before_build(cfg: DataScienceStack) -> tuple[list[str], dict[str, str]]:
    """Before the first resource: the provider's region, the placeholders, the container contract and the
    shape (one-line ConfigErrors). Returns vLLM's command and environment in the deployment."""
    ds, v = cfg.data_science, cfg.models[0]
    check_provider_region("dataScience.region", ds.region)
    warn_placeholders(
        [
            (ds.compartment_id, PLACEHOLDER_COMPARTMENT, "dataScience.compartmentId"),
            (ds.iam.tenancy_id, PLACEHOLDER_TENANCY, "dataScience.iam.tenancyId"),
        ]
    )
    command = vllm_command(
        f"{catalog.DATA_SCIENCE_MODEL_MOUNT}/{cfg.weights_prefix}", v.name, catalog.DATA_SCIENCE_PORT,
        tensor_parallel_size=v.tensor_parallel_size, max_model_len=v.max_model_len,
        gpu_memory_utilization=v.gpu_memory_utilization, dtype=v.dtype, quantization=v.quantization,
        extra_args=list(v.extra_args),
    )  # fmt: skip
    environment = container_environment(v.shm_size_gi)
    if problem := contract_problem(ENTRYPOINT, command, environment):
        raise ConfigError(f"{PROJECT}:models[0].extraArgs", problem)
    check_shape(ds)
    return command, environment


def deployment_iam(cfg: DataScienceStack, tags: dict[str, str]) -> ModelDeploymentIam:
    """The dynamic group of the deployments and their policy (image pull, weights, logs), in the home region."""
    ds = cfg.data_science
    home = ds.iam.home_region
    iam_provider = (
        oci.Provider(f"{cfg.name}-home-region", region=home) if home is not None and home != ds.region else None
    )
    return ModelDeploymentIam(
        f"{cfg.name}-iam",
        ModelDeploymentIamArgs(
            create=ds.iam.create,
            tenancy_id=ds.iam.tenancy_id or "",
            dynamic_group_name=ds.iam.dynamic_group_name or f"{cfg.name}-model-deployments",
            compartment_id=ds.compartment_id,
            repository_compartment_id=ds.iam.repository_compartment_id or ds.compartment_id,
            bucket_compartment_id=ds.weights.compartment_id or ds.compartment_id,
            bucket=ds.weights.bucket,
            provider=iam_provider,
            freeform_tags=tags,
        ),
    )
