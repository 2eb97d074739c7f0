"""OKE versions and images that exist: `oke.kubernetesVersion` is pinned to a version OKE offers (looked
up with get_cluster_option at run time), and an unset version, a version or an image OKE does not offer
is a one-line ConfigError naming the key, before any resource is registered (not an empty image lookup
at `pulumi up`)."""

from __future__ import annotations

import pytest

from stacks.builders.oke_offers import ImageInfo, NodeImage, choose_version, image_problem
from stacks.errors import ConfigError
from tests.harness import config_error, one, preview
from tools.mocks_oci import KUBERNETES_VERSIONS, image_ocid

NEWEST = "v1.34.2"


@pytest.mark.parametrize("stack", ["oci-a10", "oci-h100-rdma"])
def test_an_unpinned_version_is_refused_naming_the_newest_offered_one(stack):
    # Unpinned, the version would follow OKE's list and upgrade a running cluster (tests/test_day2.py).
    message = config_error(preview(stack, oke={"kubernetesVersion": None}))
    assert message.startswith("invalid stack config: llm-serving:oke.kubernetesVersion: pin the version, e.g. v1.34.2")
    assert max(KUBERNETES_VERSIONS, key=lambda v: [int(p) for p in v[1:].split(".")]) == NEWEST


def test_the_pinned_version_reaches_the_cluster_its_pools_and_their_images():
    run = preview("oci-a10", oke={"kubernetesVersion": NEWEST})
    assert run.error is None, run.error
    assert one(run, "cluster:Cluster").inputs["kubernetesVersion"] == NEWEST
    for pool, image in [("gpu-pool", "Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.34.2-1310"),
                        ("system-pool", "Oracle-Linux-8.10-2025.10.23-0-OKE-1.34.2-1310")]:  # fmt: skip
        inputs = one(run, "nodePool:NodePool", pool).inputs
        assert inputs["kubernetesVersion"] == NEWEST
        assert inputs["nodeSourceDetails"]["imageId"] == image_ocid(image)
    assert run.outputs["kubernetesVersion"] == NEWEST


def test_rdma_nodes_install_the_package_of_the_version_in_use():
    run = preview("oci-h100-rdma", oke={"kubernetesVersion": NEWEST})
    assert run.error is None, run.error
    launch = one(run, "InstanceConfiguration").inputs["instanceDetails"]["launchDetails"]
    assert launch["metadata"]["oke-k8version"] == NEWEST


@pytest.mark.parametrize("stack", ["oci-a10", "oci-h100-rdma"])
def test_a_version_oke_does_not_offer_is_refused_before_anything_is_created(stack):
    message = config_error(preview(stack, oke={"kubernetesVersion": "v1.33.5"}))
    assert "oke.kubernetesVersion: v1.33.5 is not offered by OKE in us-ashburn-1" in message
    assert NEWEST in message


def test_an_offered_version_without_a_gpu_image_names_the_image_key():
    message = config_error(preview("oci-a10", oke={"kubernetesVersion": "v1.32.1"}))
    assert "oke.gpuPool.imageId: OKE offers no GPU image for Kubernetes v1.32.1" in message


def test_an_image_that_does_not_exist_is_refused():
    missing = "ocid1.image.oc1.iad.aaaaaaaanosuchimage000000000000000000000000000000000000000000000"
    message = config_error(preview("oci-a10", oke={"systemPool": {"imageId": missing}}))
    assert f"oke.systemPool.imageId: image {missing} was not found" in message


def test_an_oke_image_built_for_another_version_is_refused():
    other = image_ocid("Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.34.2-1310")
    message = config_error(preview("oci-a10", oke={"gpuPool": {"imageId": other}}))
    assert "oke.gpuPool.imageId: Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.34.2-1310 is an OKE image for " \
           "Kubernetes v1.34.2, not v1.33.1" in message  # fmt: skip


# --- the pure rules ------------------------------------------------------------------------------------


def test_version_choice():
    offered = ["v1.33.1", "v1.33.10", "v1.34.2", "v1.9.0"]
    with pytest.raises(
        ConfigError, match=r"pin the version, e.g. v1.34.2 \(the newest OKE offers in r; offered: v1.34.2, "
    ):
        choose_version(None, offered, "r")  # numerically newest, not v1.9.0
    assert choose_version("v1.33.10", offered, "r") == "v1.33.10"
    with pytest.raises(ConfigError, match=r"v1.33.2 is not offered by OKE in r; offered: v1.34.2, v1.33.10, v1.33.1"):
        choose_version("v1.33.2", offered, "r")
    with pytest.raises(ConfigError, match="lists no Kubernetes versions"):
        choose_version(None, [], "r")


def test_custom_images_are_not_held_to_oke_image_names():
    rdma = NodeImage("rdma.imageId", "ocid1.image.x", gpu=True, oke_image=False)
    info = ImageInfo("Canonical-Ubuntu-22.04-OKE-1.30.1-custom", "Canonical Ubuntu")
    assert image_problem(rdma, info, "v1.33.1") is None
    pool = NodeImage("oke.gpuPool.imageId", "ocid1.image.x", gpu=True)
    assert image_problem(pool, info, "v1.33.1") is not None
    assert image_problem(pool, ImageInfo("Oracle-Linux-8.10-OKE-1.33.10-1", "Oracle Linux"), "v1.33.1") is not None
