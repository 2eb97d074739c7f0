"""One vLLM replica across nodes on Ray: the KubeRay operator and the RayCluster-backed server, behind the
same door and exposure as single-node replicas."""

from __future__ import annotations

import pulumi

from components.helm import HelmChart
from components.workloads import (
    ServingNamespace,
)
from components.workloads.kuberay_operator import KubeRayOperator, KubeRayOperatorArgs
from components.workloads.ray_vllm import ROLE_LABEL, RayVllmServer, RayVllmServerArgs, RdmaPodAccess
from stacks import catalog
from stacks.builders.exposure import export_endpoint, publish_route
from stacks.builders.front_door import ModelBackend, entry_point, network_policies
from stacks.builders.observability import observe
from stacks.builders.platform import ServingPlatform
from stacks.builders.serving import engine_flags, pod_runtime, server_exposure
from stacks.builders.stores import ModelStores
from stacks.config.common import StackBase
from stacks.config.ray import RayConfig


def kuberay_operator(
    cfg: StackBase, ray: RayConfig, provider: pulumi.ProviderResource, node_selector: dict[str, str],
    depends_on: list[pulumi.Resource] | None = None,
) -> KubeRayOperator | None:  # fmt: skip
    """The KubeRay operator from its official chart, unless config says it is already installed."""
    if not ray.install_operator:
        return None
    return KubeRayOperator(
        f"{cfg.name}-kuberay",
        KubeRayOperatorArgs(
            chart=HelmChart.from_row(catalog.KUBERAY_CHART),
            node_selector=node_selector,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=depends_on or []),
    )


def serve_on_ray(
    cfg: StackBase,
    ray: RayConfig,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    stores: ModelStores,
    *,
    nodes: int,
    gpus_per_node: int,
    nccl_env: dict[str, str],
    rdma: RdmaPodAccess | None,
    operator: KubeRayOperator | None,
) -> RayVllmServer:
    """One vLLM replica over a RayCluster (one pod per GPU node), exposed as config says."""
    model = cfg.models[0]  # a Ray stack serves one model (its variant's check_sections)
    pool = platform.pools[cfg.pool_of(model).name]
    opts = pulumi.ResourceOptions(provider=platform.provider)
    server = RayVllmServer(
        f"{cfg.name}-vllm",
        RayVllmServerArgs(
            engine=engine_flags(model, stores),
            runtime=pod_runtime(model, platform, cpu=ray.cpu, memory=ray.memory,
                                startup_timeout_seconds=ray.startup_timeout_seconds),
            exposure=server_exposure(namespace),
            source=stores.source(model),
            placement=pool.placement,
            nodes=nodes,
            gpus_per_node=gpus_per_node,
            pipeline_parallel_size=ray.pipeline_parallel(nodes),
            dashboard_host=ray.dashboard_host,
            ray_version=ray.ray_version,
            nccl_env={**nccl_env, "NCCL_DEBUG": ray.nccl_debug},
            rdma=rdma,
            operator=operator.release if operator is not None else None,
            wait_for=list(pool.ready),
        ),
        opts=opts,
    )  # fmt: skip
    backends = [ModelBackend(n, server.service_name, server.service_port, server.api_pod_labels) for n in model.names]
    door = entry_point(cfg, platform, namespace, backends, opts)
    network_policies(cfg, namespace, door, server.pod_labels, server.ray_selector, opts)
    export_endpoint(cfg, namespace, door, opts)
    publish_route(cfg, platform, namespace, door, opts)
    observe(cfg, platform, namespace, [server], door, ray_head_labels={**server.pod_labels, ROLE_LABEL: "head"})
    pulumi.export("rayClusterName", server.cluster_name)
    return server
