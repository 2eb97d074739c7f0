"""Ray pods on a real cluster: the environment every vLLM process needs, a disruption budget that keeps a
node drain from silently killing the only replica, and a KubeRay operator that knows every field of the
RayCluster schemas the manifests are checked against."""

from __future__ import annotations

import hashlib
import re

import pytest

from components.workloads.ray_vllm import socket_env
from stacks import catalog
from tests.harness import containers, default_run, env_of, k8s_object, one
from tools.manifests import CRDS_DIR

RAY_STACKS = ["oci-h100-rdma", "existing-cluster"]  # RDMA on the host network; TCP on OpenShift


@pytest.mark.parametrize("stack", RAY_STACKS)
def test_every_ray_container_has_user_and_gloo_on_the_nccl_interface(stack):
    cluster = k8s_object(default_run(stack), "RayCluster", "vllm")
    for container in containers(cluster):
        env = env_of(container)
        assert env["USER"] == "vllm", f"{container['name']}: arbitrary UIDs have no passwd entry for getpass"
        assert env["NCCL_SOCKET_IFNAME"], "both stacks pin NCCL's interface"
        assert env["GLOO_SOCKET_IFNAME"] == env["NCCL_SOCKET_IFNAME"], container["name"]


def test_gloo_follows_nccl_only_where_nccl_is_pinned():
    assert socket_env({"NCCL_SOCKET_IFNAME": "ens3"})["GLOO_SOCKET_IFNAME"] == "ens3"
    assert "GLOO_SOCKET_IFNAME" not in socket_env({"NCCL_IB_DISABLE": "1"})
    pinned = {"NCCL_SOCKET_IFNAME": "eth0", "GLOO_SOCKET_IFNAME": "bond0"}
    assert socket_env(pinned) == pinned, "an explicit GLOO_SOCKET_IFNAME is kept"


@pytest.mark.parametrize("stack", RAY_STACKS)
def test_ray_pods_have_a_disruption_budget_that_blocks_silent_eviction(stack):
    run = default_run(stack)
    cluster = k8s_object(run, "RayCluster", "vllm")
    pdb = k8s_object(run, "PodDisruptionBudget", "vllm-ray")
    assert pdb["spec"]["maxUnavailable"] == 0, "one replica spans all Ray pods: any eviction kills it"
    selector = pdb["spec"]["selector"]["matchLabels"]
    head = cluster["spec"]["headGroupSpec"]["template"]["metadata"]["labels"]
    workers = [g["template"]["metadata"]["labels"] for g in cluster["spec"]["workerGroupSpecs"]]
    for labels in [head, *workers]:
        assert selector.items() <= labels.items(), "the budget covers the head and every worker"
    assert pdb["metadata"]["namespace"] == cluster["metadata"]["namespace"]


def test_kuberay_chart_is_the_release_whose_crds_are_vendored():
    readme = (CRDS_DIR / "README.md").read_text()
    vendored = re.search(r"schemas are those of KubeRay v(\d+\.\d+\.\d+)", readme)
    assert vendored, "../shared/crds/README.md names the KubeRay release of its RayCluster schema"
    assert catalog.KUBERAY_CHART["version"] == vendored.group(1)
    # The chart of that release ships this exact CRD (helm-chart/kuberay-operator/crds/ at the tag).
    crd = (CRDS_DIR / "ray.io_rayclusters.yaml").read_bytes()
    assert hashlib.sha256(crd).hexdigest() == catalog.KUBERAY_CHART["crd_sha256"]
    release = one(default_run("oci-h100-rdma"), "helm.sh/v3:Release")
    assert release.inputs["version"] == vendored.group(1)
