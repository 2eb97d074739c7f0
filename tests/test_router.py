"""The front door proved with the real router: vllm-router from PyPI (the version stacks/catalog pins as
its image) and real nginx run on 127.0.0.1 with the configuration the plan of
tests/configs/doks-two-models.yaml holds (the router's command line from the door Deployment, nginx.conf
and the worker sync with its model list from its ConfigMaps), in front of small fake vLLM replicas, two
of the first model and one of the second. Only the addresses are changed to loopback ports; the keys
file, a Secret in the plan, is written by the same function the program uses."""

from __future__ import annotations

import functools
import http.client
import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from components.workloads.entry_point import door_keys_conf
from components.workloads.router import (
    ROUTER_METRICS_PORT,
    ROUTER_PORT,
    DoorVolumes,
    ModelRouterArgs,
    door_pod_spec,
    router_args,
)
from stacks import catalog
from tests.harness import KUBERNETES_STACKS, containers, default_run, k8s_object, k8s_objects, preview
from tests.loopback import free_port, localize_nginx, start_nginx, wait_for_port

ROUTER = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "vllm-router"
TEAM_A, TEAM_B = "sk-team-a-3f9c2b7e1d8a4c6f", "sk-team-b-8e1d4c7a2f9b3e6d"
VLLM_KEY = "sk-vllm-behind-the-door-7a1c9e"
TWO_MODELS = Path(__file__).parent / "configs" / "doks-two-models.yaml"


@functools.cache
def two_models():
    """The plan of the two-model example (one preview per test session)."""
    run = preview("doks", raw=yaml.safe_load(TWO_MODELS.read_text())["config"])
    assert run.error is None, run.error
    return run


class FakeReplica(ThreadingHTTPServer):
    """One vLLM replica of one model: its key check on /v1 (like `--api-key`), /health, /v1/models, the
    render endpoint the cache-aware policy reads prompts' tokens from, and chat completions (streamed or
    not; another model's name gets vLLM's 404)."""

    daemon_threads = True

    def __init__(self, model: str, replica: str) -> None:
        super().__init__(("127.0.0.1", 0), _Replica)
        self.model, self.replica = model, replica
        self.seen: list[tuple[str, str, str | None]] = []
        self.release = threading.Event()
        """A streamed answer to a prompt with `HOLD` waits for this after its first chunk."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Replica(BaseHTTPRequestHandler):
    server: FakeReplica
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        if self.path == "/health":
            return self._json(200, {})
        if self.path.startswith("/v1") and self.headers.get("Authorization") != f"Bearer {VLLM_KEY}":
            return self._json(401, {"error": "Unauthorized"})
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": self.server.model, "object": "model"}]})
        if body.get("model") != self.server.model:  # vllm/entrypoints/openai/models/serving.py
            message = f"The model `{body.get('model')}` does not exist."
            return self._json(404, {"error": {"message": message, "type": "NotFoundError", "code": 404}})
        prompt = "".join(m["content"] for m in body.get("messages", []))
        if self.path == "/v1/chat/completions/render":  # one token per character is enough for prefixes
            return self._json(200, {"request_id": "r", "token_ids": [ord(c) for c in prompt]})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": "no such route"})
        answer = {"model": self.server.model, "replica": self.server.replica}
        if not body.get("stream"):
            return self._json(200, answer)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in [answer, {"done": False}, "[DONE]"]:
            data = f"data: {json.dumps(event) if event != '[DONE]' else event}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
            if "HOLD" in prompt:
                self.server.release.wait(10)
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = _handle


def _localized_router_args(args: list[str], port: int, metrics: int) -> list[str]:
    """The plan's command line with loopback ports (metrics on loopback too)."""
    out = list(args)
    for flag, old, new in [
        ("--port", str(ROUTER_PORT), str(port)),
        ("--prometheus-port", str(ROUTER_METRICS_PORT), str(metrics)),
        ("--prometheus-host", "0.0.0.0", "127.0.0.1"),
    ]:
        i = out.index(flag)
        assert out[i + 1] == old, flag
        out[i + 1] = new
    return out


def _plan_door(run) -> dict[str, Any]:
    return k8s_object(run, "Deployment", "vllm-entry")


def _load_sync(run, scratch: Path) -> tuple[ModuleType, list[dict[str, Any]]]:
    """The sync script and backends exactly as the plan's ConfigMap ships them."""
    data = k8s_object(run, "ConfigMap", "vllm-entry-router-sync")["data"]
    path = scratch / "router_sync.py"
    path.write_text(data["router_sync.py"])
    spec = importlib.util.spec_from_file_location("plan_router_sync", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, json.loads(data["backends.json"])


class Door:
    def __init__(self, port: int, router: str, metrics: int, replicas: dict[str, list[FakeReplica]], sync, backends):
        self.port, self.router, self.metrics = port, router, metrics
        self.replicas, self.sync, self.backends = replicas, sync, backends

    def resolve(self, host: str, port: int) -> list[str]:
        """DNS of the headless Services, on loopback: each model's replicas' addresses."""
        model = next(b["model"] for b in self.backends if b["host"] == host)
        return [r.address for r in self.replicas[model]]

    def all_seen(self) -> int:
        return sum(len(r.seen) for rs in self.replicas.values() for r in rs)


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    import subprocess

    scratch = tmp_path_factory.mktemp("door")
    scratch.chmod(0o755)
    run = two_models()
    sync, backends = _load_sync(run, scratch)
    first, second = [b["model"] for b in backends]
    replicas = {first: [FakeReplica(first, "a0"), FakeReplica(first, "a1")], second: [FakeReplica(second, "b0")]}
    for server in (r for rs in replicas.values() for r in rs):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    router_port, metrics = free_port(), free_port()
    (router,) = [c for c in containers(_plan_door(run)) if c["name"] == "router"]
    router_process = subprocess.Popen(
        [str(ROUTER), *_localized_router_args(router["args"], router_port, metrics)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listen, health = free_port(), free_port()
    (scratch / "keys.conf").write_text(door_keys_conf({"team-a": TEAM_A, "team-b": TEAM_B}, VLLM_KEY))
    conf = k8s_object(run, "ConfigMap", "vllm-entry-nginx")["data"]["nginx.conf"]
    nginx = None
    try:
        wait_for_port(router_port, router_process)
        nginx = start_nginx(
            localize_nginx(conf, upstream=router_port, listen=listen, health=health, scratch=scratch), scratch, listen
        )
        result = Door(listen, f"http://127.0.0.1:{router_port}", metrics, replicas, sync, backends)
        added, removed = sync.sync_once(result.router, backends, result.resolve)
        assert len(added) == 3 and removed == []
        yield result
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        router_process.terminate()
        router_process.wait(10)
        for server in (r for rs in replicas.values() for r in rs):
            server.shutdown()


def _call(port: int, path: str, body: dict | None = None, key: str | None = TEAM_A, method: str = "POST"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    connection.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def _chat(door: Door, model: str, content: str, key: str | None = TEAM_A) -> tuple[int, Any]:
    status, data = _call(door.port, "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": content}]}, key)  # fmt: skip
    return status, json.loads(data) if data.startswith(b"{") else data


def test_the_pinned_router_image_is_the_release_the_tests_run():
    from importlib.metadata import version

    assert version("vllm-router") == catalog.ROUTER_VERSION
    assert f"vllm/vllm-router:v{catalog.ROUTER_VERSION}" == catalog.ROUTER_IMAGE


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_every_stack_runs_the_tested_router_command_line(stack):
    (router,) = [c for c in containers(_plan_door(default_run(stack))) if c["name"] == "router"]
    assert router["image"] == catalog.ROUTER_IMAGE
    assert router["args"] == router_args()
    # Its management API (/workers, ...) only on the pod's loopback; the metrics on the pod's address.
    assert router["args"][router["args"].index("--host") + 1] == "127.0.0.1"
    assert {p["containerPort"] for p in router["ports"]} == {ROUTER_METRICS_PORT}


def test_requests_reach_their_models_replicas(door):
    first, second = door.replicas
    for name in (first, second, first):
        status, answer = _chat(door, name, f"hello {name}")
        assert status == 200 and answer["model"] == name
    assert door.replicas[second][0].seen, "the second model's replica served its request"


def test_a_shared_prefix_keeps_hitting_one_replica(door):
    model = next(iter(door.replicas))  # the one with two replicas
    system = "You are a support agent for ACME. Policies: " + "refunds within 30 days; " * 20
    served = {_chat(door, model, system + f"Question {i}: where is my order?")[1]["replica"] for i in range(4)}
    assert len(served) == 1, f"one shared prefix, one replica's KV cache: {served}"
    # Keep that replica busy with a streamed answer: an unrelated prompt goes to the idle replica, while
    # the shared prefix still goes to the busy one, whose cache holds it.
    (warm,) = served
    held = _open_stream(door, model, system + "HOLD: a long answer", TEAM_A)
    try:
        assert json.loads(held.readline().removeprefix(b"data: "))["replica"] == warm
        other = "A different conversation about gardening and tomatoes. " * 12
        assert _chat(door, model, other)[1]["replica"] != warm, "a new prefix goes to the least loaded replica"
        assert _chat(door, model, system + "Question 9: and my refund?")[1]["replica"] == warm
    finally:
        for replica in door.replicas[model]:
            replica.release.set()
        held.read()


def test_an_unknown_model_gets_a_404_naming_it(door):
    status, answer = _chat(door, "no-such-model", "hi")
    assert status == 404
    assert "`no-such-model` does not exist" in answer["error"]["message"]


@pytest.mark.parametrize("key", [None, "sk-wrong-key-0000000000000", VLLM_KEY, TEAM_A.upper()])
def test_a_missing_or_wrong_key_gets_401_before_the_router(door, key):
    model = next(iter(door.replicas))  # the one with two replicas
    before = door.all_seen()
    status, _ = _chat(door, model, "hi", key=key)
    assert status == 401
    assert door.all_seen() == before, "nothing reached a replica"


def test_every_named_key_opens_the_door_and_vllm_gets_its_own_key(door):
    model = next(iter(door.replicas))  # the one with two replicas
    for key in (TEAM_A, TEAM_B):
        assert _chat(door, model, "hi", key=key)[0] == 200
    auths = {auth for rs in door.replicas.values() for r in rs for _, _, auth in r.seen if auth}
    assert auths == {f"Bearer {VLLM_KEY}"}, "a door key never reaches vLLM"


@pytest.mark.parametrize(
    "method, path", [("GET", "/workers"), ("POST", "/add_worker?url=http://evil:1"), ("POST", "/flush_cache"),
                     ("GET", "/metrics"), ("GET", "/health"), ("GET", "/liveness"), ("GET", "/get_server_info"),
                     ("POST", "/generate"), ("GET", "/list_workers")],
)  # fmt: skip
def test_the_routers_other_paths_are_not_reachable_through_the_door(door, method, path):
    workers = door.sync.registered_workers(door.router)
    status, _ = _call(door.port, path, {} if method == "POST" else None, method=method)
    assert status == 404
    assert door.sync.registered_workers(door.router) == workers


def test_each_model_has_a_headless_service_of_exactly_its_replicas():
    run = two_models()
    services = {o["metadata"]["name"]: o for o in k8s_objects(run) if o["kind"] == "Service"}
    servers = [o for o in k8s_objects(run) if o["kind"] == "Deployment" and o["metadata"]["name"] != "vllm-entry"]
    backends = json.loads(k8s_object(run, "ConfigMap", "vllm-entry-router-sync")["data"]["backends.json"])
    assert len(backends) == len(servers) == 2
    for backend in backends:
        service = services[backend["host"].split(".")[0]]["spec"]
        assert service["clusterIP"] == "None" and service["ports"][0]["port"] == backend["port"]
        matching = [
            d for d in servers if service["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, "one model's pods, not the other's"
        (vllm,) = [c for c in containers(matching[0]) if c["name"] == "vllm"]
        assert backend["model"] in json.dumps(vllm), "registered under the name its vLLM serves"


def test_models_are_listed_through_the_door(door):
    status, data = _call(door.port, "/v1/models", method="GET")
    assert status == 200
    assert set(json.loads(data)["models"]) == set(door.replicas)


def _open_stream(door: Door, model: str, content: str, key: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", door.port, timeout=10)
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": content}]}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/chat/completions", json.dumps(body).encode(), headers)
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type", "").startswith("text/event-stream")
    return response


def test_streaming_passes_through_chunk_by_chunk(door):
    second = list(door.replicas)[1]
    replica = door.replicas[second][0]
    replica.release.clear()
    response = _open_stream(door, second, "HOLD: stream please", TEAM_B)
    # The first event arrives while the replica still holds the rest: nothing buffers the stream.
    assert json.loads(response.readline().removeprefix(b"data: "))["replica"] == "b0"
    replica.release.set()
    assert response.read().rstrip().endswith(b"data: [DONE]")


def test_the_sync_follows_replicas_that_come_and_go(door):
    model = next(iter(door.replicas))  # the one with two replicas
    gone = door.replicas[model].pop()
    try:
        added, removed = door.sync.sync_once(door.router, door.backends, door.resolve)
        assert (added, removed) == ([], [f"http://{gone.address}"])
        assert {_chat(door, model, f"after scale-in {i}")[1]["replica"] for i in range(4)} == {"a0"}
    finally:
        door.replicas[model].append(gone)
        added, _ = door.sync.sync_once(door.router, door.backends, door.resolve)
        assert added == [f"http://{gone.address}"]


def test_the_gateway_does_not_cut_a_generation_the_router_still_serves():
    """The HTTPRoute's request timeout covers the whole streamed response; it must not end before the router's."""
    run = default_run("doks")
    route_timeouts = [
        rule["timeouts"]["request"]
        for route in (o for o in k8s_objects(run) if o["kind"] == "HTTPRoute")
        for rule in route["spec"]["rules"]
        if "backendRefs" in rule
    ]
    router = next(o for o in k8s_objects(run) if o["kind"] == "Deployment" and "router" in json.dumps(o["spec"]))
    args = next(
        c["args"]
        for c in router["spec"]["template"]["spec"]["containers"]
        if "--request-timeout-secs" in c.get("args", [])
    )
    router_seconds = int(args[args.index("--request-timeout-secs") + 1])
    assert route_timeouts
    for timeout in route_timeouts:
        assert timeout.endswith("s") and int(timeout[:-1]) >= router_seconds, timeout


def _router_series(door: Door) -> dict[str, float]:
    """The router's /metrics as name{labels} -> value (its Prometheus text format)."""
    status, data = _call(door.metrics, "/metrics", method="GET")
    assert status == 200
    series = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            series[key] = float(value)
    return series


def _total(series: dict[str, float], name: str) -> float:
    return sum(v for k, v in series.items() if k.split("{")[0] == name)


def test_the_router_exports_every_metric_the_dashboards_and_alerts_use(door):
    """stacks/catalog/metrics.yaml lists what the pinned router prints; the front door's dashboard and alerts
    may use only those names (tests/test_observability.py), so each must really be printed."""
    model = next(iter(door.replicas))
    before = _router_series(door)
    for i in range(3):
        assert _chat(door, model, f"metrics {i}")[0] == 200
    assert _chat(door, "no-such-model", "hi")[0] == 404
    after = _router_series(door)
    printed = {key.split("{")[0] for key in after}
    assert set(catalog.ROUTER_METRICS) - printed == set()
    # The error ratio of the door's alert is errors / (answered + errors): the two counters are apart.
    answered = _total(after, "vllm_router_requests_total") - _total(before, "vllm_router_requests_total")
    failed = _total(after, "vllm_router_request_errors_total") - _total(before, "vllm_router_request_errors_total")
    assert (answered, failed) == (3, 1)


def test_only_nginx_reads_the_door_keys_and_every_pod_volume_is_mounted():
    """The door's pod, as a pure function: the keys Secret reaches nginx alone (not the router or the
    sync), and every volume the pod declares is one a container mounts."""
    args = ModelRouterArgs(namespace="ns", router_image="router", proxy_image="nginx", backends=[],
                           api_keys={"a": "k"}, backend_api_key="b", image_pull_secrets=["pull"])  # fmt: skip
    spec = door_pod_spec(args, {"app": "door"}, DoorVolumes("nginx-cm", "keys-secret", "sync-cm"))
    mounts = {c["name"]: {m["name"] for m in c.get("volume_mounts") or []} for c in spec["containers"]}
    assert [name for name, used in mounts.items() if "keys" in used] == ["nginx"]
    assert {v["name"] for v in spec["volumes"]} == set().union(*mounts.values())
    assert {"name": "keys", "secret": {"secret_name": "keys-secret"}} in spec["volumes"]
    assert spec["image_pull_secrets"] == [{"name": "pull"}] and spec["automount_service_account_token"] is False


def test_at_zero_replicas_the_one_model_door_refuses_and_counts_what_wakes_it(tmp_path):
    """A stack serving one model, scaled to zero: its door stays ready (the probe's /liveness answers), a
    request gets 503 and the router counts it as the wake signal the ScaledObject reads."""
    import subprocess

    (router,) = [c for c in containers(_plan_door(default_run("doks"))) if c["name"] == "router"]
    port, metrics = free_port(), free_port()
    process = subprocess.Popen([str(ROUTER), *_localized_router_args(router["args"], port, metrics)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for_port(port, process)
        assert _call(port, "/liveness", method="GET")[0] == 200, "the door's readiness probe path"
        status, body = _call(
            port, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert status == 503 and b"No available workers" in body
        counted = _router_series(Door(port, "", metrics, {}, None, []))
        refusals = [k for k in counted if k.startswith("vllm_router_request_errors_total{")
                    and 'error_type="no_available_workers"' in k]  # fmt: skip
        assert refusals and all(counted[k] > 0 for k in refusals)
    finally:
        process.terminate()
        process.wait(10)


def test_with_several_models_a_model_without_replicas_is_not_counted_as_refused(door):
    """Why scale to zero is refused with several models: the router sends a request for a model that has no
    replica to another model's replica (its 404), so nothing counts it as a request waiting for a replica."""
    second = list(door.replicas)[1]
    gone = door.replicas[second]
    door.replicas[second] = []
    try:
        door.sync.sync_once(door.router, door.backends, door.resolve)
        before = _router_series(door)
        status, _ = _chat(door, second, "anyone there?")
        after = _router_series(door)
        assert status == 404, "answered by the other model's replica"
        refused = [k for k in after if 'error_type="no_available_workers"' in k and after[k] != before.get(k, 0)]
        assert refused == []
    finally:
        door.replicas[second] = gone
        door.sync.sync_once(door.router, door.backends, door.resolve)
