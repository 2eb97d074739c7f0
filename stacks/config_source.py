"""Read this project's structured stack config as plain data, knowing which keys are secret.

Pulumi hands a program its config as strings, structured values as JSON, with the set of secret
keys beside them (`PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS` from the CLI, or
`set_all_config` under the automation API and the mock engine).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config


def _all_values() -> dict[str, Any]:
    values = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    return values


def _secret_keys() -> set[str]:
    keys = set(runtime_config.get_config_secret_keys_env())
    return keys | {k for k in _all_values() if runtime_config.is_config_secret(k)}


def _parse(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_project_config(project: str | None = None) -> tuple[dict[str, Any], set[str]]:
    """Return ({key-without-namespace: value}, {secret keys}) for the project namespace."""
    project = project or pulumi.get_project()
    prefix = f"{project}:"
    values = {k[len(prefix) :]: _parse(v) for k, v in _all_values().items() if k.startswith(prefix)}
    secrets = {k[len(prefix) :] for k in _secret_keys() if k.startswith(prefix)}
    return values, secrets
