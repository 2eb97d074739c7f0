"""Run stacks offline for tests: the real program, Pulumi's mock engine, the stack's config file
with overrides merged in, and helpers to look at what was registered."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from typing import Any

from tools import manifests, snapshot
from tools.engine import ProgramRun, ResourceRecord
from tools.preview import load_stack_config, run_main, stack_names

PROJECT = "llm-serving"
STACKS = stack_names()
# Stacks that run vLLM on Kubernetes (every one but an OCI Data Science model deployment's).
KUBERNETES_STACKS = [s for s in STACKS if load_stack_config(s).get(f"{PROJECT}:platform") != "oci-data-science"]


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `overrides` into a copy of `base`; a None value deletes the key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    """The stack's committed config with `llm-serving:<key>` overrides (given without the prefix).

    `model` and `vllm` overrides are merged into the stack's first model (`models[0]`): the tests name a
    model's keys by the two halves of its entry (model id/revision/..., vLLM engine settings). Give
    `models` to replace the list, or `raw` to `preview` for a config with the old top-level keys."""
    base = load_stack_config(stack)
    first = {**(overrides.pop("model", None) or {}), **(overrides.pop("vllm", None) or {})}
    merged = merge(base, {f"{PROJECT}:{k}": v for k, v in overrides.items()})
    if first:
        models = merged[f"{PROJECT}:models"]
        merged[f"{PROJECT}:models"] = [merge(models[0], first), *models[1:]]
    return merged


def preview(stack: str, secrets: dict[str, Any] | None = None, raw: dict[str, Any] | None = None,
            **overrides: Any) -> ProgramRun:  # fmt: skip
    """Run the program for `stack`. `secrets` become secret config keys (JSON-encoded when not str)."""
    config = raw if raw is not None else stack_config(stack, **overrides)
    secret_values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (secrets or {}).items()}
    return run_main(config, stack, secret_values)


@functools.cache
def default_run(stack: str) -> ProgramRun:
    """The committed stack config, run once per test session (read-only for tests)."""
    run = preview(stack)
    assert run.error is None, f"{stack} failed: {run.error!r}"
    return run


# The example configs of tests/configs/ by file stem, each with the stack whose program runs it (the one
# list: tools/snapshot.py examples()). The judges run over them as over the committed stacks.
EXAMPLES: dict[str, snapshot.Case] = {case.config_file.stem: case for case in snapshot.examples() if case.config_file}


def example_config(name: str) -> dict[str, Any]:
    """The `config:` mapping of example `name` (its file stem)."""
    return load_stack_config(EXAMPLES[name].stack, EXAMPLES[name].config_file)


@functools.cache
def example_run(name: str) -> ProgramRun:
    """Example `name` run as `make preview STACK=<its stack> CONFIG=tests/configs/<name>.yaml` runs it
    (each `secure:` value a placeholder secret), once per test session (read-only for tests)."""
    run = run_main(example_config(name), EXAMPLES[name].stack)
    assert run.error is None, f"example {name} failed: {run.error!r}"
    return run


def one(run: ProgramRun, type_suffix: str, name_contains: str = "") -> ResourceRecord:
    found = [r for r in run.registered() if r.type.endswith(type_suffix) and name_contains in r.name]
    assert len(found) == 1, f"expected one {type_suffix} named *{name_contains}*, got {[r.name for r in found]}"
    return found[0]


def all_of(run: ProgramRun, type_suffix: str) -> list[ResourceRecord]:
    return [r for r in run.registered() if r.type.endswith(type_suffix)]


def k8s_objects(run: ProgramRun) -> list[dict[str, Any]]:
    return manifests.kubernetes_objects(run)


def k8s_object(run: ProgramRun, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in k8s_objects(run) if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


def serving_namespace(run: ProgramRun) -> dict[str, Any]:
    """The serving namespace's object (the one holding the API key; a stack may create others, e.g. monitoring)."""
    return k8s_object(run, "Namespace", k8s_object(run, "Secret", "vllm-api-key")["metadata"]["namespace"])


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every container (and init container) of a workload object, whatever its kind."""
    spec = obj.get("spec", {})
    templates = [spec.get("template", {})]
    templates += [spec.get("headGroupSpec", {}).get("template", {})]
    templates += [g.get("template", {}) for g in spec.get("workerGroupSpecs", [])]
    for template in templates:
        pod = template.get("spec", {})
        yield from pod.get("initContainers", [])
        yield from pod.get("containers", [])


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def config_error(run: ProgramRun) -> str:
    """The one-line config error of a run that must fail, after checking nothing was registered."""
    from stacks.errors import ConfigError

    assert isinstance(run.error, ConfigError), f"expected a ConfigError, got {run.error!r}"
    assert run.registered() == [], "a config error must come before any resource is registered"
    message = str(run.error)
    assert "\n" not in message
    return message
