"""The `existing-cluster` stack: the workload half of this program on a cluster you already run.

No cloud resources. Two shapes: OpenShift 4 on VMware ESXi (8 workers x 2 GPUs, KubeRay, vLLM across
all 16 GPUs, a PV model store: Pulumi.existing-cluster.yaml) and Red Hat OpenShift AI with the weights
in S3/MinIO (tests/configs/existing-minio.yaml): one replica per GPU node when the model fits a node, or one replica over a Ray cluster when `ray` is set.
Multi-node traffic goes over TCP sockets (no RDMA here), with NCCL told so.
"""

from __future__ import annotations

import pulumi

from components.conventions import DEFAULT_UID
from components.existing import ExistingCluster, ExistingClusterArgs, NvidiaGpuOperator, NvidiaGpuOperatorArgs
from components.helm import HelmChart
from components.workloads import GpuPlacement
from components.workloads.namespace import ServingNamespace
from stacks import catalog
from stacks.builders.kuberay import kuberay_operator, serve_on_ray
from stacks.builders.namespace import secret, secret_or_none, serving_namespace
from stacks.builders.platform import GpuPoolTarget, ServingPlatform
from stacks.builders.serving import serve
from stacks.builders.stores import ModelStores, claim_model_stores, nfs_model_store, s3_model_store
from stacks.config.existing import S3_KEYS_INSTEAD, ExistingStack, nfs_share, s3_endpoint


def build(cfg: ExistingStack) -> None:
    e = cfg.existing
    uid = None if e.openshift else DEFAULT_UID  # OpenShift's restricted SCC assigns the UID from the namespace range

    cluster = ExistingCluster(
        f"{cfg.name}-cluster",
        ExistingClusterArgs(
            kubeconfig=secret_or_none(cfg.secrets.kubeconfig) if e.kubeconfig == "secret" else None,
            context=e.context,
        ),
    )
    provider = cluster.provider
    opts = pulumi.ResourceOptions(provider=provider)
    gpu_ready: list[pulumi.Resource] = []
    if e.install_gpu_operator:
        gpu_ready.append(
            NvidiaGpuOperator(
                f"{cfg.name}-gpu-operator",
                NvidiaGpuOperatorArgs(
                    chart=HelmChart.from_row(catalog.GPU_OPERATOR_CHART),
                    driver_enabled=e.gpu_operator_driver,
                ),
                opts=opts,
            )
        )

    # KServe: the label the OpenShift AI dashboard puts on its own resources (opendatahub-io/odh-dashboard
    # frontend/src/k8sTypes.ts, KnownLabels.DASHBOARD_RESOURCE), so the namespace shows as a project there.
    namespace = serving_namespace(
        cfg, provider, labels={"opendatahub.io/dashboard": "true"} if e.serving == "kserve" else {}
    )
    stores = _model_stores(cfg, namespace, opts, uid)
    pools = {
        name: GpuPoolTarget(
            GpuPlacement(node_selector=dict(nodes.node_selector), taint_keys=list(nodes.taint_keys)), ready=gpu_ready
        )
        for name, _, nodes in e.named_gpu_pools
    }
    platform = ServingPlatform(
        provider=provider,
        pools=pools,
        run_as_user=uid,
        system_node_selector=dict(e.system_node_selector),
        openshift_route=e.route if e.openshift else None,
    )

    if e.serving == "kserve":
        from stacks.builders.kserve import serve_with_kserve, served_models

        serve_with_kserve(cfg, platform, namespace, served_models(cfg, stores, pools), depends_on=gpu_ready)
    elif cfg.ray is None:
        serve(cfg, platform, namespace, stores)
    else:
        serve_on_ray(
            cfg,
            cfg.ray,
            platform,
            namespace,
            stores,
            nodes=e.gpu_nodes.count,
            gpus_per_node=e.gpu_nodes.gpus_per_node,
            # TCP sockets between nodes: no RDMA devices, no host network (a restricted SCC allows neither).
            nccl_env={**catalog.NCCL_TCP_ENV, "NCCL_SOCKET_IFNAME": e.nccl_socket_ifname},
            rdma=None,
            operator=kuberay_operator(cfg, cfg.ray, provider, dict(e.system_node_selector)),
        )
    pulumi.export("platform", "existing")


def _model_stores(
    cfg: ExistingStack, namespace: ServingNamespace, opts: pulumi.ResourceOptions, uid: int | None
) -> ModelStores:
    store = cfg.model_store
    selector = dict(cfg.existing.system_node_selector)
    if store.kind == "existingClaim":
        stores = claim_model_stores(
            cfg, namespace, store.claim_name, selector, opts, download=store.download,
            download_timeout_minutes=store.download_timeout_minutes, run_as_user=uid,
        )  # fmt: skip
        pulumi.export("modelPath", stores.paths[cfg.models[0].directory])
        return stores
    if store.kind == "nfs":
        server, path = nfs_share(store)
        nfs, stores = nfs_model_store(cfg, store, namespace, server, path, selector, opts, run_as_user=uid)
        pulumi.export("modelPath", nfs.model_path)
        return stores
    access_key_id, secret_access_key = cfg.secrets.s3_keys(S3_KEYS_INSTEAD)
    s3, stores = s3_model_store(
        cfg,
        store,
        namespace,
        endpoint=s3_endpoint(store).rstrip("/"),
        bucket=store.bucket or f"{cfg.name}-models",
        region=store.region or "us-east-1",  # MinIO's default signing region
        access_key_id=secret(access_key_id),
        secret_access_key=secret(secret_access_key),
        job_node_selector=dict(cfg.existing.system_node_selector),
        opts=opts,
        run_as_user=uid,
    )
    pulumi.export("modelUri", s3.model_uri)
    return stores
