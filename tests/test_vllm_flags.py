"""The committed vLLM flag list (stacks/catalog/vllm_flags.json) says what vLLM 0.33.0's own parser says.

A sample of facts read in the vLLM 0.33.0 source (vllm/ paths below; the wheel of catalog.VLLM_IMAGE's
release), one per way vLLM builds a flag: a plain add_argument, a dataclass field (bool ->
BooleanOptionalAction, `bool | str | None` -> an optional value, anything else -> a value),
`--enable-x`/`--disable-x` pairs with their hidden `--no-` forms, and a flag some releases had and
0.33.0 does not. Where the source tree is at hand (VLLM_SRC, default /work/vllm-src), every option
make_arg_parser adds by name is checked too.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from stacks import catalog
from stacks.config.extra_args import check_extra_args

# flag -> (dest, value kind, where vLLM 0.33.0 defines it)
FACTS = {
    "--headless": ("headless", "none", "entrypoints/common/cli_args.py make_arg_parser: action='store_true'"),
    "--api-server-count": ("api_server_count", "required", "cli_args.py make_arg_parser: type=int (alias -asc)"),
    "--config": ("config", "required", "cli_args.py make_arg_parser: no action, so one value"),
    "--api-key": ("api_key", "required", "cli_args.py FrontendArgs.api_key: list[str] | None"),
    "--tensor-parallel-size": ("tensor_parallel_size", "required", "engine/arg_utils.py: '--tensor-parallel-size', '-tp'"),
    "--max-model-len": ("max_model_len", "required", "engine/arg_utils.py add_cli_args, ModelConfig.max_model_len"),
    "--served-model-name": ("served_model_name", "required", "engine/arg_utils.py add_cli_args"),
    "--hf-token": ("hf_token", "optional", "config/model.py hf_token: bool | str | None -> nargs='?' (arg_utils _compute_kwargs)"),
    "--enforce-eager": ("enforce_eager", "none", "config/model.py enforce_eager: bool -> BooleanOptionalAction"),
    "--no-enforce-eager": ("enforce_eager", "none", "argparse.BooleanOptionalAction adds --no-<flag>"),
    "--enable-prefix-caching": ("enable_prefix_caching", "none", "config/cache.py enable_prefix_caching: bool"),
    "--disable-prefix-caching": ("enable_prefix_caching", "none", "utils/argparse_utils.py EnableDisableAction inverse"),
    "--no-enable-prefix-caching": ("enable_prefix_caching", "none", "EnableDisableAction: hidden from help, still accepted"),
}  # fmt: skip
# Short aliases are not in the list on purpose (the config's flag pattern refuses them).
NOT_FLAGS = ["-tp", "-asc", "--no-headless", "--no-disable-prefix-caching", "--disable-enforce-eager"]


@pytest.mark.parametrize("flag", FACTS)
def test_a_sample_of_flags_is_what_vllms_parser_defines(flag):
    _dest, value, where = FACTS[flag]
    assert catalog.VLLM_FLAGS.get(flag) == value, f"{flag}: {where}"


def test_dests_and_absent_flags_match_the_source():
    import json

    rows = json.loads((Path(catalog.__file__).parent / "vllm_flags.json").read_text())["flags"]
    assert {flag: rows[flag]["dest"] for flag in FACTS} == {flag: fact[0] for flag, fact in FACTS.items()}
    assert [f for f in NOT_FLAGS if f in rows] == []


def test_every_enable_disable_pair_keeps_its_hidden_negation():
    # EnableDisableAction registers --enable-x, --disable-x and --no-<declared one> (the one named like
    # its dest); vLLM still accepts `--no-enable-prefix-caching`, so extraArgs must too.
    flags = catalog.VLLM_FLAGS
    pairs = [f for f in flags if f.startswith("--enable-") and f"--disable-{f[9:]}" in flags]
    assert len(pairs) > 40
    missing = [f for f in pairs if f"--no-enable-{f[9:]}" not in flags and f"--no-disable-{f[9:]}" not in flags]
    assert missing == []
    check_extra_args(["--no-enable-prefix-caching", "--disable-log-requests", "--no-enforce-eager"])


VLLM_SRC = Path(os.environ.get("VLLM_SRC", "/work/vllm-src"))


def _named_options(tree: ast.AST, function: str) -> dict[str, str]:
    """`--option` -> value kind for each add_argument call with literal option names in `function`."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.FunctionDef) and node.name == function):
            continue
        for call in ast.walk(node):
            if not (isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "add_argument"):
                continue
            names = [a.value for a in call.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
            kw = {k.arg: k.value for k in call.keywords if k.arg}
            action = kw.get("action")
            nargs = kw.get("nargs")
            kind = "required"
            if isinstance(action, ast.Constant) and action.value in ("store_true", "store_false"):
                kind = "none"
            elif isinstance(nargs, ast.Constant) and nargs.value in ("?", "*"):
                kind = "optional"
            out.update(dict.fromkeys(names, kind))
    return out


@pytest.mark.skipif(not (VLLM_SRC / "vllm").is_dir(), reason="vLLM 0.33.0 source tree not at hand (VLLM_SRC)")
def test_every_option_make_arg_parser_names_is_in_the_list():
    source = VLLM_SRC / "vllm" / "entrypoints" / "common" / "cli_args.py"
    assert f"Version: {catalog.VLLM_FLAGS_VERSION}" in next(VLLM_SRC.glob("vllm-*.dist-info/METADATA")).read_text()
    named = _named_options(ast.parse(source.read_text()), "make_arg_parser")
    assert {"--headless", "--api-server-count", "--config", "--grpc"} <= set(named)
    assert {f: catalog.VLLM_FLAGS.get(f) for f in named} == named
