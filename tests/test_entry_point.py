"""Only /v1 reaches vLLM from outside: the front door's generated nginx config, taken from the plan, run
by real nginx on 127.0.0.1 in front of a fake upstream (in the cluster: the router, then vLLM) that answers
every route vLLM 0.33.0 registers (tests/data/vllm-routes.yaml, extracted from the wheel's source by
tools/vllm_routes.py). tests/test_router.py runs the same door with the real router behind it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.workloads.entry_point import door_keys_conf
from stacks import catalog
from tests.harness import KUBERNETES_STACKS, containers, default_run, env_of, k8s_object, k8s_objects
from tests.loopback import free_port, localize_nginx, start_nginx

ROUTES = yaml.safe_load((Path(__file__).parent / "data" / "vllm-routes.yaml").read_text())
KEY = "Bearer sk-test-door-key"
VLLM_KEY = "Bearer sk-test-vllm-key"


def test_route_list_is_for_the_pinned_vllm_image():
    assert catalog.VLLM_IMAGE.endswith(f":v{ROUTES['vllm_version']}"), "regenerate tests/data/vllm-routes.yaml"
    paths = {r["path"] for r in ROUTES["routes"]}
    # The routes the issue names as answering without a key, and the API itself.
    assert {"/invocations", "/tokenize", "/detokenize", "/pooling", "/score", "/metrics"} <= paths
    assert {"/v1/chat/completions", "/v1/completions", "/v1/models"} <= paths
    assert ROUTES["auth_guarded_prefixes"][0] == "/v1"


class FakeVllm(ThreadingHTTPServer):
    """Answers any path, records what reached it; /v1/stream sends two chunks and holds the second
    until the test has read the first (so a buffering proxy would time out)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, str | None]] = []
        self.first_chunk_read = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: FakeVllm
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        if self.headers.get("Upgrade", "").lower() == "websocket":  # /v1/realtime: echo one message
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.write(self.rfile.readline())
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path == "/v1/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk(b"data: one\n\n")
            self.server.first_chunk_read.wait(10)
            self._chunk(b"data: two\n\n")
            self._chunk(b"")
            return
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer


def _plan_config(stack: str) -> str:
    return k8s_object(default_run(stack), "ConfigMap", "vllm-entry-nginx")["data"]["nginx.conf"]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, FakeVllm, int]]:
    upstream = FakeVllm()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    scratch = tmp_path_factory.mktemp("nginx")
    scratch.chmod(0o755)
    listen, health, redirect = free_port(), free_port(), free_port()
    (scratch / "keys.conf").write_text(door_keys_conf({"tests": KEY.split()[1]}, VLLM_KEY.split()[1]))
    conf = localize_nginx(
        _plan_config("doks"),
        upstream=upstream.server_address[1],
        listen=listen,
        health=health,
        scratch=scratch,
        redirect=redirect,
    )
    process = start_nginx(conf, scratch, listen)
    yield listen, health, upstream, redirect
    process.terminate()
    process.wait(10)
    upstream.shutdown()


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # skip_host etc. are not needed: http.client sends `path` byte for byte (no normalisation).
    body = b"{}" if method in {"POST", "PUT", "PATCH"} else None
    connection.request(method, path, body=body, headers={"Authorization": KEY, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def _concrete(path: str) -> str:
    return path.replace("{response_id}", "resp_123")


def _requests() -> list[tuple[str, str]]:
    out = []
    for route in ROUTES["routes"]:
        for method in route["methods"]:
            # Mounts (/metrics, /static) answer any method and sub-path; a websocket opens with a GET.
            verb = {"ANY": "GET", "WEBSOCKET": "GET"}.get(method, method)
            out.append((verb, _concrete(route["path"])))
            if method == "ANY":
                out.append((verb, _concrete(route["path"]) + "/sub"))
    return out


def test_every_vllm_route_outside_v1_gets_404_and_never_reaches_vllm(proxy):
    port, _, upstream, _ = proxy
    blocked = [(m, p) for m, p in _requests() if not p.startswith("/v1/")]
    assert len(blocked) > 40
    for method, path in blocked:
        before = len(upstream.seen)
        status, _ = _request(port, method, path)
        assert status == 404, f"{method} {path} -> {status}"
        assert len(upstream.seen) == before, f"{method} {path} reached vLLM"


def test_every_v1_route_reaches_vllm_unchanged_with_vllms_own_key(proxy):
    port, _, upstream, _ = proxy
    allowed = [(m, p) for m, p in _requests() if p.startswith("/v1/")]
    assert len(allowed) > 20
    for method, path in allowed:
        status, body = _request(port, method, path)
        assert status == 200, f"{method} {path} -> {status}"
        # The client's door key stays at the door; vLLM's key check stays the second layer.
        assert upstream.seen[-1] == (method, path, VLLM_KEY)
        assert json.loads(body) == {"path": path}


@pytest.mark.parametrize("authorization", [None, "Bearer sk-wrong-key", KEY.lower(), VLLM_KEY, KEY + "x"])
def test_a_request_without_a_door_key_gets_401_and_goes_nowhere(proxy, authorization):
    port, _, upstream, _ = proxy
    before = len(upstream.seen)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST", "/v1/chat/completions", body=b"{}", headers={"Authorization": authorization} if authorization else {}
    )
    response = connection.getresponse()
    assert response.status == 401 and b"API key" in response.read()
    connection.close()
    assert len(upstream.seen) == before


@pytest.mark.parametrize(
    "raw, reaches",
    [
        ("/v1", None),  # not a route; /v1x neither
        ("/v1x/models", None),
        ("/V1/models", None),
        ("/v2/embed", None),  # key-guarded by vLLM, still not forwarded
        ("/v1/../metrics", None),
        ("/v1/%2e%2e/metrics", None),
        ("/v1/..%2Fmetrics", None),
        ("//metrics", None),
        ("/metrics/../v1/models", "/v1/models"),  # forwarded as the normalized path, never as /metrics/...
        ("/invocations/../v1/models", "/v1/models"),
        ("/v1//models", "/v1/models"),
    ],
)
def test_tricky_paths_never_reach_a_route_outside_v1(proxy, raw, reaches):
    port, _, upstream, _ = proxy
    before = len(upstream.seen)
    status, _ = _request(port, "GET", raw)
    if reaches is None:
        assert status in (400, 404), f"{raw} -> {status}"
        assert len(upstream.seen) == before, f"{raw} reached vLLM as {upstream.seen[-1]}"
    else:
        assert status == 200 and upstream.seen[-1][1] == reaches


def test_health_port_answers_only_healthz_and_the_upstreams_liveness(proxy):
    _, health, upstream, _ = proxy
    before = len(upstream.seen)
    assert _request(health, "GET", "/healthz")[0] == 200
    assert _request(health, "GET", "/v1/models")[0] == 404
    assert len(upstream.seen) == before
    assert _request(health, "GET", "/upstream/healthz")[0] == 200
    assert upstream.seen[-1][:2] == ("GET", "/liveness"), "the router's probe, through nginx"


def test_streaming_responses_are_not_buffered(proxy):
    port, _, upstream, _ = proxy
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", "/v1/stream", body=b"{}", headers={"Authorization": KEY})
    response = connection.getresponse()
    assert response.status == 200
    first = response.readline()  # arrives while vLLM still holds the second chunk
    upstream.first_chunk_read.set()
    rest = response.read()
    connection.close()
    assert first == b"data: one\n" and b"data: two" in rest


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_every_stack_generates_the_same_door_config(stack):
    # The door the plan runs is the one tested above, on every stack.
    assert _plan_config(stack) == _plan_config("doks")


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_only_the_entry_point_is_exposed(stack):
    run = default_run(stack)
    services = {o["metadata"]["name"]: o["spec"] for o in k8s_objects(run) if o["kind"] == "Service"}
    assert services["vllm"]["type"] == "ClusterIP", "vLLM's own port never leaves the cluster"
    exposed = {name for name, spec in services.items() if spec["type"] in ("LoadBalancer", "NodePort")}
    assert exposed <= {"vllm-entry"}
    for name in exposed:
        assert services[name]["loadBalancerSourceRanges"], "a load balancer only for endpoint.allowedCidrs"
    for route in (o for o in k8s_objects(run) if o["kind"] == "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            assert [b["name"] for b in rule["backendRefs"]] == ["vllm-entry"]
            assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_vllm_reads_its_api_key_from_the_secret_on_every_stack(stack):
    run = default_run(stack)
    servers = [
        o for o in k8s_objects(run) if o["kind"] in ("Deployment", "RayCluster") and o["metadata"]["name"] == "vllm"
    ]
    assert len(servers) == 1
    serving = [c for c in containers(servers[0]) if c["name"] in ("vllm", "ray-head")]
    assert serving
    for container in serving:
        assert env_of(container)["VLLM_API_KEY"] == {"secretKeyRef": {"name": "vllm-api-key", "key": "api-key"}}


def test_websocket_upgrades_pass_through_for_v1_only(proxy):
    port, _, upstream, _ = proxy

    def upgrade(path: str) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Authorization: {KEY}\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
            if head.startswith(b"HTTP/1.1 101"):
                sock.sendall(b"hello realtime\n")
                rest = head.split(b"\r\n\r\n", 1)[1]
                while b"\n" not in rest:
                    rest += sock.recv(4096)
                return rest
            return head.split(b"\r\n", 1)[0]

    assert upgrade("/v1/realtime") == b"hello realtime\n", "vLLM's realtime API (a websocket under /v1) works"
    assert upstream.seen[-1] == ("GET", "/v1/realtime", VLLM_KEY)
    before = len(upstream.seen)
    assert upgrade("/metrics").startswith(b"HTTP/1.1 404")
    assert len(upstream.seen) == before


def test_plain_http_on_the_redirect_listener_goes_to_https_and_nowhere_else(proxy):
    # With TLS at a load balancer, port 80 reaches this listener (stacks/builders/tls.py).
    _, _, upstream, redirect = proxy
    before = len(upstream.seen)
    connection = http.client.HTTPConnection("127.0.0.1", redirect, timeout=10)
    connection.request("GET", "/v1/models?x=1", headers={"Host": "api.example.com", "Authorization": KEY})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 301
    assert response.getheader("Location") == "https://api.example.com/v1/models?x=1"
    assert len(upstream.seen) == before
