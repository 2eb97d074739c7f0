"""Syntax of values that the clouds, Kubernetes and the Hugging Face Hub check only later (after the
plan is written, or mid-deploy): each validator raises ValueError with what is allowed, and never
echoes a long value whole."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator


def shown(value: Any, limit: int = 48) -> str:
    """A value for an error message: repr, cut when long (a pasted kubeconfig must not fill the log)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-1]} ({len(str(value))} characters)"


# --------------------------------------------------------------------------------------------
# Hugging Face Hub
# --------------------------------------------------------------------------------------------

# huggingface_hub/utils/_validators.py (validate_repo_id): `namespace/name`, each of alphanumerics and
# `_ - .`, name at most 96, no `--` or `..`, not ending in `.git`. The Hub's ids are ASCII; Python's
# `\w` is not, so a look-alike letter (Cyrillic U+0430 for `a`) would pass `\w` and fail only at download time.
_HUB_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?"
_HUB_ID = re.compile(rf"{_HUB_PART}/(?=.{{1,96}}$){_HUB_PART}")


def hub_id(value: str) -> str:
    bad = sorted({c for c in value if not c.isascii() or not c.isprintable()})
    if bad:
        raise ValueError(
            f"has characters a Hugging Face id cannot have ({', '.join(f'U+{ord(c):04X}' for c in bad)}: a non-ASCII "
            "look-alike?); use `org/name` in ASCII letters, digits, `_ - .`"
        )
    if not _HUB_ID.fullmatch(value) or "--" in value or ".." in value or value.endswith(".git"):
        raise ValueError(
            f"{shown(value)} is not a Hugging Face model id: `org/name` of ASCII letters, digits and `_ - .` "
            "(no `--` or `..`, not ending in .git)"
        )
    return value


def revision(value: str) -> str:
    """A branch, tag or commit: used as a directory name on the model store, so `.`/`..` would escape it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", value):
        raise ValueError(f"{shown(value)} must be a branch, tag or commit of ASCII letters, digits and `_ - .`")
    if value.strip(".") == "" or ".." in value or value.startswith("."):
        raise ValueError(f"{shown(value)} would name a directory outside the model's own (no leading `.`, no `..`)")
    return value


def served_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", value):
        raise ValueError(f"{shown(value)} must be ASCII letters, digits and `_ - .`, starting with a letter or digit")
    return value


def absolute_path(value: str) -> str:
    """An export path on a server: absolute, no `.`/`..` segments that climb out of the export."""
    if not value.startswith("/") or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f"{shown(value)} must be an absolute path without spaces, e.g. /exports/models")
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError(f"{shown(value)} has a `.` or `..` segment; give the export path itself")
    return value


HubId = Annotated[str, AfterValidator(hub_id)]
Revision = Annotated[str, AfterValidator(revision)]
ServedName = Annotated[str, AfterValidator(served_name)]
AbsolutePath = Annotated[str, AfterValidator(absolute_path)]


# --------------------------------------------------------------------------------------------
# Kubernetes names, labels, taints (k8s.io/apimachinery/pkg/util/validation/validation.go:
# IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain, IsDNS1123Label)
# --------------------------------------------------------------------------------------------

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def dns_subdomain(value: str, what: str = "a DNS name") -> str:
    """RFC 1123 subdomain: lower-case labels of at most 63 characters, 253 in all."""
    if len(value) > 253 or not all(len(p) <= 63 and _DNS1123_LABEL.fullmatch(p) for p in value.split(".")):
        raise ValueError(
            f"{shown(value)} is not {what}: dot-separated labels of a-z, 0-9 and `-` (at most 63 each, 253 in all), "
            "starting and ending with a letter or digit"
        )
    return value


def label_key(value: str) -> str:
    """A label or taint key: `[prefix/]name`, name at most 63 of [A-Za-z0-9-_.], prefix a DNS subdomain."""
    prefix, sep, name = value.rpartition("/")
    if sep:
        dns_subdomain(prefix, "a valid key prefix (a DNS subdomain such as nvidia.com)")
    if not (0 < len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name)):
        raise ValueError(
            f"{shown(value)} is not a Kubernetes label/taint key: [prefix/]name, name at most 63 characters of "
            "A-Z a-z 0-9 `- _ .`, starting and ending alphanumeric"
        )
    return value


def label_value(value: str) -> str:
    if value and not (len(value) <= 63 and _QUALIFIED_NAME.fullmatch(value)):
        raise ValueError(
            f"{shown(value)} is not a Kubernetes label value: at most 63 characters of A-Z a-z 0-9 `- _ .`, "
            "starting and ending alphanumeric (or empty)"
        )
    return value


def label_map(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        try:
            label_key(key)
        except ValueError as exc:
            raise ValueError(f"key {exc}") from None
        label_value(item)
    return value


LabelKey = Annotated[str, AfterValidator(label_key)]
LabelMap = Annotated[dict[str, str], AfterValidator(label_map)]

# Namespaces Kubernetes itself uses (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
# "Initial namespaces") and OpenShift's reserved `openshift-*` / `kube-*` prefixes
# (https://docs.openshift.com/container-platform/4.17/applications/projects/working-with-projects.html:
# "projects starting with openshift- and kube- are considered critical").
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "openshift")
RESERVED_NAMESPACE_PREFIXES = ("kube-", "openshift-")


def workload_namespace(value: str) -> str:
    if value in RESERVED_NAMESPACES or value.startswith(RESERVED_NAMESPACE_PREFIXES):
        raise ValueError(
            f"{value!r} is reserved for the cluster itself (default, kube-*, openshift-*); use a namespace of "
            "the workload's own, e.g. vllm"
        )
    return value


def hostname(value: str) -> str:
    """A host name a Gateway HTTPRoute can match: a DNS subdomain, optionally with a leading `*.`
    (Gateway API `Hostname`: gateway-api apis/v1/shared_types.go)."""
    name = value[2:] if value.startswith("*.") else value
    if "." not in name:
        raise ValueError(f"{shown(value)} is not a fully qualified host name such as api.example.com")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return dns_subdomain(name, "a DNS host name")
    raise ValueError(f"{shown(value)} is an IP address; a route matches host names")


def server(value: str) -> str:
    """An NFS server: an IPv4 address or a DNS name."""
    try:
        ipaddress.IPv4Address(value)
        return value
    except ValueError:
        return dns_subdomain(value.lower() if value.isascii() else value, "an IPv4 address or a DNS host name")


Hostname = Annotated[str, AfterValidator(hostname)]
Server = Annotated[str, AfterValidator(server)]


# --------------------------------------------------------------------------------------------
# Image references (github.com/distribution/reference, regexp.go: name components, optional
# registry host[:port], tag `[\w][\w.-]{0,127}`, digest `algorithm:hex`)
# --------------------------------------------------------------------------------------------

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
# The first component is a registry host only when it has a `.` or a `:` or is `localhost` (docker's
# splitDockerDomain); otherwise it is part of the (lower-case) repository path.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})+(?::[0-9]+)?|{_LABEL}:[0-9]+|localhost|\[[0-9a-fA-F:]+\](?::[0-9]+)?)"
_IMAGE = re.compile(
    rf"(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


def image_reference(value: str) -> str:
    """A syntactically valid reference, pinned: a version tag (not `latest`) or a sha256 digest."""
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValueError(f"{shown(value)} has whitespace in it; an image reference has none")
    name, _, digest = value.partition("@")
    last = name.rsplit("/", 1)[-1]
    if name.endswith(":") or (":" in last and not last.rsplit(":", 1)[1]):
        raise ValueError(f"{shown(value)} has an empty tag after `:`; pin a version tag or a sha256 digest")
    m = _IMAGE.fullmatch(value)
    if m is None:
        raise ValueError(
            f"{shown(value)} is not an image reference ([registry/]repository[:tag][@sha256:digest], repository in "
            "lower case)"
        )
    if digest:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise ValueError("a digest must look like sha256:<64 hex digits>")
        return value
    if m.group("tag") is None:
        raise ValueError(f"image {value!r} has no tag; pin a version tag or a sha256 digest")
    if m.group("tag") == "latest":
        raise ValueError(f"image {value!r} uses the moving tag 'latest'; pin a version tag or digest")
    return value


# vLLM turns API-key authentication on only for a non-empty key (vllm 0.33.0, vllm/entrypoints/serve/middleware/register.py:
# `if tokens := [key for key in (args.api_key or [envs.VLLM_API_KEY]) if key]`): an empty key serves
# without authentication, a short one is guessed. 20 characters of at least 10 different ones is ~80 bits
# for a hex key; `openssl rand -hex 24` gives 48.
API_KEY_MIN_LENGTH = 20
API_KEY_MIN_DISTINCT = 10


def api_key_strength(key: str) -> None:
    """Raise ValueError (never showing the key) when it is too weak to be the endpoint's only lock."""
    if any(c.isspace() or not c.isprintable() for c in key):
        raise ValueError("has whitespace or control characters; clients send it in an HTTP header")
    if len(key) < API_KEY_MIN_LENGTH or len(set(key)) < API_KEY_MIN_DISTINCT:
        raise ValueError(
            f"is too weak to be the endpoint's only authentication: use at least {API_KEY_MIN_LENGTH} characters with "
            f"at least {API_KEY_MIN_DISTINCT} different ones (e.g. `openssl rand -hex 24`), or leave it unset for a "
            "generated 40-character key"
        )
