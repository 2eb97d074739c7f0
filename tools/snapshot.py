"""Refactors keep behaviour: save every preview's output, then show what a change did to it.

    python -m tools.snapshot save build/before      # before the refactor
    python -m tools.snapshot compare build/before   # after each step: exit 0 when byte-identical

What is saved: for each committed stack and each example config in tests/configs/, the preview's
`plan.json`, every manifest and the printed summary (paths inside the summary are made relative, so
two checkouts compare). `compare` prints a unified diff of every file that differs, lists files
that appeared or vanished, and exits 1 when anything changed — a commit that changes the output on
purpose names each difference in its message.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools import preview  # noqa: E402

EXAMPLE_CONFIGS = REPO / "tests" / "configs"


@dataclass(frozen=True)
class Case:
    """One preview: a label for its output folder, the stack, and a config file (None: the stack's own)."""

    label: str
    stack: str
    config_file: Path | None


def _stack_for(config_file: Path) -> str:
    """The committed stack whose platform an example config uses (its program is the same)."""
    document = yaml.safe_load(config_file.read_bytes()) or {}
    platform = (document.get("config") or {}).get(f"{preview.project_name()}:platform")
    for stack in preview.stack_names():
        own = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_bytes()) or {}
        if (own.get("config") or {}).get(f"{preview.project_name()}:platform") == platform:
            return stack
    return preview.stack_names()[0]


def examples() -> list[Case]:
    """Every example config in tests/configs/, with the committed stack whose program it runs: the one list
    of examples (the snapshot saves them, tests/harness.py example_run runs them through the judges)."""
    return [Case(f"example-{p.stem}", _stack_for(p), p) for p in sorted(EXAMPLE_CONFIGS.glob("*.yaml"))]


def cases() -> list[Case]:
    return [Case(stack, stack, None) for stack in preview.stack_names()] + examples()


def render(case: Case, out: Path) -> None:
    """Run the preview of `case` into out/<label>/ (plan, manifests, summary.txt)."""
    with tempfile.TemporaryDirectory() as tmp:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code = preview.preview(case.stack, Path(tmp), case.config_file)
        target = out / case.label
        shutil.rmtree(target, ignore_errors=True)
        produced = Path(tmp) / case.stack
        if produced.exists():
            shutil.copytree(produced, target)
        target.mkdir(parents=True, exist_ok=True)
        text = printed.getvalue().replace(str(produced), f"build/{case.stack}").replace(str(REPO) + "/", "")
        (target / "summary.txt").write_text(f"exit {code}\n{text}")


def save(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    for case in cases():
        render(case, out)


def differences(before: Path, after: Path) -> list[str]:
    """Unified diffs (and appeared/vanished files) between two saved snapshots; empty when identical."""
    old = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    new = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    lines = [f"only before: {p}" for p in sorted(old - new)] + [f"only after: {p}" for p in sorted(new - old)]
    for rel in sorted(old & new):
        a, b = (before / rel).read_bytes(), (after / rel).read_bytes()
        if a != b:
            lines += difflib.unified_diff(
                a.decode(errors="replace").splitlines(),
                b.decode(errors="replace").splitlines(),
                f"before/{rel}",
                f"after/{rel}",
                lineterm="",
            )
    return lines


def compare(before: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        save(Path(tmp))
        lines = differences(before, Path(tmp))
    print("\n".join(lines) if lines else f"identical to {before}: {len(cases())} previews")
    return 1 if lines else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.action == "save":
        save(args.folder)
        print(f"saved {len(cases())} previews to {args.folder}")
        return 0
    return compare(args.folder)


if __name__ == "__main__":
    sys.exit(main())
