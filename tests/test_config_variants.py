"""The stack config is one variant per platform (a discriminated union on `platform`): each committed stack
parses to its platform's class, which holds that platform's sections and no other platform's, and a
builder gets exactly that class."""

from __future__ import annotations

import pytest

from stacks.config import stack
from stacks.errors import ConfigError
from tests.harness import PROJECT, stack_config

STACKS = [
    ("doks", "DoksStack", {"doks"}),
    ("oci-a10", "OkeStack", {"oke"}),
    ("oci-h100-rdma", "OkeRdmaStack", {"oke", "rdma", "ray"}),
    ("existing-cluster", "ExistingStack", {"existing", "ray"}),
    ("oci-data-science", "DataScienceStack", {"data_science"}),
]
SECTIONS = {"doks", "oke", "rdma", "ray", "existing", "data_science"}


def parse(name: str) -> stack.AnyStack:
    raw = stack_config(name)
    values = {k.removeprefix(f"{PROJECT}:"): v for k, v in raw.items() if k.startswith(f"{PROJECT}:")}
    secrets = values.pop("secrets", None)
    if isinstance(secrets, dict):  # their presence counts (an S3 store needs its keys), not their values
        values["secrets"] = {k: "placeholder-0123456789abcdef" for k in secrets}
    return stack.parse(values, {"secrets"} if "secrets" in values else set())


@pytest.mark.parametrize(("name", "variant", "sections"), STACKS, ids=[s[0] for s in STACKS])
def test_a_stack_parses_to_its_platforms_variant_with_only_its_sections(name, variant, sections):
    cfg = parse(name)
    assert type(cfg).__name__ == variant
    assert {s for s in SECTIONS if hasattr(cfg, s)} == sections


def test_a_platform_that_scales_its_own_replicas_refuses_autoscaling_naming_the_key():
    raw = stack_config("existing-cluster")
    values = {k.removeprefix(f"{PROJECT}:"): v for k, v in raw.items() if k.startswith(f"{PROJECT}:")}
    values.pop("secrets", None)
    values.pop("ray", None)  # single-node replicas: only KServe's own scaling stands in the way
    values["existing"] = {**values["existing"], "serving": "kserve"}
    values["modelStore"] = {"kind": "s3", "endpoint": "http://minio.example:9000"}
    values["models"] = [{**values["models"][0], "autoscaling": {"enabled": True, "maxReplicas": 2}}]
    with pytest.raises(ConfigError) as error:
        stack.parse(values, set())
    assert str(error.value).startswith(f"invalid stack config: {PROJECT}:models[0].autoscaling.enabled: "), error.value
    assert "KServe scales its own predictors" in str(error.value)
