"""Fuzzing the stack config and whole stack files: hypothesis mutates each committed Pulumi.<stack>.yaml (drops keys, misspells
them, swaps in values of the wrong type or out of range, or plausible values that may not fit the GPUs)
and the program must either preview or fail with the project's one-line ConfigError before it
registers anything: never another exception, never a partial registration."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks import capacity
from stacks.config.source import parse_stack_file
from stacks.errors import ConfigError
from tests.harness import PROJECT, STACKS, preview
from tools.preview import REPO, load_stack_config

Path = tuple[Any, ...]

# Plausible values: the kind a user types, so that some mutated configs stay valid (and reach the
# capacity planner) while others are subtly wrong.
PLAUSIBLE: list[Any] = [
    *capacity.MODELS,
    "acme/unknown-model",
    "0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "192.168.0.0/22", "not-a-cidr",
    "1.33", "1.31", "v1.33.1", 1.33, "latest", "vllm/vllm-openai:latest", "vllm/vllm-openai",
    "gpu-h100x8-640gb", "VM.GPU.A10.2", "BM.GPU.H100.8", "nyc2", "ams3",
    "fp8", "awq", "gateway", "loadBalancer", "clusterIP",
    0, 1, 2, 3, 4, 8, 16, 4096, 32768, 131072, -1, 0.5, 0.95, 1.5, True, False, None, "", [], {},
    ["--enable-prefix-caching"], ["--model=x"],
]  # fmt: skip

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24),
    st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8)), max_size=2),
)
VALUES = st.one_of(st.sampled_from(PLAUSIBLE), JUNK)


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every key path (and list index) in the project's config, outermost first."""
    found: list[Path] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        if not prefix and not (isinstance(key, str) and key.startswith(f"{PROJECT}:")):
            continue  # provider keys (oci:region) are not the program's to validate
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def parent_of(config: dict[str, Any], path: Path) -> Any:
    node: Any = config
    for key in path[:-1]:
        node = node[key]
    return node


# The serving knobs a user turns most: valid values, in combinations that may or may not fit the GPUs
# (so runs reach the capacity planner and the full program, not only the schema).
KNOBS: dict[tuple[str, str], list[Any]] = {
    ("model", "id"): list(capacity.MODELS),
    ("vllm", "tensorParallelSize"): [1, 2, 4, 8, 16],
    ("vllm", "maxModelLen"): [2048, 8192, 32768, 131072],
    ("vllm", "quantization"): ["fp8", "awq"],
    ("vllm", "gpuMemoryUtilization"): [0.8, 0.9, 0.95],
    ("vllm", "replicas"): [1, 2],
    ("vllm", "extraArgs"): [["--kv-cache-dtype=fp8"], ["--enable-prefix-caching"]],
}


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    stack = draw(st.sampled_from(STACKS))
    config = copy.deepcopy(load_stack_config(stack))
    for section, key in draw(st.lists(st.sampled_from(sorted(KNOBS)), max_size=3, unique=True)):
        node = config.setdefault(f"{PROJECT}:{section}", {})
        if isinstance(node, dict):
            node[key] = draw(st.sampled_from(KNOBS[section, key]))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        candidates = paths(config)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent, key = parent_of(config, path), path[-1]
        op = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from([f"{key}s", str(key).lower(), str(key).upper(), f"{key}_x"]))
            parent[new] = parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
    return stack, config


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(mutated_configs())
def test_mutated_config_previews_or_fails_with_config_error(case: tuple[str, dict[str, Any]]) -> None:
    stack, config = case
    run = preview(stack, raw=config)
    if run.error is None:
        assert run.registered(), f"{stack}: previewed without registering anything"
        return
    assert isinstance(run.error, ConfigError), f"{stack}: {type(run.error).__name__}: {run.error!r} for {config}"
    assert run.registered() == [], f"{stack}: a ConfigError after resources were registered"
    message = str(run.error)
    assert "\n" not in message and message.startswith("invalid stack config: "), message


# --------------------------------------------------------------------------------------------
# Whole files: random YAML shapes, and the committed files with their text damaged the way editors
# and copy-paste damage it (tabs, duplicated or dropped lines, stray bytes, cut short)
# --------------------------------------------------------------------------------------------

KEYS = st.sampled_from(["config", "configs", "encryptionsalt", f"{PROJECT}:platform", f"{PROJECT}:vllm",
                        "llm_serving:vllm", "oci:region", "replicas", "secure", "kind", ""])  # fmt: skip
SHAPES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.sampled_from(["doks", "nfs", "v1:x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[str, bytes]:
    stack = draw(st.sampled_from(STACKS))
    if draw(st.booleans()):
        return stack, yaml.safe_dump(draw(SHAPES)).encode()
    lines = (REPO / f"Pulumi.{stack}.yaml").read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        op = draw(st.sampled_from(["tab", "duplicate", "drop", "byte", "cut", "dedent", "colon"]))
        if op == "tab":
            lines[i] = b"\t" + lines[i].lstrip(b" ")
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "byte":
            lines[i] = lines[i][:3] + draw(st.sampled_from([b"\xff", b"\xe9", b"\x00", b"\xc3"])) + lines[i][3:]
        elif op == "cut":
            lines = lines[:i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip(b" ")
        elif op == "colon":
            lines[i] = lines[i].replace(b":", b"", 1)
    return stack, b"".join(lines)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(damaged_files())
def test_a_damaged_or_random_stack_file_previews_or_fails_with_one_line(case: tuple[str, bytes]) -> None:
    stack, data = case
    try:
        raw = parse_stack_file(data, f"Pulumi.{stack}.yaml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"invalid stack config: Pulumi.{stack}.yaml"), exc
        return
    run = preview(stack, raw=raw)
    if run.error is None:
        assert run.registered()
        return
    assert isinstance(run.error, ConfigError), f"{stack}: {type(run.error).__name__}: {run.error!r} for {data!r}"
    assert run.registered() == [] and "\n" not in str(run.error)
