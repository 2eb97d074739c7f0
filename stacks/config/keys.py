"""`secrets.apiKeys`: the front door's named API keys, one per team or app (components/workloads/router.py).

Each is checked like `secrets.apiKey` (stacks/config_syntax.api_key_strength) and must be an RFC 6750
bearer token (`b64token`: letters, digits, `-._~+/`, then `=` padding), which is what `Authorization:
Bearer` carries and what the door's nginx map reads without quoting trouble. Rotating a key is a config
change: the door's pods roll with the new set.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, SecretStr

from stacks.config.base import DNS_LABEL
from stacks.config.syntax import api_key_strength

BEARER_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")


def bearer_key(value: SecretStr) -> SecretStr:
    """Raise ValueError (never showing the key) unless it is a strong bearer token."""
    key = value.get_secret_value()
    api_key_strength(key)
    if not BEARER_TOKEN.fullmatch(key):
        raise ValueError(
            "must be a bearer token: letters, digits and - . _ ~ + / (then = padding), e.g. `openssl rand -hex 24`"
        )
    return value


def key_names(keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
    """The names show in the door's logs and config: DNS labels."""
    for name in keys:
        if not re.fullmatch(DNS_LABEL, name) or len(name) > 40:
            raise ValueError(f"key name {name!r} must be lowercase letters, digits and '-' (e.g. team-a), at most 40")
    return keys


DoorKey = Annotated[SecretStr, AfterValidator(bearer_key)]
ApiKeys = Annotated[dict[str, DoorKey], AfterValidator(key_names)]
