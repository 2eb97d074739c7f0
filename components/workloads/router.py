"""The front door: one OpenAI endpoint for every model of the stack.

Each pod of the door runs three containers:

- nginx (the entry point's config, components/workloads/entry_point.py): the only listener clients
  reach. It forwards `/v1/` and nothing else, checks the door's API keys (401 before anything behind it
  sees the request) and sends vLLM's own key upstream. It stays because the router has neither: the
  router answers its worker-management API (`/workers`, `/add_worker`, `/remove_worker`, `/flush_cache`)
  on the same port as the OpenAI routes, and its only client authentication is
  `--api-key-validation-urls`, an external service it asks about every token (vllm-project/router
  src/server.rs `build_app_with_wasm_middleware`, `authorize_request`; PyPI vllm-router 0.1.17).
- vllm-router, bound to 127.0.0.1 (so its management API is reachable only inside the pod), in its
  multi-model mode (`--enable-igw`): a request goes to a replica of the model its `model` field names,
  and among that model's replicas the `cache_aware` policy keeps a shared prefix on one replica
  (src/routers/router_manager.rs, src/policies/cache_aware.rs). Its Prometheus metrics listen on the
  pod's address (`--prometheus-host 0.0.0.0`).
- the worker sync (components/workloads/router_sync.py): registers every ready replica of every model
  with the router (a headless Service per model gives the replicas' addresses).

Long generations: the router's `--request-timeout-secs` bounds a whole request, streaming included
(src/server.rs: the reqwest client's `timeout`), so it is set to an hour; nginx's read timeout is
between two chunks of a stream.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import DEFAULT_UID, LABEL_PREFIX
from components.workloads.api_service import budgeted_service
from components.workloads.entry_point import HEALTH_PORT, PROXY_PORT, REDIRECT_PORT, door_keys_conf, nginx_config
from components.workloads.types import pod_security_context

ROUTER_PORT = 30000
"""vllm-router's default port; on the pod's loopback only."""
ROUTER_METRICS_PORT = 29000
"""vllm-router's default Prometheus port (README "Metrics")."""
METRICS_PORT_NAME = "metrics"
"""The router container's port name for it (what a PodMonitor selects)."""
SYNC_SCRIPT = Path(__file__).with_name("router_sync.py")
KEYS_DIR = "/etc/nginx-keys"
SYNC_DIR = "/etc/router-sync"


def router_args(
    *,
    port: int = ROUTER_PORT,
    metrics_port: int = ROUTER_METRICS_PORT,
    policy: str = "cache_aware",
    request_timeout_seconds: int = 3600,
) -> list[str]:
    """The router's command line (flags of vllm-router 0.1.17's launcher, src/main.rs and
    py_src/vllm_router/router_args.py)."""
    return [
        "--host", "127.0.0.1",
        "--port", str(port),
        "--enable-igw",
        "--policy", policy,
        "--prometheus-host", "0.0.0.0",
        "--prometheus-port", str(metrics_port),
        "--request-timeout-secs", str(request_timeout_seconds),
    ]  # fmt: skip


@dataclass(frozen=True)
class RouterBackend:
    """One model behind the door: its served name, its replicas' pods and their port."""

    served_model_name: str
    pod_labels: dict[str, str]
    port: int


def backends_json(backends: list[tuple[str, str, int]]) -> str:
    """The sync's input: (served model name, replicas' DNS name, port) per model."""
    return json.dumps([{"model": m, "host": h, "port": p} for m, h, p in backends], indent=2) + "\n"


@dataclass(frozen=True)
class ModelRouterArgs:
    namespace: pulumi.Input[str]
    router_image: str
    proxy_image: str
    backends: list[RouterBackend]
    api_keys: pulumi.Input[dict[str, str]]
    """Name -> key: who may call the door (a secret Output)."""
    backend_api_key: pulumi.Input[str]
    """vLLM's own key, which the door sends upstream."""
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    service_port: int = PROXY_PORT
    service_annotations: dict[str, str] = field(default_factory=dict)
    load_balancer_source_ranges: list[str] = field(default_factory=list)
    redirect_port: int | None = None
    """With TLS terminated by the load balancer on `service_port`: this Service port (80) answers plain
    HTTP with a redirect to https (nginx's redirect listener)."""
    policy: str = "cache_aware"
    request_timeout_seconds: int = 3600
    read_timeout_seconds: int = 600
    replicas: int = 2
    node_selector: dict[str, str] = field(default_factory=dict)
    run_as_user: int | None = DEFAULT_UID
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    name: str = "vllm-entry"


def _restricted(read_only: bool = True) -> k8s.core.v1.SecurityContextArgsDict:
    return {
        "allow_privilege_escalation": False,
        "capabilities": {"drop": ["ALL"]},
        "run_as_non_root": True,
        "read_only_root_filesystem": read_only,
    }


@dataclass(frozen=True)
class DoorVolumes:
    """The names of the objects a door pod mounts: nginx's config, the keys Secret, the worker sync."""

    nginx_config_map: pulumi.Input[str]
    keys_secret: pulumi.Input[str]
    sync_config_map: pulumi.Input[str]


def door_containers(args: ModelRouterArgs) -> list[k8s.core.v1.ContainerArgsDict]:
    """nginx (the only listener clients reach), the router on the pod's loopback, the worker sync."""
    health: k8s.core.v1.HTTPGetActionArgsDict = {"path": "/healthz", "port": "health"}
    # By number: a named port is looked up in the probing container's own ports.
    router_health: k8s.core.v1.HTTPGetActionArgsDict = {"path": "/upstream/healthz", "port": HEALTH_PORT}
    alive: k8s.core.v1.ExecActionArgsDict = {"command": ["python3", f"{SYNC_DIR}/router_sync.py", "--alive"]}
    sync_ready: k8s.core.v1.ProbeArgsDict = {"exec_": alive, "period_seconds": 30, "timeout_seconds": 5}
    sync_alive: k8s.core.v1.ProbeArgsDict = {
        "exec_": alive,
        "period_seconds": 30,
        "timeout_seconds": 5,
        "failure_threshold": 4,
    }
    return [
        {
            "name": "nginx",
            "image": args.proxy_image,
            # nginx itself, not the image entrypoint (whose scripts would rewrite files in /etc/nginx).
            "command": ["nginx"],
            "args": ["-c", "/etc/nginx-entry/nginx.conf", "-g", "daemon off;"],
            "ports": [
                {"name": "http", "container_port": PROXY_PORT},
                {"name": "health", "container_port": HEALTH_PORT},
                {"name": "redirect", "container_port": REDIRECT_PORT},
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
            "readiness_probe": {"http_get": health, "period_seconds": 5},
            "liveness_probe": {"http_get": health, "period_seconds": 10, "failure_threshold": 6},
            "security_context": _restricted(),
            "volume_mounts": [
                {"name": "nginx", "mount_path": "/etc/nginx-entry", "read_only": True},
                {"name": "keys", "mount_path": KEYS_DIR, "read_only": True},
                {"name": "tmp", "mount_path": "/tmp"},
            ],
        },
        {
            "name": "router",
            "image": args.router_image,
            "command": ["vllm-router"],
            "args": router_args(policy=args.policy, request_timeout_seconds=args.request_timeout_seconds),
            "ports": [{"name": METRICS_PORT_NAME, "container_port": ROUTER_METRICS_PORT}],
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
            # Through nginx's health port: the router listens on the pod's loopback only.
            "readiness_probe": {"http_get": router_health, "period_seconds": 5},
            "liveness_probe": {"http_get": router_health, "period_seconds": 10, "failure_threshold": 6},
            "security_context": _restricted(),
            "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
        },
        {
            "name": "worker-sync",
            "image": args.router_image,
            "command": ["python3", f"{SYNC_DIR}/router_sync.py", f"{SYNC_DIR}/backends.json"],
            "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
            "readiness_probe": sync_ready,
            "liveness_probe": sync_alive,
            "security_context": _restricted(),
            "volume_mounts": [
                {"name": "sync", "mount_path": SYNC_DIR, "read_only": True},
                {"name": "sync-tmp", "mount_path": "/tmp"},
            ],
        },
    ]


def door_pod_spec(args: ModelRouterArgs, labels: dict[str, str], volumes: DoorVolumes) -> k8s.core.v1.PodSpecArgsDict:
    """The door's pod: no service account token, spread over nodes, its three containers and their files."""
    pod_spec: k8s.core.v1.PodSpecArgsDict = {
        "automount_service_account_token": False,
        "enable_service_links": False,
        "security_context": pod_security_context(args.run_as_user),
        "node_selector": args.node_selector,
        # Two replicas on two nodes: a node drain never takes the only door down.
        "affinity": {
            "pod_anti_affinity": {
                "preferred_during_scheduling_ignored_during_execution": [
                    {
                        "weight": 100,
                        "pod_affinity_term": {
                            "label_selector": {"match_labels": labels},
                            "topology_key": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
        "containers": door_containers(args),
        "volumes": [
            {"name": "nginx", "config_map": {"name": volumes.nginx_config_map}},
            {"name": "keys", "secret": {"secret_name": volumes.keys_secret}},
            {"name": "sync", "config_map": {"name": volumes.sync_config_map}},
            {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
            {"name": "sync-tmp", "empty_dir": {"size_limit": "1Mi"}},
        ],
    }
    if args.image_pull_secrets:
        pod_spec["image_pull_secrets"] = [{"name": s} for s in args.image_pull_secrets]
    return pod_spec


class ModelRouter(pulumi.ComponentResource):
    """See the module docstring. Provides the `EntryPoint` attributes (components/workloads/types.py)."""

    service_name: pulumi.Output[str]
    service_port: int
    container_port: int
    metrics_port: int
    redirect_port: int | None
    """The container port of the plain-HTTP redirect, when the Service exposes it."""
    load_balancer_address: pulumi.Output[str] | None
    pod_labels: dict[str, str]
    replica_services: list[pulumi.Output[str]]

    def __init__(self, name: str, args: ModelRouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:ModelRouter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/name": "vllm-entry", "app.kubernetes.io/instance": args.name}

        backends = self._replica_services(name, args, labels)
        volumes, checksum = self._files(name, args, labels, backends)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": args.name, "namespace": args.namespace, "labels": labels},
            spec={
                "replicas": args.replicas,
                "selector": {"match_labels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": {f"{LABEL_PREFIX}/config-sha256": checksum}},
                    "spec": door_pod_spec(args, labels, volumes),
                },
            },
            opts=child,
        )
        service, self.load_balancer_address = budgeted_service(
            name,
            parent=self,
            namespace=args.namespace,
            service_name=args.name,
            labels=labels,
            budget={"min_available": 1},
            budget_after=[deployment],
            service_type=args.service_type,
            port=args.service_port,
            annotations=args.service_annotations,
            source_ranges=args.load_balancer_source_ranges,
            extra_ports=[]
            if args.redirect_port is None
            else [{"name": "redirect", "port": args.redirect_port, "target_port": "redirect", "protocol": "TCP"}],
        )
        self.service_name = service.metadata.apply(lambda m: m.name or args.name)
        self.service_port = args.service_port
        self.container_port = PROXY_PORT
        self.metrics_port = ROUTER_METRICS_PORT
        self.redirect_port = REDIRECT_PORT if args.redirect_port is not None else None
        self.pod_labels = labels
        self.register_outputs({"serviceName": self.service_name})

    def _replica_services(self, name: str, args: ModelRouterArgs, labels: dict[str, str]) -> pulumi.Output[str]:
        """A headless Service per model (it resolves to the model's ready replicas); the sync's backends.json."""
        self.replica_services = []
        hosts: list[pulumi.Output[tuple[str, str, int]]] = []
        for i, backend in enumerate(args.backends):
            service = k8s.core.v1.Service(
                f"{name}-replicas-{i}",
                metadata={"name": f"{args.name}-replicas-{i}", "namespace": args.namespace, "labels": labels},
                spec={
                    "type": "ClusterIP",
                    "cluster_ip": "None",
                    "selector": backend.pod_labels,
                    "ports": [{"name": "http", "port": backend.port, "target_port": backend.port}],
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            service_name = service.metadata.apply(lambda m: m.name or "")
            self.replica_services.append(service_name)
            hosts.append(
                pulumi.Output.all(service_name, args.namespace).apply(
                    lambda v, b=backend: (b.served_model_name, f"{v[0]}.{v[1]}.svc.cluster.local", b.port)
                )
            )
        return pulumi.Output.all(*hosts).apply(lambda rows: backends_json([tuple(r) for r in rows]))

    def _files(
        self, name: str, args: ModelRouterArgs, labels: dict[str, str], backends: pulumi.Output[str]
    ) -> tuple[DoorVolumes, pulumi.Output[str]]:
        """What the door's containers read at start (nginx.conf, the keys, the sync and its backends), and
        a checksum of all of it for the pod template."""
        child = pulumi.ResourceOptions(parent=self)
        sync = k8s.core.v1.ConfigMap(
            f"{name}-sync",
            metadata={"name": f"{args.name}-router-sync", "namespace": args.namespace, "labels": labels},
            data={"router_sync.py": SYNC_SCRIPT.read_text(), "backends.json": backends},
            opts=child,
        )
        conf = nginx_config(
            upstream=f"127.0.0.1:{ROUTER_PORT}",
            read_timeout_seconds=args.read_timeout_seconds,
            keys_file=f"{KEYS_DIR}/keys.conf",
            upstream_health_path="/liveness",
            redirect_port=REDIRECT_PORT,
        )
        nginx = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": f"{args.name}-nginx", "namespace": args.namespace, "labels": labels},
            data={"nginx.conf": conf},
            opts=child,
        )
        keys_text = pulumi.Output.secret(
            pulumi.Output.all(args.api_keys, args.backend_api_key).apply(lambda v: door_keys_conf(dict(v[0]), v[1]))
        )
        keys = k8s.core.v1.Secret(
            f"{name}-keys",
            metadata={"name": f"{args.name}-keys", "namespace": args.namespace, "labels": labels},
            type="Opaque",
            string_data={"keys.conf": keys_text},
            opts=child,
        )
        # nginx and the sync read their files at start: a new key, backend or config rolls the pods.
        checksum = pulumi.Output.all(keys_text, backends).apply(
            lambda v: hashlib.sha256((conf + SYNC_SCRIPT.read_text() + v[0] + v[1]).encode()).hexdigest()
        )
        volumes = DoorVolumes(
            nginx_config_map=nginx.metadata.apply(lambda m: m.name or ""),
            keys_secret=keys.metadata.apply(lambda m: m.name or ""),
            sync_config_map=sync.metadata.apply(lambda m: m.name or ""),
        )
        return volumes, checksum
