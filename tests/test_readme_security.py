"""Every security claim in the README names the tests that prove it, and those tests exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _security_claims() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = re.search(r"^## Security\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has a '## Security' section"
    return [c for c in re.split(r"^- ", section.group(1), flags=re.M)[1:]]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_each_security_claim_names_tests_that_exist():
    claims = _security_claims()
    assert len(claims) >= 5
    for claim in claims:
        references = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", claim)
        assert references, f"README security claim without a test: {claim[:80]!r}"
        for file, name in references:
            assert (REPO / file).is_file(), file
            assert name in _tests_in(REPO / file), f"{file}::{name} named in the README does not exist"
