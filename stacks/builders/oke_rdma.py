"""The `oke-rdma` stacks (oci-h100-rdma): one vLLM replica across several bare-metal GPU nodes on OCI's
RDMA cluster network, on Ray, with the weights streamed from an S3-compatible bucket.

The OKE half (network, enhanced cluster, CPU system pool, GPU device plugin) is the same components
the `oke` stacks use; the GPU nodes are RDMA workers (components/oke/rdma.py) in the mode config
picks; the workload is the KubeRay operator and a RayCluster whose head runs `vllm serve` with
tensor parallel inside each node and pipeline parallel across nodes (components/workloads/ray_vllm.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

from components.conventions import POOL_LABEL
from components.oci import OciModelBucket, OciModelBucketArgs
from components.oke import (
    GPU_TAINT_KEY,
    NodeTaint,
    OciStorageClasses,
    OciStorageClassesArgs,
    service_annotations,
)
from components.oke.gpu_enablement import GpuEnablementRecipe, device_plugin_recipe, gpu_operator_recipe
from components.oke.host_ports import RAY_HOST_PORTS
from components.oke.rdma import OkeRdmaWorkers, OkeRdmaWorkersArgs, RdmaIamSettings
from components.workloads import GpuPlacement
from components.workloads.ray_vllm import RdmaPodAccess
from components.workloads.s3_model_store import S3ModelStore
from stacks import catalog
from stacks.builders.kuberay import kuberay_operator, serve_on_ray
from stacks.builders.namespace import secret, serving_namespace
from stacks.builders.oci_provider import warn_placeholders
from stacks.builders.oke_foundation import OkeFoundation, export_foundation, ocir_pull_secrets, oke_foundation
from stacks.builders.oke_offers import describe_image
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.stores import s3_model_store
from stacks.config.base import PLACEHOLDER_TENANCY, PROJECT
from stacks.config.pools import DEFAULT_POOL
from stacks.config.rdma import PLACEHOLDER_IMAGE, S3_KEYS_INSTEAD, OkeRdmaStack, RdmaConfig
from stacks.errors import ConfigError

# rdma.imageOs -> what GetImage reports as the image's operating system.
IMAGE_OS = {"ubuntu": "Ubuntu", "oracleLinux": "Oracle Linux"}


def gpu_recipe(r: RdmaConfig, gpu_plugin_version: str | None) -> GpuEnablementRecipe:
    """How the RDMA nodes' GPUs are advertised, from the image family in config: oci-hpc-oke's Ubuntu GPU
    images need the GPU operator's container toolkit (their driver is preinstalled); Oracle's GPU images
    ship the runtime and only need OKE's device plugin (components/oke/gpu_enablement.py)."""
    if r.image_os == "ubuntu":
        return gpu_operator_recipe(r.gpu_operator_version)
    return device_plugin_recipe(gpu_plugin_version)


def bucket_on_destroy(retained: bool, bucket: pulumi.Input[str]) -> pulumi.Output[str]:
    """What `pulumi destroy` does to the weights bucket, shown in the summary (OCI CLI commands:
    components/oci/object_storage.py; docs/oci-h100-rdma.md "Destroy")."""
    if retained:
        return pulumi.Output.format(
            "KEPT by destroy (retainOnDelete); then: oci os bucket delete --bucket-name {0} --empty --force", bucket
        )
    return pulumi.Output.format(
        "deleted only if empty; first: oci os object bulk-delete --bucket-name {0} --force (+ bulk-delete-versions)",
        bucket,
    )


def check_before_build(cfg: OkeRdmaStack) -> None:
    """Warnings for the committed placeholders and a missing Hugging Face token; before anything is created,
    the RDMA image exists and runs the OS config says (it decides the GPU add-ons)."""
    r = cfg.rdma
    warn_placeholders(
        [(r.image_id, PLACEHOLDER_IMAGE, "rdma.imageId"), (r.iam.tenancy_id, PLACEHOLDER_TENANCY, "rdma.iam.tenancyId")]
    )
    if cfg.secrets.hf_token is None:
        pulumi.log.warn(
            f"secrets.hfToken is not set: the upload Job cannot download gated models such as {cfg.models[0].id} "
            "(pulumi config set --secret --path 'secrets.hfToken' hf_...)"
        )
    if r.image_id != PLACEHOLDER_IMAGE:
        image = describe_image("rdma.imageId", r.image_id)
        if IMAGE_OS[r.image_os] not in image.operating_system:
            raise ConfigError(
                f"{PROJECT}:rdma.imageOs",
                f"is {r.image_os} but rdma.imageId {image.name} runs {image.operating_system}; "
                f"set it to {'ubuntu' if 'Ubuntu' in image.operating_system else 'oracleLinux'}",
            )


def build(cfg: OkeRdmaStack) -> None:
    o, r = cfg.oke, cfg.rdma
    check_before_build(cfg)
    # The Ray pods use the host network (RDMA), out of NetworkPolicy's reach: Ray's ports only between them.
    base = oke_foundation(
        cfg, file_storage=False, gpu_images=[], gpu=gpu_recipe(r, o.gpu_plugin_version), host_only_ports=RAY_HOST_PORTS
    )
    # IAM changes go to the home region.
    home = r.iam.home_region
    iam_provider = (
        oci.Provider(f"{cfg.name}-home-region", region=home) if home is not None and home != o.region else None
    )
    workers = rdma_workers(cfg, base, iam_provider)
    bucket = model_bucket(cfg, base.tags, iam_provider)
    model_store = serve(cfg, base, workers, bucket)
    pulumi.export("modelUri", model_store.model_uri)
    export_foundation(cfg, base)
    pulumi.export("rdmaMode", r.mode)
    pulumi.export("rdmaNodeLabel", f"cluster-network={cfg.network_name}")
    pulumi.export("rdmaPolicyStatements", workers.policy_statements)
    if workers.cluster_network_id is not None:
        pulumi.export("clusterNetworkId", workers.cluster_network_id)
        pulumi.export("instancePoolId", workers.instance_pool_id)
    if workers.compute_cluster_id is not None:
        pulumi.export("computeClusterId", workers.compute_cluster_id)
        pulumi.export("rdmaNodePoolId", workers.node_pool_id)


def rdma_workers(cfg: OkeRdmaStack, base: OkeFoundation, iam_provider: oci.Provider | None) -> OkeRdmaWorkers:
    """The bare-metal GPU nodes on the RDMA network, in the mode config picks, with the IAM they need."""
    r, network = cfg.rdma, base.network
    return OkeRdmaWorkers(
        f"{cfg.name}-rdma",
        OkeRdmaWorkersArgs(
            mode=r.mode,
            cluster=base.cluster,
            network=network,
            shape=r.shape,
            shape_has_rdma=catalog.OCI_GPU_SHAPES[r.shape].rdma,
            node_count=r.node_count,
            image_id=r.image_id,
            availability_domain=r.availability_domain,
            # The Ray pods on these nodes use the host network: the nodes join the host-ports NSG.
            extra_nsg_ids=[network.host_ports_nsg_id] if network.host_ports_nsg_id else [],
            cluster_network_name=cfg.network_name,
            boot_volume_gb=r.boot_volume_gb,
            boot_volume_vpus_per_gb=catalog.RDMA_BOOT_VOLUME_VPUS_PER_GB,
            agent_plugins=dict(catalog.RDMA_AGENT_PLUGINS),
            labels={POOL_LABEL: "gpu", **base.gpu_plugin.node_labels},
            taints=[NodeTaint(GPU_TAINT_KEY)],
            ssh_public_key=r.ssh_public_key,
            iam=RdmaIamSettings(
                create=r.iam.create,
                tenancy_id=r.iam.tenancy_id or "",
                dynamic_group_name=r.iam.dynamic_group_name or f"{cfg.name}-rdma-nodes",
                provider=iam_provider,
            ),
            freeform_tags=base.tags,
        ),
        # No depends_on the system pool: bare-metal hosts take the longest to boot, so they start with the
        # CPU pool (terraform-oci-oke module-workers.tf: every worker pool waits only for IAM). Only what
        # runs on CPU nodes waits for them: the KubeRay operator release and the model upload Job.
    )


@dataclass(frozen=True)
class Bucket:
    """Where the upload Job writes the weights and vLLM streams them from, with the S3 key pair."""

    endpoint: pulumi.Output[str]
    name: pulumi.Input[str]
    region: str
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


def _given_keys(cfg: OkeRdmaStack) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    access_key_id, secret_access_key = cfg.secrets.s3_keys(S3_KEYS_INSTEAD)
    return secret(access_key_id), secret(secret_access_key)


def model_bucket(cfg: OkeRdmaStack, tags: dict[str, str], iam_provider: oci.Provider | None) -> Bucket:
    """The bucket: OCI Object Storage made here, or a bring-your-own S3-compatible endpoint."""
    o, store = cfg.oke, cfg.model_store
    region = store.region or o.region
    if store.endpoint is not None:
        endpoint = pulumi.Output.from_input(store.endpoint.rstrip("/"))
        return Bucket(endpoint, store.bucket or f"{cfg.name}-models", region, *_given_keys(cfg))
    bucket = OciModelBucket(
        f"{cfg.name}-models",
        OciModelBucketArgs(
            compartment_id=store.compartment_id or o.compartment_id,
            region=o.region,
            bucket_name=store.bucket or f"{cfg.name}-models",
            versioning=store.versioning,
            namespace=store.namespace,
            key_user_id=store.key_user_id,
            retain_on_delete=store.retain_on_delete,
            identity_provider=iam_provider,
            freeform_tags=tags,
        ),
    )
    if bucket.access_key_id is not None and bucket.secret_access_key is not None:  # modelStore.keyUserId
        keys = (bucket.access_key_id, bucket.secret_access_key)
    else:
        keys = _given_keys(cfg)
    pulumi.export("objectStorageNamespace", bucket.namespace)
    pulumi.export("modelStoreOnDestroy", bucket_on_destroy(store.retain_on_delete, bucket.bucket_name))
    return Bucket(bucket.endpoint, bucket.bucket_name, region, *keys)


def serve(cfg: OkeRdmaStack, base: OkeFoundation, workers: OkeRdmaWorkers, bucket: Bucket) -> S3ModelStore:
    """The workload on the cluster: the KubeRay operator and the upload Job on the system pool, one vLLM on
    Ray across the RDMA workers behind an OCI load balancer. Returns the model's store (its outputs)."""
    o, r, ray, cluster, system_pool = cfg.oke, cfg.rdma, cfg.ray, base.cluster, base.system_pool
    k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)
    OciStorageClasses(f"{cfg.name}-storage", OciStorageClassesArgs(), opts=k8s_opts)
    # hostNetwork, /dev/infiniband from the host and privileged pods are beyond Pod Security "baseline".
    namespace = serving_namespace(cfg, cluster.provider, pod_security="privileged")
    pull_secrets = ocir_pull_secrets(cfg, namespace, k8s_opts)
    operator = kuberay_operator(cfg, ray, cluster.provider, {POOL_LABEL: "system"}, depends_on=[system_pool])
    model_store, stores = s3_model_store(
        cfg,
        cfg.model_store,
        namespace,
        endpoint=bucket.endpoint,
        bucket=bucket.name,
        region=bucket.region,
        access_key_id=bucket.access_key_id,
        secret_access_key=bucket.secret_access_key,
        # On the system pool: the upload runs while the GPU nodes are still provisioning.
        job_node_selector={POOL_LABEL: "system"},
        # Staging streams through a small emptyDir at the system node's bandwidth; it waits only for the
        # nodes it runs on (and the bucket and key, through its Secret).
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[system_pool]),
    )
    lb = o.load_balancer
    serve_on_ray(
        cfg,
        ray,
        ServingPlatform(
            provider=cluster.provider,
            pools={
                DEFAULT_POOL: GpuPoolTarget(
                    GpuPlacement(node_selector=dict(workers.labels), taint_keys=workers.taint_keys),
                    ready=[*workers.ready, base.gpu_plugin],
                )
            },
            system_node_selector={POOL_LABEL: "system"},
            service_annotations=service_annotations(
                lb.type, min_mbps=lb.min_mbps, max_mbps=lb.max_mbps, idle_timeout_seconds=lb.idle_timeout_seconds
            ),
            image_pull_secrets=pull_secrets,
        ),
        namespace,
        stores,
        nodes=r.node_count,
        gpus_per_node=catalog.OCI_GPU_SHAPES[r.shape].gpus_per_node,
        nccl_env=dict(catalog.NCCL_ENV[r.shape]),
        rdma=RdmaPodAccess(privileged=ray.privileged),
        operator=operator,
    )
    return model_store
