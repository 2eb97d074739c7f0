"""The OKE network's security rule tables, built by pure functions (no engine): what each NSG opens for
flannel and VCN-native pods, host-only ports kept to their own nodes, File Storage and the load balancer
subnet."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from components.oke.host_ports import RAY_HOST_PORTS
from components.oke.network import (
    NODE_PORT_MAX,
    NODE_PORT_MIN,
    OkeNetworkArgs,
    OkeSubnetCidrs,
    RulePeers,
    api_rules,
    fss_rules,
    lb_security_list_rules,
    pod_rules,
    unique,
    worker_rules,
)

CIDRS = OkeSubnetCidrs(
    api="10.0.0.0/28", workers="10.0.1.0/24", load_balancers="10.0.2.0/24", file_storage="10.0.3.0/24",
    pods="10.0.64.0/18",
)  # fmt: skip
OSN = "all-iad-services-in-oracle-services-network"
FLANNEL = OkeNetworkArgs(compartment_id="ocid1.compartment.oc1..x", vcn_cidr="10.0.0.0/16", subnets=CIDRS,
                         lb_allowed_cidrs=["203.0.113.0/24"])  # fmt: skip
NATIVE = dataclasses.replace(FLANNEL, cni_type="OCI_VCN_IP_NATIVE")


def peers(args: OkeNetworkArgs, hosts_nsg: str | None = None) -> RulePeers:
    return RulePeers(args.subnets, args.cni_type == "OCI_VCN_IP_NATIVE", OSN, hosts_nsg)


def test_flannel_has_no_pod_rules_and_the_api_reaches_workers_over_tcp():
    assert pod_rules(FLANNEL, peers(FLANNEL)) == []
    api = api_rules(FLANNEL, peers(FLANNEL))
    assert any(r.direction == "EGRESS" and r.peer == CIDRS.workers and r.ports is None for r in api)
    assert all(r.peer != CIDRS.pods for r in api + worker_rules(FLANNEL, peers(FLANNEL)))


def test_vcn_native_pods_get_their_own_table_and_reach_the_api():
    rules = pod_rules(NATIVE, peers(NATIVE))
    assert rules and all(r.direction in ("INGRESS", "EGRESS") for r in rules)
    assert any(r.direction == "EGRESS" and r.peer == CIDRS.api and r.ports == (6443, 6443) for r in rules)
    api = api_rules(NATIVE, peers(NATIVE))
    assert any(r.direction == "INGRESS" and r.peer == CIDRS.pods and r.ports == (6443, 6443) for r in api)


def test_host_only_ports_open_only_to_the_host_ports_nsg():
    args = dataclasses.replace(NATIVE, host_only_ports=dict(RAY_HOST_PORTS))
    rules = worker_rules(args, peers(args, hosts_nsg="ocid1.networksecuritygroup.oc1..hosts"))
    for rule in rules:
        if rule.direction != "INGRESS" or rule.peer_type == "NETWORK_SECURITY_GROUP":
            continue
        low, high = rule.ports or (0, 65535)
        if rule.protocol in ("6", "all"):
            assert not [p for p in RAY_HOST_PORTS if low <= p <= high], rule
    from_nsg = {r.ports for r in rules if r.peer_type == "NETWORK_SECURITY_GROUP"}
    assert from_nsg == {(p, p) for p in RAY_HOST_PORTS}


def test_clients_reach_node_ports_directly_only_when_the_nlb_keeps_their_ips():
    def client_rules(args: OkeNetworkArgs) -> list:
        return [r for r in worker_rules(args, peers(args)) if r.peer == "203.0.113.0/24"]

    assert client_rules(FLANNEL) == []
    nlb = client_rules(dataclasses.replace(FLANNEL, lb_preserves_client_ip=True))
    assert [r.ports for r in nlb] == [(NODE_PORT_MIN, NODE_PORT_MAX)]


def test_file_storage_takes_nfs_from_workers_and_native_pods_only_when_present():
    assert fss_rules(peers(dataclasses.replace(FLANNEL, subnets=dataclasses.replace(CIDRS, file_storage=None)))) == []
    assert {r.peer for r in fss_rules(peers(FLANNEL))} == {CIDRS.workers}
    assert {r.peer for r in fss_rules(peers(NATIVE))} == {CIDRS.workers, CIDRS.pods}
    assert {(r.protocol, r.ports) for r in fss_rules(peers(FLANNEL))} == {
        ("6", (111, 111)), ("6", (2048, 2050)), ("17", (111, 111)), ("17", (2048, 2048)),
    }  # fmt: skip


def test_a_cidr_in_two_allow_lists_is_one_rule():
    args = dataclasses.replace(FLANNEL, api_allowed_cidrs=["198.51.100.7/32", "198.51.100.7/32"])
    rules = api_rules(args, peers(args))
    assert len(unique(rules)) == len(rules) - 1


def test_load_balancer_subnet_lets_each_client_reach_each_listener_once():
    args = dataclasses.replace(FLANNEL, lb_allowed_cidrs=["203.0.113.0/24", "203.0.113.0/24", "198.51.100.0/24"],
                               lb_listener_ports=[80, 443])  # fmt: skip
    ingress, egress = lb_security_list_rules(args, CIDRS.workers)
    assert len(ingress) == 4
    ports = [(o.min, o.max) for o in (cast(Any, e.tcp_options) for e in egress)]
    assert ports == [(NODE_PORT_MIN, NODE_PORT_MAX), (10256, 10256)]
