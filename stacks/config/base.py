"""Building blocks of the config tree shared by every platform section."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from components.conventions import PROJECT as PROJECT
from stacks.config.syntax import image_reference, shown


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
# A Kubernetes object named by a DNS-1123 label (a namespace, a RuntimeClass): up to 63 characters.
KubernetesLabelName = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]

# A tenancy's Object Storage namespace, as `oci os ns get` prints it (also OCIR's tenancy namespace).
ObjectStorageNamespace = Annotated[str, Field(pattern=r"^[a-z0-9]+$")]


PinnedImage = Annotated[str, AfterValidator(image_reference)]
"""A valid image reference pinned by a version tag (not `latest`) or a sha256 digest."""


def no_overlap(named: dict[str, str]) -> None:
    items = [(k, ipaddress.IPv4Network(v)) for k, v in named.items()]
    for i, (a, net_a) in enumerate(items):
        for b, net_b in items[i + 1 :]:
            if net_a.overlaps(net_b):
                raise ValueError(f"{a} {net_a} overlaps {b} {net_b}; the ranges must be disjoint")


def refuse_world(key: str, cidrs: list[str], what: str, policy: str, instead: str) -> None:
    """The config agrees with the policy pack: a CIDR list that would open `what` to the internet is
    refused here with the policy's name, not after the plan is written."""
    for cidr in cidrs:
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            raise ValueError(
                f"{key}: {cidr} opens {what} to the whole internet, which the policy pack's mandatory {policy} "
                f"refuses; {instead}"
            )


# --------------------------------------------------------------------------------------------
# Kubernetes versions and OCIDs: semantic checks every platform section can use
# --------------------------------------------------------------------------------------------


def _not_a_yaml_number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f'write it as a quoted string ("{value}"); YAML reads an unquoted version as a number (1.30 becomes 1.3)'
        )
    return value


def _kubernetes_minor(value: str) -> str:
    if not re.fullmatch(r"1\.[1-9]\d", value):
        raise ValueError(f"must be a Kubernetes minor version such as 1.33 (got {value!r})")
    return value


def _kubernetes_patch(value: str) -> str:
    if not re.fullmatch(r"v1\.[1-9]\d\.\d{1,3}", value):
        raise ValueError(f"must be a Kubernetes version such as v1.33.1, with the leading v (got {value!r})")
    return value


KubernetesMinorVersion = Annotated[str, BeforeValidator(_not_a_yaml_number), AfterValidator(_kubernetes_minor)]
"""`1.33`: a minor version whose newest patch is picked at deploy time (DOKS `version_prefix`)."""
KubernetesVersion = Annotated[str, BeforeValidator(_not_a_yaml_number), AfterValidator(_kubernetes_patch)]
"""`v1.33.1`: an exact version as OKE names it."""


# ocid1.<resource type>.<realm>.[region][.future use].<unique id>
# (https://docs.oracle.com/en-us/iaas/Content/General/Concepts/identifiers.htm)
_OCID = re.compile(
    r"ocid1\.(?P<kind>[a-z0-9]+)\.(?P<realm>oc\d+)\.(?P<region>[a-z0-9-]*)(\.[a-z0-9-]+)?\.[a-z0-9]{20,}"
)


# Resource types that live in no region (IAM): their OCIDs have an empty region part (`ocid1.tenancy.oc1..<id>`).
GLOBAL_OCID_TYPES = ("tenancy", "compartment", "user", "group", "dynamicgroup", "policy")


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _ocid_format(kind: str) -> str:
    return f"ocid1.{kind}.oc1.{'' if kind in GLOBAL_OCID_TYPES else '<region>'}.<unique id>"


def ocid_validator(*kinds: str, hint: str = "") -> Callable[[str], str]:
    """A validator for OCIDs of the given resource types (any type when none is given); `hint` ends the
    message for a value that is no OCID at all (where to copy the right one from). The one OCID check of
    the config: every OCID key uses it."""

    def validate(value: str) -> str:
        m = _OCID.fullmatch(value)
        if m is None:
            if not kinds:
                raise ValueError(f"{shown(value, 80)} is not an OCID (ocid1.<type>.<realm>.<region>.<unique id>)")
            formats = ", or ".join(_ocid_format(k) for k in kinds)
            raise ValueError(f"{shown(value, 80)} is not {_a(kinds[0])} OCID ({formats}){hint}")
        kind = m.group("kind")
        if kinds and kind not in kinds:
            raise ValueError(f"{shown(value, 80)} is the OCID of a {kind}; expected {_a(' or '.join(kinds))} OCID")
        if kind in GLOBAL_OCID_TYPES and m.group("region"):
            raise ValueError(f"{shown(value, 80)}: a {kind} OCID has no region part (ocid1.{kind}.oc1..<id>)")
        return value

    return validate


def ocid_kind(value: str) -> str | None:
    """The resource type of an OCID (`vcn`, `image`, ...), or None when the value is not an OCID."""
    m = _OCID.fullmatch(value)
    return m.group("kind") if m else None


def ocid_region(value: str) -> str | None:
    """The region part of an OCID (a region key such as `iad`, or a region name), or None when it has none."""
    m = _OCID.fullmatch(value)
    return m.group("region") or None if m else None


def check_ocid_region(key: str, value: str | None, region: str, region_key: str) -> None:
    """A regional OCID (an image, a subnet) must be of the stack's region: OCI cannot use another region's."""
    if value is None:
        return
    found = ocid_region(value)
    if found is not None and found not in (region, region_key.lower()):
        raise ValueError(
            f"{key}: {value!r} is an OCID of region {found!r}, but the stack deploys to {region} ({region_key.lower()}); "
            "use the resource's OCID in that region"
        )


Ocid = Annotated[str, AfterValidator(ocid_validator())]
"""Any OCID. For one resource type: `Annotated[str, AfterValidator(ocid_validator("subnet"))]`."""
CompartmentOcid = Annotated[
    str, AfterValidator(ocid_validator("compartment", "tenancy", hint="; copy it from Identity > Compartments"))
]
"""A compartment; the tenancy OCID names the root compartment."""
SubnetOcid = Annotated[str, AfterValidator(ocid_validator("subnet"))]
VcnOcid = Annotated[str, AfterValidator(ocid_validator("vcn"))]
ImageOcid = Annotated[str, AfterValidator(ocid_validator("image"))]
TenancyOcid = Annotated[str, AfterValidator(ocid_validator("tenancy"))]
UserOcid = Annotated[str, AfterValidator(ocid_validator("user"))]

# The committed stack files carry obviously fake, format-valid OCIDs: every user sets their own (the
# builders warn while one is left).
PLACEHOLDER_COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaareplacewithyourcompartmentocid00000000000000000000000"
PLACEHOLDER_TENANCY = "ocid1.tenancy.oc1..aaaaaaaareplacewithyourtenancyocid0000000000000000000000000000"
