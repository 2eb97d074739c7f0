"""Every `make preview` (and `python -m tools.preview`) command in README.md and docs/ runs as written:
make expands it to the preview CLI, and the stack and config file it names preview without an error."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from tests.harness import default_run
from tools import manifests
from tools.preview import REPO, load_stack_config, run_main, stack_names

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# `make preview STACK=x CONFIG=y` (possibly wrapped over lines inside one code span) and the CLI it runs.
MAKE = re.compile(r"make preview((?:\s+[A-Z]+=[^\s`<>)(,;]+)*)")
CLI = re.compile(r"python -m tools\.preview((?:\s+--[a-z]+\s+[^\s`<>)(,;]+)*)")
PLACEHOLDER = "..."  # docs/architecture.md's diagram writes `STACK=...` for "any stack"


def documented_commands() -> list[str]:
    found: list[str] = []
    for path in DOCS:
        text = " ".join(path.read_text().split())  # a command wrapped inside a code span is one line
        found += [f"make preview{m.group(1)}" for m in MAKE.finditer(text)]
        found += [f"python -m tools.preview{m.group(1)}" for m in CLI.finditer(text)]
    return sorted({c for c in found if PLACEHOLDER not in c})


def cli_args(command: str) -> list[str]:
    """The preview CLI's arguments for a documented command; a make command as make itself expands it."""
    if command.startswith("python "):
        return shlex.split(command)[3:]
    dry = subprocess.run(["make", "-n", *shlex.split(command)[1:]], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    line = next(line for line in dry.stdout.splitlines() if "-m tools.preview" in line)
    return shlex.split(line.split("-m tools.preview", 1)[1])


def runs(args: list[str]) -> list[tuple[str, str | None]]:
    """(stack, config file) pairs the CLI previews for these arguments."""
    options = dict(zip(args[::2], args[1::2], strict=True))
    stack, config = options.get("--stack", "all"), options.get("--config")
    return [(s, config) for s in (stack_names() if stack == "all" else [stack])]


COMMANDS = documented_commands()


def test_the_docs_document_preview_commands():
    assert "make preview STACK=doks" in COMMANDS
    assert "make preview STACK=existing-cluster CONFIG=tests/configs/existing-minio.yaml" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_documented_preview_command_runs(command):
    for stack, config in runs(cli_args(command)):
        assert stack in stack_names(), f"{command}: no stack {stack}"
        if config is None:
            run = default_run(stack)  # the committed stack file (cached across tests)
        else:
            path = REPO / config
            assert path.is_file(), f"{command}: no file {config}"
            run = run_main(load_stack_config(stack, path), stack)
        assert run.error is None, f"{command}: {run.error}"
        if config is not None:  # the committed stacks' manifests are checked in test_manifests.py
            invalid = {
                manifests.file_name(o): p for o in manifests.kubernetes_objects(run) if (p := manifests.validate(o))
            }
            assert invalid == {}, f"{command}: {invalid}"
