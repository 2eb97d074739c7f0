"""Host-network Ray pods (oci-h100-rdma) are out of NetworkPolicy's reach: the worker NSG admits Ray's
ports only from the Ray nodes' own NSG, and everything else between workers as before. The NSG rules
the plan creates are evaluated as OCI does (the union of allow rules)."""

from __future__ import annotations

import ipaddress

import pytest

from components.oke.host_ports import RAY_HOST_PORTS, all_traffic_except, tcp_ranges_except
from tests.harness import all_of, default_run, one, preview, stack_config

STACK = "oci-h100-rdma"
RAY_PORTS = sorted(RAY_HOST_PORTS)  # GCS 6379, dashboard 8265, client 10001, dashboard agent 52365


def test_tcp_ranges_around_excluded_ports_cover_everything_else():
    ranges = tcp_ranges_except([8265, 6379, 10001, 1, 65535])
    assert ranges == [(2, 6378), (6380, 8264), (8266, 10000), (10002, 65534)]
    covered = {p for low, high in ranges for p in range(low, high + 1)}
    assert covered == set(range(1, 65536)) - {1, 6379, 8265, 10001, 65535}
    assert ("17", None) in all_traffic_except([6379]) and ("1", None) in all_traffic_except([6379])
    assert all(proto == "6" for proto, _ in all_traffic_except([6379], tcp_only=True))


def _worker_ingress(run) -> list[dict]:
    return [
        r.inputs
        for r in all_of(run, "NetworkSecurityGroupSecurityRule")
        if "-net-workers-" in r.name and r.inputs["direction"] == "INGRESS"
    ]


def admits(rules: list[dict], protocol: str, port: int, ip: str, nsgs: list[str]) -> bool:
    for rule in rules:
        if rule["protocol"] not in ("all", protocol):
            continue
        options = rule.get("tcpOptions") if protocol == "6" else rule.get("udpOptions") if protocol == "17" else None
        span = (options or {}).get("destinationPortRange")
        if span and not span["min"] <= port <= span["max"]:
            continue
        if rule["sourceType"] == "NETWORK_SECURITY_GROUP" and rule["source"] in nsgs:
            return True
        if rule["sourceType"] == "CIDR_BLOCK" and ipaddress.ip_address(ip) in ipaddress.ip_network(rule["source"]):
            return True
    return False


def _nodes(run):
    rdma = one(run, "instanceConfiguration:InstanceConfiguration").inputs["instanceDetails"]["launchDetails"]
    system = one(run, "nodePool:NodePool", "system").inputs["nodeConfigDetails"]
    return rdma["createVnicDetails"]["nsgIds"], system["nsgIds"]


@pytest.mark.parametrize("cni", ["flannel", "vcnNative"])
def test_ray_ports_on_rdma_hosts_only_from_ray_hosts(cni):
    run = default_run(STACK) if cni == "flannel" else preview(STACK, oke={"network": {"cni": cni}})
    assert run.error is None, run.error
    net = stack_config(STACK)["llm-serving:oke"]["network"]
    worker_ip = str(next(ipaddress.ip_network(net.get("workerSubnet", "10.0.16.0/20")).hosts()))
    api_ip = str(next(ipaddress.ip_network(net.get("apiSubnet", "10.0.0.0/28")).hosts()))
    pod_ip = str(next(ipaddress.ip_network(net.get("podSubnet", "10.0.64.0/18")).hosts()))
    rules = _worker_ingress(run)
    rdma_nsgs, system_nsgs = _nodes(run)
    assert len(rdma_nsgs) == 2 and set(system_nsgs) < set(rdma_nsgs), "RDMA nodes also join the host-ports NSG"
    for port in RAY_PORTS:
        assert admits(rules, "6", port, worker_ip, rdma_nsgs), f"Ray nodes reach each other's {port}"
        assert not admits(rules, "6", port, worker_ip, system_nsgs), f"other workers (and flannel pods) not {port}"
        assert not admits(rules, "6", port, api_ip, []), f"the API endpoint not {port}"
        assert not admits(rules, "6", port, pod_ip, []), f"VCN-native pods not {port}"
    # Everything else between workers is as Oracle's table has it.
    assert admits(rules, "6", 8000, worker_ip, system_nsgs), "the entry point reaches vLLM on the head"
    assert admits(rules, "6", 10250, api_ip, []), "the API server reaches kubelets"
    assert admits(rules, "17", 8472, worker_ip, system_nsgs), "flannel VXLAN between workers"
    assert admits(rules, "6", 30080, "10.0.2.10", []), "load balancers reach NodePorts"


def test_stacks_without_host_network_ray_keep_one_worker_to_worker_rule():
    run = default_run("oci-a10")
    assert not [r for r in all_of(run, "NetworkSecurityGroup") if "host-ports" in r.name]
    worker_to_worker = [r for r in _worker_ingress(run) if r["description"].startswith("worker to worker")]
    assert [r["protocol"] for r in worker_to_worker] == ["all"]
