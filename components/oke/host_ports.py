"""Ports of servers on the host network that only their own nodes may reach, as NSG rule rows.

NetworkPolicy does not apply to host-network pods (Kubernetes docs, Network Policies: "NetworkPolicy
behaviour for hostNetwork pods is undefined" / not selected), and the oci-h100-rdma Ray pods run on the
host network for RDMA. Ray has no authentication and its dashboard job API and client server run
arbitrary code, so on those nodes the worker NSG admits Ray's ports only from members of a dedicated
NSG (the Ray nodes), and everything else between workers as before.

OCI NSG rules only allow (their union is the policy), so "everything except these TCP ports" is written
as TCP ranges around them plus UDP and ICMP. Other IP protocols are not needed between OKE workers:
flannel's VXLAN is UDP, VCN-native pod networking is plain IP (Oracle, "Network Resource
Configuration for Cluster Creation and Deployment").
"""

from __future__ import annotations

from collections.abc import Iterable

TCP, UDP, ICMP = "6", "17", "1"

# Ray's fixed ports on a head node (Ray docs, "Configuring Ray" > Ports configurations,
# https://docs.ray.io/en/latest/ray-core/configure.html#ports-configurations): GCS --port 6379,
# dashboard --dashboard-port 8265, Ray client server --ray-client-server-port 10001; the dashboard
# agent's HTTP port is what KubeRay passes as --dashboard-agent-listen-port=52365
# (ray-project/kuberay ray-operator/controllers/ray/common/pod_test.go, v1.7.0).
RAY_HOST_PORTS: dict[int, str] = {
    6379: "Ray GCS",
    8265: "Ray dashboard (job API)",
    10001: "Ray client server",
    52365: "Ray dashboard agent",
}


def tcp_ranges_except(excluded: Iterable[int], low: int = 1, high: int = 65535) -> list[tuple[int, int]]:
    """[low, high] without the `excluded` ports, as the fewest contiguous ranges."""
    ranges: list[tuple[int, int]] = []
    start = low
    for port in sorted(set(excluded)):
        if port < low or port > high:
            continue
        if port > start:
            ranges.append((start, port - 1))
        start = port + 1
    if start <= high:
        ranges.append((start, high))
    return ranges


def all_traffic_except(excluded: Iterable[int], *, tcp_only: bool = False) -> list[tuple[str, tuple[int, int] | None]]:
    """(protocol, TCP port range or None) rows that together allow what one "all protocols" (or, with
    `tcp_only`, one "all TCP") rule allows, minus the `excluded` TCP ports."""
    rows: list[tuple[str, tuple[int, int] | None]] = [(TCP, r) for r in tcp_ranges_except(excluded)]
    if not tcp_only:
        rows += [(UDP, None), (ICMP, None)]
    return rows
