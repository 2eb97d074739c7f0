"""NetworkPolicies of the serving namespace, evaluated the way Kubernetes does (a pod selected by an
ingress policy accepts only what one of its rules allows; peers with both selectors need both) over
the pods the plan really creates."""

from __future__ import annotations

from typing import Any

import pytest

from components.workloads.network_policy import NamespaceIngress, ServingNetworkPoliciesArgs, policy_specs
from tests.harness import (
    KUBERNETES_STACKS,
    STACKS,
    config_error,
    default_run,
    k8s_object,
    k8s_objects,
    preview,
    serving_namespace,
)


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
        }[operator]
        if not ok:
            return False
    return True


def allowed(
    run, source_namespace: str, source_labels: dict[str, str], target_labels: dict[str, str], port: int
) -> bool:
    """Would a TCP connection from a pod (source) to a pod of the serving namespace (target) be admitted?"""
    policies = [o for o in k8s_objects(run) if o["kind"] == "NetworkPolicy"]
    namespace = policies[0]["metadata"]["namespace"]
    selecting = [
        p
        for p in policies
        if "Ingress" in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], target_labels)
    ]
    if not selecting:
        return True
    source_namespace_labels = {"kubernetes.io/metadata.name": source_namespace}
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                in_namespace = (
                    _matches(peer["namespaceSelector"], source_namespace_labels)
                    if "namespaceSelector" in peer
                    else source_namespace == namespace
                )
                pods = _matches(peer["podSelector"], source_labels) if "podSelector" in peer else True
                if "ipBlock" not in peer and in_namespace and pods:
                    return True
    return False


def _pod_labels(obj: dict[str, Any], template: str = "template") -> dict[str, str]:
    spec = obj["spec"]
    if obj["kind"] == "RayCluster":
        return spec["headGroupSpec"]["template"]["metadata"]["labels"] if template == "head" else (
            spec["workerGroupSpecs"][0]["template"]["metadata"]["labels"]
        )  # fmt: skip
    return spec["template"]["metadata"]["labels"]


def _namespace(run) -> str:
    return serving_namespace(run)["metadata"]["name"]


def _server_labels(run) -> dict[str, str]:
    ray = [o for o in k8s_objects(run) if o["kind"] == "RayCluster"]
    return _pod_labels(ray[0], "head") if ray else _pod_labels(k8s_object(run, "Deployment", "vllm"))


def _entry_labels(run) -> dict[str, str]:
    return _pod_labels(k8s_object(run, "Deployment", "vllm-entry"))


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_vllm_port_only_from_the_entry_point_and_the_namespaces_own_pods(stack):
    run = default_run(stack)
    ns, vllm = _namespace(run), _server_labels(run)
    assert allowed(run, ns, _entry_labels(run), vllm, 8000), "the entry point forwards /v1 to vLLM"
    assert allowed(run, ns, {"batch.kubernetes.io/job-name": "model-download"}, vllm, 8000), "the namespace's Jobs"
    assert not allowed(run, "default", {"app": "anything"}, vllm, 8000), "no other namespace reaches vLLM"
    # Only the stack's own Prometheus namespace (observability) or endpoint.monitoringNamespace scrapes it.
    assert not allowed(run, "other-monitoring", {"app.kubernetes.io/name": "prometheus"}, vllm, 8000)
    assert not allowed(run, ns, _entry_labels(run), vllm, 9999), "only vLLM's port"


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_default_deny_and_the_entry_point_open_on_its_port_only(stack):
    run = default_run(stack)
    ns, entry = _namespace(run), _entry_labels(run)
    deny = k8s_object(run, "NetworkPolicy", "default-deny-ingress")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert not allowed(run, ns, {"app": "x"}, {"app": "some-new-pod"}, 1234), "nothing new is open by default"
    assert allowed(run, "default", {"app": "client"}, entry, 8080), "clients, load balancer and Gateway reach it"
    assert not allowed(run, "default", {"app": "client"}, entry, 8081), "its health port is not open"


def test_a_configured_monitoring_namespace_may_scrape_vllm():
    run = preview(
        "doks", endpoint={"kind": "gateway", "gatewayClassName": "cilium", "monitoringNamespace": "monitoring"}
    )
    assert run.error is None, run.error
    vllm = _server_labels(run)
    assert allowed(run, "monitoring", {"app.kubernetes.io/name": "prometheus"}, vllm, 8000)
    assert not allowed(run, "default", {"app.kubernetes.io/name": "prometheus"}, vllm, 8000)


def test_monitoring_namespace_must_be_a_namespace_name():
    message = config_error(preview("doks", endpoint={"monitoringNamespace": "Not A Namespace"}))
    assert "endpoint.monitoringNamespace" in message and "pattern" in message, "a namespace name, not any string"


@pytest.mark.parametrize("stack", [s for s in STACKS if s in ("oci-h100-rdma", "existing-cluster")])
def test_ray_ports_only_between_the_ray_pods(stack):
    run = default_run(stack)
    ns = _namespace(run)
    cluster = k8s_object(run, "RayCluster")
    head, worker = _pod_labels(cluster, "head"), _pod_labels(cluster, "worker")
    for port in (6379, 8265, 10001):  # GCS, dashboard, client
        assert allowed(run, ns, worker, head, port)
        assert allowed(run, ns, head, worker, port)
        assert not allowed(run, ns, _entry_labels(run), head, port), f"the entry point cannot reach Ray's {port}"
        assert not allowed(run, ns, {"batch.kubernetes.io/job-name": "x"}, head, port)
        assert not allowed(run, "kuberay-system", {"app.kubernetes.io/name": "kuberay-operator"}, head, port)


@pytest.mark.parametrize("stack", [s for s in STACKS if s in ("oci-h100-rdma", "existing-cluster")])
def test_ray_dashboard_binds_to_loopback_unless_configured(stack):
    params = k8s_object(default_run(stack), "RayCluster")["spec"]["headGroupSpec"]["rayStartParams"]
    assert params["dashboard-host"] == "127.0.0.1", "its job API runs arbitrary code"


def test_ray_dashboard_opens_only_when_configured():
    stack = "existing-cluster"  # the same RayVllmServer as oci-h100-rdma, without the cloud mocks
    opened = preview(stack, ray={"dashboardHost": "0.0.0.0"})
    assert opened.error is None, opened.error
    assert k8s_object(opened, "RayCluster")["spec"]["headGroupSpec"]["rayStartParams"]["dashboard-host"] == "0.0.0.0"
    assert "ray.dashboardHost" in config_error(preview(stack, ray={"dashboardHost": "10.0.0.1"}))


def _args(**overrides: Any) -> ServingNetworkPoliciesArgs:
    base: dict[str, Any] = {
        "namespace": "serving",
        "entry_labels": {"app": "entry"},
        "entry_port": 8080,
        "server_labels": {"app": "vllm"},
        "server_port": 8000,
    }
    return ServingNetworkPoliciesArgs(**{**base, **overrides})


def test_named_namespaces_reach_only_the_named_ports_of_the_named_pods():
    access = NamespaceIngress("allow-system", {"app": "vllm"}, (8012, 9090), ("system-a", "system-b"))
    specs = policy_specs(_args(entry_port=None, namespace_ingress=(access,)))
    assert "allow-entry-point" not in specs, "no entry port: nothing is open to everyone"
    assert specs["allow-system"] == {
        "pod_selector": {"match_labels": {"app": "vllm"}},
        "policy_types": ["Ingress"],
        "ingress": [
            {
                "from_": [
                    {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "system-a"}}},
                    {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "system-b"}}},
                ],
                "ports": [{"port": 8012, "protocol": "TCP"}, {"port": 9090, "protocol": "TCP"}],
            }
        ],
    }
    assert list(specs) == ["default-deny-ingress", "allow-vllm-api", "allow-system"]
    assert "allow-system" not in policy_specs(_args()), "none unless asked"


@pytest.mark.parametrize(
    "access",
    [
        NamespaceIngress("allow-system", {"app": "vllm"}, (8012,), ()),  # `from: []` admits every source
        NamespaceIngress("allow-system", {"app": "vllm"}, (), ("system",)),  # `ports: []` admits every port
        NamespaceIngress("allow-vllm-api", {"app": "vllm"}, (8012,), ("system",)),  # would replace a policy
    ],
)
def test_namespace_ingress_never_opens_more_than_it_names(access):
    with pytest.raises(ValueError):
        policy_specs(_args(namespace_ingress=(access,)))
