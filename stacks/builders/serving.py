"""Single-node vLLM servers, one Deployment per model on its GPU pool, behind the one door; and the parts of
a vLLM server every serving path shares (its engine flags, pod runtime and Service)."""

from __future__ import annotations

import pulumi

from components.conventions import LABEL_PREFIX
from components.workloads import (
    PodRuntime,
    ServerExposure,
    ServingNamespace,
    VllmServer,
    VllmServerArgs,
)
from components.workloads.engine import EngineFlags
from stacks.builders.autoscaling import deployment_replicas, scale_replicas
from stacks.builders.exposure import export_endpoint, publish_route
from stacks.builders.front_door import ModelBackend, entry_point, network_policies
from stacks.builders.namespace import model_k8s_name, model_resource_name
from stacks.builders.observability import observe
from stacks.builders.platform import ServingPlatform
from stacks.builders.stores import ModelStores
from stacks.config.common import StackBase, vllm_memory
from stacks.config.lora import lora_args
from stacks.config.models import ModelEntry

# vLLM listens on 8000 behind the door.
VLLM_PORT = 8000


def serve(
    cfg: StackBase,
    platform: ServingPlatform,
    namespace: ServingNamespace,
    stores: ModelStores,
) -> list[VllmServer]:
    """Deploy one vLLM server per model on its pool, the door in front of them all; export the endpoint."""
    opts = pulumi.ResourceOptions(provider=platform.provider)
    servers: list[VllmServer] = []
    backends: list[ModelBackend] = []
    for i, m in enumerate(cfg.models):
        pool = platform.pools[cfg.pool_of(m).name]
        server = VllmServer(
            model_resource_name(cfg, i, "vllm"),
            VllmServerArgs(
                engine=engine_flags(m, stores),
                # its `memory`, or what the pod needs (stacks/capacity.py)
                runtime=pod_runtime(m, platform, cpu=m.cpu, memory=vllm_memory(cfg, m),
                                    startup_timeout_seconds=m.startup_timeout_seconds),
                exposure=server_exposure(namespace, model_k8s_name(cfg, i)),
                source=stores.source(m),
                placement=pool.placement,
                replicas=deployment_replicas(m),  # none when KEDA owns the count
                pod_annotations={f"{LABEL_PREFIX}/api-key-checksum": namespace.api_key_checksum},
                wait_for=list(pool.ready),
            ),
            opts=opts,
        )  # fmt: skip
        servers.append(server)
        backends += [ModelBackend(n, server.service_name, server.service_port, server.pod_labels) for n in m.names]
    door = entry_point(cfg, platform, namespace, backends, opts)
    # One model: its own pods; several: every vLLM pod of the namespace (the servers' common label).
    server_labels = servers[0].pod_labels if len(servers) == 1 else {"app.kubernetes.io/name": "vllm"}
    network_policies(cfg, namespace, door, server_labels, None, opts)
    export_endpoint(cfg, namespace, door, opts)
    publish_route(cfg, platform, namespace, door, opts)
    monitoring = observe(cfg, platform, namespace, servers, door)
    scale_replicas(cfg, platform, servers, monitoring)
    return servers


def engine_flags(m: ModelEntry, stores: ModelStores) -> EngineFlags:
    """`vllm serve`'s flags for one model, single-node or on Ray (its LoRA adapters from the store)."""
    return EngineFlags(
        served_model_name=m.name,
        tensor_parallel_size=m.tensor_parallel_size,
        max_model_len=m.max_model_len,
        gpu_memory_utilization=m.gpu_memory_utilization,
        dtype=m.dtype,
        quantization=m.quantization,
        extra_args=[*m.extra_args, *lora_args(m.name, m.lora, stores.lora_paths(m))],
    )


def pod_runtime(
    m: ModelEntry, platform: ServingPlatform, *, cpu: str, memory: str, startup_timeout_seconds: int
) -> PodRuntime:
    """How a model's server pods run: its image and shared-memory/drain settings, the sizes the caller
    picks (the model's for a replica, `ray.*` for a Ray pod), the platform's pull secrets and UID."""
    return PodRuntime(
        image=m.image,
        cpu=cpu,
        memory=memory,
        shm_size_gi=m.shm_size_gi,
        startup_timeout_seconds=startup_timeout_seconds,
        termination_grace_period_seconds=m.termination_grace_period_seconds,
        image_pull_secrets=platform.image_pull_secrets,
        run_as_user=platform.run_as_user,
    )


def server_exposure(namespace: ServingNamespace, name: str = "vllm") -> ServerExposure:
    """vLLM answers many routes without its key (components/workloads/entry_point.py): its Service stays
    inside the cluster, behind the entry point."""
    return ServerExposure(
        namespace=namespace.name, api_key_secret_name=namespace.api_key_secret_name, port=VLLM_PORT, name=name
    )
