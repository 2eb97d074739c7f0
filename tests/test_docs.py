"""The README stays true: its config reference is generated from the config tree, and CI runs its test command."""

from __future__ import annotations

from pathlib import Path

from tools import config_reference

REPO = Path(__file__).resolve().parent.parent


def test_readme_config_reference_matches_the_config_tree():
    readme = (REPO / "README.md").read_text()
    section = readme.split(config_reference.START)[1].split(config_reference.END)[0]
    assert section.strip() == config_reference.reference().strip(), "run: python -m tools.config_reference --write"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make preview STACK=doks" in readme
    commands = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "make test" in commands
