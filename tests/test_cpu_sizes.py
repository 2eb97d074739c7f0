"""Issue 14 leftovers: CPU node sizes come from the clouds' catalogs, and an endpoint open to every
address is an explicit key. Each mistake stops the preview with one line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks import catalog
from stacks.config.cpu_sizes import check_droplet_size, check_oci_cpu_shape
from tests.harness import preview
from tests.test_bad_input import rejects


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "hint"),
    [
        ("doks", {"managementPool": {"size": "s-2vcpu-5gb"}}, "doks.managementPool.size", "nearest: s-2vcpu-4gb"),
        ("doks", {"managementPool": {"size": "s-2vcpu-4GB"}}, "doks.managementPool.size", "did you mean 's-2vcpu-4gb'"),
        ("doks", {"managementPool": {"size": "gpu-h100x1-80gb"}}, "doks.managementPool.size", "GPU Droplet size"),
        ("doks", {"managementPool": {"size": "t2.medium"}}, "doks.managementPool.size", "not a DigitalOcean CPU"),
        ("doks", {"managementPool": {"size": "s-2vcpu-4gb " * 30}}, "doks.managementPool.size", "characters)"),
        ("oci-a10", {"systemPool": {"shape": "VM.Standard.E9.Flex"}}, "oke.systemPool.shape", "VM.Standard.E5.Flex"),
        ("oci-a10", {"systemPool": {"shape": "vm.standard.e5.flex"}}, "oke.systemPool.shape", "did you mean"),
        ("oci-a10", {"systemPool": {"shape": "VM.Standard.A1.Flex"}}, "oke.systemPool.shape", "Arm shape"),
        ("oci-a10", {"systemPool": {"shape": "VM.GPU.A10.1"}}, "oke.systemPool.shape", "GPU shape"),
        ("oci-a10", {"systemPool": {"shape": "n2-standard-4"}}, "oke.systemPool.shape", "not an OCI x86 CPU shape"),
        ("oci-a10", {"systemPool": {"shape": "VM.DenseIO.E4.Flex"}}, "oke.systemPool.ocpus", "takes 8, 16, 32 OCPUs"),
        ("oci-h100-rdma", {"systemPool": {"shape": "VM.Standard.E4.flex"}}, "oke.systemPool.shape", "did you mean"),
    ],
    ids=[
        "do-typo",
        "do-case",
        "do-gpu",
        "do-aws",
        "do-long",
        "oci-unknown",
        "oci-case",
        "oci-arm",
        "oci-gpu",
        "oci-gcp",
        "oci-denseio-ocpus",
        "rdma-case",
    ],
)
def test_a_cpu_size_or_shape_the_cloud_does_not_have_is_one_line_naming_the_key(stack, overrides, key, hint):
    section = "doks" if stack == "doks" else "oke"
    message = rejects(stack, f"llm-serving:{key}", hint, **{section: overrides})
    assert "\n" not in message and len(message) < 300, "one line, the long list of sizes cut"


def test_sizes_and_shapes_in_the_catalogs_pass():
    # Pure checks (the committed stacks preview s-2vcpu-4gb and VM.Standard.E5.Flex in full elsewhere).
    for size in ("so1_5-2vcpu-16gb", "c-4", "s-4vcpu-8gb-amd"):  # an underscore is part of real slugs
        check_droplet_size(size)
    for shape, ocpus in (("VM.Standard.E4.Flex", 4), ("VM.DenseIO.E5.Flex", 16), ("VM.Standard2.4", None),
                         ("BM.Standard.E5.192", None)):  # fmt: skip
        check_oci_cpu_shape(shape, ocpus)


def test_the_droplet_size_list_is_the_sdks_own():
    # The catalog is the non-GPU slugs of the pinned SDK's DropletSlug enum: an SDK update that adds or
    # drops sizes shows up here.
    import pulumi_digitalocean._enums as enums

    slugs = [s.value for s in enums.DropletSlug if not s.value.startswith("gpu-")]
    assert list(dict.fromkeys(slugs)) == catalog.DO_CPU_SIZES
    assert set(catalog.DO_GPU_SIZES) <= {s.value for s in enums.DropletSlug}


def test_the_committed_stacks_use_cataloged_cpu_sizes():
    for path in Path(__file__).resolve().parent.parent.glob("Pulumi.*.yaml"):
        text = path.read_text()
        for size in re.findall(r"managementPool:\s*\n\s+size:\s*(\S+)", text):
            check_droplet_size(size)
        for shape in re.findall(r"systemPool:\s*\n\s+shape:\s*(\S+)", text):
            check_oci_cpu_shape(shape, None)


# --------------------------------------------------------------------------------------------
# An endpoint open to every address is an explicit key, not a CIDR
# --------------------------------------------------------------------------------------------

LB = {"kind": "loadBalancer"}


@pytest.mark.parametrize(
    ("stack", "endpoint", "key", "hint"),
    [
        ("doks", {**LB, "allowedCidrs": ["0.0.0.0/0"]}, "endpoint.allowedCidrs", "endpoint.allowInternet: true"),
        ("oci-a10", {**LB, "allowedCidrs": ["203.0.113.0/24", "0.0.0.0/0"]}, "endpoint.allowedCidrs", "every address"),
        ("oci-h100-rdma", {"allowedCidrs": ["0.0.0.0/0"]}, "endpoint.allowedCidrs", "allowInternet"),
        ("existing-cluster", {**LB, "allowedCidrs": ["0.0.0.0/0"]}, "endpoint.allowedCidrs", "allowInternet"),
        (
            "doks",
            {**LB, "allowedCidrs": ["203.0.113.0/24"], "allowInternet": True},
            "endpoint.allowInternet",
            "0.0.0.0/0",
        ),
        ("doks", {**LB, "allowedCidrs": ["::/0"]}, "endpoint.allowedCidrs[0]", ""),
    ],
    ids=["doks", "oke-second", "rdma", "existing", "opt-in-without-world", "ipv6-world"],
)
def test_an_endpoint_open_to_every_address_needs_allow_internet(stack, endpoint, key, hint):
    rejects(stack, f"llm-serving:{key}", hint, endpoint=endpoint)


def test_allow_internet_opens_the_load_balancer_to_every_address():
    run = preview("doks", endpoint={**LB, "allowedCidrs": ["0.0.0.0/0"], "allowInternet": True})
    assert run.error is None, run.error
    service = next(r for r in run.registered() if r.type == "kubernetes:core/v1:Service"
                   and r.inputs.get("spec", {}).get("type") == "LoadBalancer")  # fmt: skip
    assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["0.0.0.0/0"]
