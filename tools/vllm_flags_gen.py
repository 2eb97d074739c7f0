"""Generate stacks/catalog/vllm_flags.json: every flag `vllm serve` accepts, from vLLM's own parser.

    python tools/vllm_flags_gen.py <unpacked vllm wheel dir> > stacks/catalog/vllm_flags.json

Run it with an interpreter that has vLLM's pure-Python dependencies (transformers, pydantic, fastapi,
openai, ...), but NOT torch or the GPU kernels: those (and the few other compiled-only packages the
parser's import chain touches) are replaced by permissive stub modules, because the flag list only
depends on vLLM's argparse code and config dataclasses. The parser is vLLM's real one:
`vllm.entrypoints.common.cli_args.make_arg_parser` (what `vllm serve`'s subparser uses,
vllm/entrypoints/cli/serve.py), built on `FlexibleArgumentParser`. VLLM_TARGET_DEVICE=cpu only lets
`DeviceConfig()` pick a platform without a GPU; no flag depends on it.

This is a maintainer's tool, not run by the tests or CI (a 340 MB wheel): the tests check that the
committed data belongs to the pinned image (catalog.VLLM_IMAGE).
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import json
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

# Not importable without a GPU stack: torch, compiled grammar backends, and vLLM's IR op registry
# (which introspects torch schemas at import time).
STUBBED = ("torch", "partial_json_parser", "xgrammar", "llguidance", "vllm.ir")


class _StubMeta(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub

    def __getitem__(cls, item: Any) -> Any:
        return _Stub

    def __or__(cls, other: Any) -> Any:
        return _Stub

    def __ror__(cls, other: Any) -> Any:
        return _Stub

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]  # used as a decorator
        return type.__call__(cls)

    def __iter__(cls) -> Any:
        return iter(())

    def __bool__(cls) -> bool:
        return False

    def __mro_entries__(cls, bases: Any) -> tuple[type, ...]:
        return (object,)


class _Stub(metaclass=_StubMeta):
    """Anything torch-like: attribute access, calls, arithmetic, comparison all succeed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return args[0] if len(args) == 1 and callable(args[0]) and not kwargs else _Stub()

    def __add__(self, other: Any) -> Any:
        return other if isinstance(other, str) else _Stub()

    __radd__ = __add__

    def _any(self, other: Any) -> Any:
        return _Stub()

    __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __floordiv__ = __mod__ = __pow__ = _any
    __and__ = __rand__ = __or__ = __ror__ = _any

    def __str__(self) -> str:
        return "stub"

    def __int__(self) -> int:
        return 0

    def __index__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __getitem__(self, key: Any) -> Any:
        return _Stub()

    def __lt__(self, other: Any) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Stub)

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, _Stub)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if any(name == p or name.startswith(p + ".") for p in STUBBED):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _fake_distribution(root: Path, name: str, version: str) -> None:
    # vllm checks torch's installed version (importlib.metadata) at import time.
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def flags(wheel_dir: Path) -> dict[str, Any]:
    metadata = (next(wheel_dir.glob("vllm-*.dist-info")) / "METADATA").read_text()
    fields = dict(line.split(": ", 1) for line in metadata.splitlines() if ": " in line and not line[0].isspace())
    torch_version = next(
        line.split("==", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: torch==")
    )
    meta_root = Path(tempfile.mkdtemp())
    _fake_distribution(meta_root, "torch", torch_version)
    sys.path[:0] = [str(wheel_dir)]
    sys.path.append(str(meta_root))
    sys.meta_path.insert(0, _StubFinder())
    os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")

    from vllm.entrypoints.common.cli_args import make_arg_parser  # type: ignore[import-not-found]
    from vllm.utils.argparse_utils import FlexibleArgumentParser  # type: ignore[import-not-found]

    parser = make_arg_parser(FlexibleArgumentParser())
    out: dict[str, dict[str, Any]] = {}
    # Every option string the parser matches, not only the ones help shows: vLLM's EnableDisableAction
    # (vllm/utils/argparse_utils.py) keeps `--no-enable-x` / `--no-disable-x` registered but drops them
    # from `action.option_strings` ("still accepted for backwards compatibility, but hidden from help").
    for option, action in parser._option_string_actions.items():
        if isinstance(action, argparse._HelpAction):
            continue
        if not option.startswith("--"):
            continue  # short aliases (-tp, -O) are rejected by the config's own pattern
        value = "none" if action.nargs == 0 else "optional" if action.nargs in ("?", "*") else "required"
        out[option] = {"dest": action.dest, "value": value}
    return {
        "vllmVersion": fields["Version"],
        "source": f"vllm {fields['Version']} wheel from PyPI: make_arg_parser(FlexibleArgumentParser()) "
        "(vllm/entrypoints/common/cli_args.py), generated by tools/vllm_flags_gen.py",
        "flags": dict(sorted(out.items())),
    }


if __name__ == "__main__":
    json.dump(flags(Path(sys.argv[1]).resolve()), sys.stdout, indent=1)
    sys.stdout.write("\n")
