"""Typed Kubernetes arguments (snake_case keys) -> the API's wire form (camelCase), for parts placed in an
untyped custom resource such as a RayCluster, whose spec Pulumi passes through unchanged."""

from __future__ import annotations

from typing import Any


def camel(value: Any) -> Any:
    """snake_case keys, recursively through dicts and lists, -> camelCase; values unchanged."""
    if isinstance(value, dict):
        return {_camel_key(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
