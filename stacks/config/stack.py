"""The stack config: one variant per platform, chosen by `platform` (a pydantic discriminated union).

Every key lives in the project namespace (`llm-serving:<key>` in `Pulumi.<stack>.yaml`) and is
written in camelCase, as `pulumi config set --path` users type it. Unknown keys are errors.
Defaults are documented in each field's description (the README's config reference is generated
from them).

Each platform's variant (its sections, its model store, its checks across sections) lives with its
section: stacks/config/doks.py, oke.py, rdma.py, existing.py, ods.py; what they share is
stacks/config/common.py. A new platform is one more file with a `StackBase` subclass, one more
`| Variant` below, and its builder module in stacks/__init__.py's BUILDERS.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from stacks.config.base import PROJECT
from stacks.config.common import (
    StackBase,
    check_capacity,
    headroom,
    in_entry,
    model_lines,
    plan_of,
    pod_memory,
    stored_weights_gb,
    vllm_memory,
)
from stacks.config.doks import DoksStack
from stacks.config.existing import ExistingStack
from stacks.config.model_store import STORE_KINDS
from stacks.config.ods import DataScienceStack
from stacks.config.oke import OkeStack
from stacks.config.rdma import OkeRdmaStack
from stacks.config.syntax import shown
from stacks.errors import ConfigError

__all__ = [
    "PLATFORMS",
    "PLATFORM_DESCRIPTION",
    "PROJECT",
    "AnyStack",
    "DataScienceStack",
    "DoksStack",
    "ExistingStack",
    "OkeRdmaStack",
    "OkeStack",
    "StackBase",
    "StackConfig",
    "check_capacity",
    "headroom",
    "headroom_lines",
    "in_entry",
    "model_lines",
    "parse",
    "plan_of",
    "pod_memory",
    "stored_weights_gb",
    "vllm_memory",
]

AnyStack = DoksStack | OkeStack | OkeRdmaStack | ExistingStack | DataScienceStack
"""One stack's config: the variant its `platform` names."""
StackConfig = Annotated[AnyStack, Field(discriminator="platform")]

PLATFORM_DESCRIPTION = (
    "Which cloud this stack builds: doks, oke, oke-rdma (oke plus multi-node RDMA GPU workers), existing (no "
    "cloud: a Kubernetes cluster you already run), or oci-data-science (no cluster: an OCI Data Science model "
    "deployment); it decides which sections the stack reads (below)."
)
VARIANTS: tuple[type[StackBase], ...] = typing.get_args(AnyStack)
PLATFORMS: dict[str, type[StackBase]] = {v.platform_name(): v for v in VARIANTS}
_ADAPTER: TypeAdapter[AnyStack] = TypeAdapter(StackConfig)


def headroom_lines(raw_config: dict[str, Any]) -> list[str]:
    """The models' plan for a `config:` block of a Pulumi.<stack>.yaml (empty if it does not parse)."""
    prefix = f"{PROJECT}:"
    values = {k.removeprefix(prefix): v for k, v in raw_config.items() if k.startswith(prefix)}
    # Credentials play no part in the plan, but their presence does (an S3 store needs its keys): each
    # given secret stands in as a placeholder.
    secrets = values.pop("secrets", None)
    if isinstance(secrets, dict):
        values["secrets"] = {k: "placeholder-0123456789abcdef" for k in secrets}
    try:
        return ["", *model_lines(parse(values, {"secrets"} if "secrets" in values else set()))]
    except ConfigError:
        return []


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for i, part in enumerate(loc):
        if i and loc[i - 1] == "modelStore" and part in STORE_KINDS:
            continue  # the discriminated union's tag (modelStore.<kind>.sizeGb) is not a key the user wrote
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("function-", "function_")):
            part = str(part) if str(part).isprintable() else repr(str(part))  # a key can hold a newline
            path += f".{part}" if path else part
    return f"{PROJECT}:{path}" if path else PROJECT


def _message(error: Any) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; keys are camelCase)"
    if error["type"] == "literal_error":
        return f"{msg} (got {shown(error.get('input'))})"
    if error["type"] in ("missing", "union_tag_not_found"):
        return "required key is missing"
    if error["type"] == "union_tag_invalid":
        names = [repr(p) for p in PLATFORMS]
        return f"Input should be {', '.join(names[:-1])} or {names[-1]} (got {shown(error['input'].get('platform'))})"
    return msg


def parse(values: dict[str, Any], secret_keys: set[str]) -> AnyStack:
    """Validate raw config values; raise ConfigError naming the first bad key."""
    if "secrets" in values and "secrets" not in secret_keys:
        raise ConfigError(
            f"{PROJECT}:secrets",
            "holds credentials in plain text; set each with `pulumi config set --secret --path secrets.<name>`",
        )
    for key in sorted(set(values) & secret_keys - {"secrets"}):
        raise ConfigError(f"{PROJECT}:{key}", "is a secret; only keys under `secrets` may be secret")
    try:
        return _ADAPTER.validate_python(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        # The union's tag (the variant) leads every location; a missing or unknown platform is `platform`'s.
        tagged = first["type"] not in ("union_tag_invalid", "union_tag_not_found")
        loc = tuple(first["loc"])[1:] if tagged else ("platform",)
        msg = _message(first)
        # A model-level check names its own key inside the message ("replicas: ..."): lift it.
        head, sep, rest = msg.partition(": ")
        if sep and re.fullmatch(r"[a-zA-Z][\w.\[\]]*", head):
            loc, msg = loc + tuple(head.split(".")), rest
        secrets = _secret_strings({k: values[k] for k in secret_keys if k in values})
        raise ConfigError(_key_path(loc), _redact(" ".join(msg.split()), secrets)) from None  # always one line


def _secret_strings(value: Any) -> list[str]:
    """Every string inside the secret keys' values (a kubeconfig's lines too), longest first."""
    found: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            found += _secret_strings(v)
    elif isinstance(value, list):
        for v in value:
            found += _secret_strings(v)
    elif isinstance(value, str) and value:
        found += [value, *(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)]
    return sorted(set(found), key=len, reverse=True)


def _redact(message: str, secrets: list[str]) -> str:
    """Never print a secret: its value (or any line of it) in the message becomes [secret]."""
    for secret in secrets:
        message = message.replace(secret, "[secret]")
        flat = " ".join(secret.split())  # the message was flattened to one line
        if len(flat) >= 8:
            message = message.replace(flat, "[secret]")
    return message
