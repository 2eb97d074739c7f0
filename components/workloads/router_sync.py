"""Keeps the router's worker list equal to the ready vLLM replicas of every model. Runs as a sidecar of
the front door's pods (python3 of the router image, standard library only); the program ships this very
file in a ConfigMap, and tests/test_router.py runs that copy against the real router.

Why a sidecar: vllm-router (vllm-project/router, PyPI vllm-router 0.1.17) routes by the request's `model`
only in its multi-model mode (`--enable-igw`, src/routers/router_manager.rs), where workers come from its
worker API, `POST /workers {"url", "model_id"}` (src/server.rs `create_worker`, src/protocols/worker_spec.rs).
Its static `--worker-urls` carry no model, and its own Kubernetes discovery names a worker's model by
asking `GET /v1/models` without a key (router_manager.rs `query_model_id`), which vLLM's `--api-key`
refuses. So this loop registers each replica with its model; the router listens on 127.0.0.1 only,
so that worker API is reachable from inside the pod and nowhere else.

Replicas, not Services: the cache-aware policy must see each replica to keep a prefix on one of them, so
each model has a headless Service and its DNS name resolves to the ready pods' addresses.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

HEARTBEAT = "/tmp/router-sync.alive"
"""Touched every round; the container's probes read its age (`alive`)."""

Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the replicas' `host:port` addresses."""


def dns_replicas(host: str, port: int) -> list[str]:
    """The A records of a headless Service: one per ready pod."""
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return []  # no ready replica yet (or DNS not answering): register nothing, keep what is there
    return sorted({f"{info[4][0]}:{port}" for info in infos})


def desired_workers(backends: list[dict], resolve: Resolver) -> dict[str, str]:
    """Worker URL -> served model name, for every ready replica of every model."""
    wanted: dict[str, str] = {}
    for backend in backends:
        for address in resolve(backend["host"], int(backend["port"])):
            wanted[f"http://{address}"] = backend["model"]
    return wanted


def _call(method: str, url: str, body: dict | None = None, timeout: float = 5.0) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def registered_workers(router: str) -> dict[str, str]:
    """Worker URL -> model the router has now."""
    listing = _call("GET", f"{router}/workers")
    return {w["url"]: w.get("model_id", "") for w in listing.get("workers", [])}


def sync_once(router: str, backends: list[dict], resolve: Resolver = dns_replicas) -> tuple[list[str], list[str]]:
    """Add the missing replicas, remove the gone ones (or ones registered under another model)."""
    wanted = desired_workers(backends, resolve)
    have = registered_workers(router)
    added = [url for url, model in sorted(wanted.items()) if have.get(url) != model]
    removed = [url for url, model in sorted(have.items()) if wanted.get(url) != model]
    for url in removed:
        _call("DELETE", f"{router}/workers/{urllib.parse.quote(url, safe='')}")
    for url in added:
        _call("POST", f"{router}/workers", {"url": url, "model_id": wanted[url]})
    return added, removed


def main(argv: list[str]) -> None:
    """`router_sync.py <backends.json> [router URL] [interval seconds]`, forever."""
    with open(argv[0]) as file:
        backends = json.load(file)
    router = argv[1] if len(argv) > 1 else "http://127.0.0.1:30000"
    interval = float(argv[2]) if len(argv) > 2 else 10.0
    while True:
        try:
            added, removed = sync_once(router, backends)
            for url in added:
                print(f"registered {url}", flush=True)
            for url in removed:
                print(f"removed {url}", flush=True)
        except (OSError, urllib.error.URLError, ValueError) as error:  # router starting or restarting
            print(f"router not reachable yet: {error}", flush=True)
        with open(HEARTBEAT, "w") as beat:
            beat.write(str(time.time()))
        time.sleep(interval)


def alive(max_age_seconds: float = 120.0) -> bool:
    """The loop went round recently (the probe: `router_sync.py --alive`)."""
    try:
        with open(HEARTBEAT) as beat:
            return time.time() - float(beat.read()) < max_age_seconds
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["--alive"]:
        sys.exit(0 if alive() else 1)
    main(sys.argv[1:])
