"""Read this project's structured stack config as plain data, knowing which keys are secret; and check
the stack file itself (`Pulumi.<stack>.yaml`) for what the config tree cannot see.

Pulumi hands a program its config as strings, structured values as JSON, with the set of secret
keys beside them (`PULUMI_CONFIG` / `PULUMI_CONFIG_SECRET_KEYS` from the CLI, or
`set_all_config` under the automation API and the mock engine). A key is secret as a whole: the CLI
marks `llm-serving:secrets` secret when any value under it is `secure:`, and hands the program the
decrypted map, so a plain-text sibling of a secure value cannot be told apart from the program's
config. That check needs the stack file, which `check_stack_config` reads (the offline preview
calls it on the file it previews; the program calls it on `Pulumi.<stack>.yaml` under the CLI).
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config

from stacks.config.syntax import shown
from stacks.errors import ConfigError

# Top-level keys of a stack settings file (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/
# and `pulumi config --help`): `config`, the secrets provider's own keys, and ESC environments.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Config namespaces besides the project's: the providers the program uses (pyproject.toml) and Pulumi's own.
PROVIDER_NAMESPACES = ("oci", "digitalocean", "kubernetes", "random", "pulumi")
SECRETS_KEY = "secrets"


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
    """Return ({key-without-namespace: value}, {secret keys}) for the project namespace.

    Keys of a namespace that is neither this project's nor a provider's are refused: a misspelled
    project prefix would otherwise leave the stack running on defaults.
    """
    project = project or pulumi.get_project()
    all_values = _all_values()
    for key in sorted(all_values):
        check_namespace(key, project)
    if os.environ.get("PULUMI_CONFIG") is not None:  # under the Pulumi CLI: the stack file is on disk
        stack_file = Path(f"Pulumi.{pulumi.get_stack()}.yaml")
        if stack_file.is_file():
            check_stack_config(parse_stack_file(stack_file.read_bytes(), stack_file.name), project)
    prefix = f"{project}:"
    values = {k[len(prefix) :]: _parse(v) for k, v in all_values.items() if k.startswith(prefix)}
    secrets = {k[len(prefix) :] for k in _secret_keys() if k.startswith(prefix)}
    return values, secrets


# --------------------------------------------------------------------------------------------
# The stack file
# --------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key (a list or mapping used as a key)
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if duplicate:
            first = seen[key].start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shown(key)} (first at line {first.line + 1}); the last one would win",
                key_node.start_mark,
            )  # fmt: skip
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_stack_file(data: bytes, source: str) -> dict[str, Any]:
    """The `config:` mapping of a stack file, or a one-line ConfigError naming `source:line:column`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{source}:{line}:{column}", "is not UTF-8 text (save the file as UTF-8)") from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if ("\t" in text and "tab" in problem.lower()) or "found character '\\t'" in str(exc):
            problem += " (YAML indents with spaces, never tabs)"
        kind = "" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error: "
        raise ConfigError(where, f"{kind}{problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, f"YAML error: {' '.join(str(exc).split())}") from None
    if document is None:
        raise ConfigError(source, "is empty; a stack file is a mapping with a `config:` block")
    if not isinstance(document, dict):
        raise ConfigError(source, f"must be a mapping with a `config:` block, not a {_yaml_type(document)}")
    for key in document:
        if key not in STACK_FILE_KEYS:
            hint = difflib.get_close_matches(str(key), STACK_FILE_KEYS, n=1)
            raise ConfigError(
                f"{source}: {shown(key)}",
                f"unknown top-level key{f' (did you mean {hint[0]!r}?)' if hint else ''}; a stack file has "
                f"{', '.join(STACK_FILE_KEYS)}",
            )
    if "config" not in document:
        raise ConfigError(f"{source}: config", "is missing; the stack's settings go under `config:`")
    config = document["config"]
    if not isinstance(config, dict):
        raise ConfigError(
            f"{source}: config", f"must be a mapping of `<namespace>:<key>: value`, not a {_yaml_type(config)}"
        )
    return config


def _yaml_type(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def check_namespace(key: Any, project: str) -> None:
    """A config key is `<namespace>:<name>`, in this project's namespace or a provider's."""
    if not isinstance(key, str) or ":" not in key:
        raise ConfigError(
            f"{project}:{shown(key)}" if isinstance(key, str) else shown(key),
            f"config keys are namespaced: write {project}:<key> (or a provider's, e.g. oci:region)",
        )
    namespace = key.split(":", 1)[0]
    if namespace == project or namespace in PROVIDER_NAMESPACES:
        return
    close = difflib.get_close_matches(namespace.lower(), [project], n=1, cutoff=0.6)
    if close:
        raise ConfigError(
            shown(key, 80), f"misspelled project prefix {namespace!r}; this project's keys are {project}:<key>"
        )
    raise ConfigError(
        shown(key, 80),
        f"belongs to another project or provider ({namespace!r}); this program reads {project}:<key> and the "
        f"providers {', '.join(PROVIDER_NAMESPACES)}",
    )


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def check_stack_config(config: dict[str, Any], project: str) -> None:
    """What only the stack file shows: every key namespaced for this project or a provider, and
    every credential under `<project>:secrets` a `secure:` value of its own (a plain-text sibling
    of a secure value would be committed to git and still reach the program as a secret)."""
    for key in config:
        check_namespace(key, project)
    for key, value in config.items():
        if key != f"{project}:{SECRETS_KEY}":
            _check_secure_only_in_secrets(value, key)
            continue
        if _is_secure(value):
            raise ConfigError(
                key, f"set each credential on its own: pulumi config set --secret --path '{SECRETS_KEY}.<name>'"
            )
        if not isinstance(value, dict):
            continue  # the config tree reports the wrong type
        _check_secure_leaves(value, key)


def _check_secure_leaves(value: dict[Any, Any], key: str, path: str = "") -> None:
    """Each credential a `secure:` value; a map of credentials (`secrets.apiKeys`) holds only such values."""
    for name, leaf in value.items():
        name = f"{path}{shown(name) if not isinstance(name, str) else name}"
        if isinstance(leaf, dict) and leaf and "secure" not in leaf:
            _check_secure_leaves(leaf, key, f"{name}.")
        elif leaf is not None and not _is_secure(leaf):
            raise ConfigError(
                f"{key}.{name}",
                "is plain text in the stack file (it would be committed to git); set it with "
                f"pulumi config set --secret --path '{SECRETS_KEY}.{name}' <value>",
            )
        elif isinstance(leaf, dict) and not isinstance(leaf.get("secure"), str):
            raise ConfigError(
                f"{key}.{name}", "secure: must hold the ciphertext string `pulumi config set --secret` wrote"
            )


def _check_secure_only_in_secrets(value: Any, path: str) -> None:
    if _is_secure(value):
        if path.split(":", 1)[0] in PROVIDER_NAMESPACES and "." not in path:
            return  # a provider's own secret (e.g. digitalocean:token)
        raise ConfigError(path, f"is a secret; only keys under `{SECRETS_KEY}` may be secret")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        _check_secure_only_in_secrets(v, f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}")
