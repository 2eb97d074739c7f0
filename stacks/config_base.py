"""Building blocks of the config tree shared by every platform section."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

PROJECT = "llm-serving"


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        validate_default=True,
    )


def _ipv4_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 CIDR block such as 10.0.0.0/16 ({exc})") from None
    return str(net)


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]

DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=40)]


def _pinned_image(value: str) -> str:
    # An image is pinned by a digest or a tag other than `latest`.
    name, _, digest = value.partition("@")
    if digest:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise ValueError("a digest must look like sha256:<64 hex digits>")
        return value
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        raise ValueError(f"image {value!r} has no tag; pin a version tag or a sha256 digest")
    if last.rsplit(":", 1)[1] == "latest":
        raise ValueError(f"image {value!r} uses the moving tag 'latest'; pin a version tag or digest")
    return value


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]


def no_overlap(named: dict[str, str]) -> None:
    items = [(k, ipaddress.IPv4Network(v)) for k, v in named.items()]
    for i, (a, net_a) in enumerate(items):
        for b, net_b in items[i + 1 :]:
            if net_a.overlaps(net_b):
                raise ValueError(f"{a} {net_a} overlaps {b} {net_b}; the ranges must be disjoint")


def check_replicas_fit(replicas: int, tensor_parallel_size: int, gpus_per_node: int, nodes: int, pool_key: str) -> None:
    """Single-node replicas: TP within one node, one replica per GPU node (hard anti-affinity)."""
    if tensor_parallel_size > gpus_per_node:
        raise ValueError(
            f"vllm.tensorParallelSize: {tensor_parallel_size} is more than the {gpus_per_node} GPU(s) "
            f"per node of {pool_key}"
        )
    if replicas > nodes:
        raise ValueError(
            f"vllm.replicas: {replicas} replicas need {replicas} GPU nodes (one per node, hard "
            f"anti-affinity) but {pool_key}.nodeCount is {nodes}"
        )
