"""`make preview STACK=doks` stays fast (issue 13: warm <= 3 s): it loads only the SDK modules the
stack uses. Checked on what a doks run imports, not on wall time, which a shared CI machine makes
noisy (measure that with `python -X importtime -m tools.preview --stack doks`)."""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tools.preview import REPO

# One fresh interpreter answers both questions below (each start imports the SDKs: seconds of CPU):
# first what a doks run imports before it registers anything (a full preview in a subprocess would cost
# more), then every `k8s.<group>.<version>.<Name>` and `oci.<service>.<Name>` the program reads, resolved
# through the deferred packages (components/sdk_import.py). Each answer is compared with what the
# package's own __init__ binds: by running that __init__ beside it (pulumi_kubernetes), or, where that
# takes seconds (pulumi_oci core/identity), with the module whose __all__ lists the name (its
# `from .<module> import *` line) read from the files.
IMPORT_CHECKS = textwrap.dedent(r"""
    import importlib, importlib.util, json, re, sys
    from pathlib import Path
    import tools.preview, stacks, stacks.builders.doks, stacks.config.stack
    doks_modules = sorted(m for m, module in sys.modules.items() if type(module).__name__ != "_DeferredPackage")
    import components  # installs the deferred packages
    sources = [p.read_text() for p in [*Path("components").rglob("*.py"), *Path("stacks").rglob("*.py")]]
    sdks = {"pulumi_kubernetes": r"\bk8s\.(\w+\.\w+)\.(\w+)", "pulumi_oci": r"\boci\.(\w+)\.(\w+)"}
    used = sorted({(sdk, f"{sdk}.{package}", name) for sdk, pattern in sdks.items() for text in sources
                   for package, name in re.findall(pattern, text)
                   if Path(importlib.util.find_spec(sdk).origin).parent.joinpath(*package.split("."), "__init__.py").is_file()})
    for _, package, name in used:
        getattr(importlib.import_module(package), name)
    packages = sorted({package for _, package, _ in used})
    loaded = sorted(sys.modules)
    still_deferred = [p for p in packages if type(sys.modules[p]).__name__ == "_DeferredPackage"]
    different = []
    for package in [p for p in packages if p.startswith("pulumi_kubernetes.")]:
        deferred = sys.modules[package]
        spec = importlib.util.spec_from_file_location("eager_" + package, deferred.__file__,
                                                      submodule_search_locations=deferred.__path__)
        eager = importlib.util.module_from_spec(spec)
        eager.__package__ = deferred.__name__  # its `from .X import *` lines import the same submodules
        spec.loader.exec_module(eager)
        different += [f"{package}.{n}" for n, v in vars(eager).items()
                      if not n.startswith("__") and getattr(deferred, n) is not v]
    owners = {}  # pulumi_oci package -> {name: the star-imported module whose __all__ lists it}
    for sdk, package, name in used:
        if sdk == "pulumi_oci":
            if package not in owners:
                folder = Path(sys.modules[package].__file__).parent
                owners[package] = {n: m for m in re.findall(r"^from \.(\w+) import \*$", (folder / "__init__.py").read_text(), re.M)
                                   for n in re.findall(r"'(\w+)'", re.search(r"^__all__ = \[([^\]]*)\]", (folder / f"{m}.py").read_text(), re.M).group(1))}
            owner = owners[package].get(name)
            expected = getattr(importlib.import_module(f"{package}.{owner}"), name) if owner else sys.modules.get(f"{package}.{name}")
            if getattr(sys.modules[package], name) is not expected:
                different.append(f"{package}.{name}")
    print(json.dumps({"doks_modules": doks_modules, "used": [f"{p}.{n}" for _, p, n in used], "packages": packages,
                      "still_deferred": still_deferred, "loaded": loaded, "different": different}))
""")


@pytest.fixture(scope="session")
def import_checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The subprocess's answers, once per session: under pytest-xdist the two tests below may run on two
    workers, which share their session's temp folder (the xdist docs' "session-scoped fixture once" recipe)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    answer = shared / "import-checks.json"
    with (shared / "import-checks.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not answer.is_file():
            done = subprocess.run([sys.executable, "-c", IMPORT_CHECKS], cwd=REPO, capture_output=True, text=True,
                                  timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            answer.write_text(done.stdout)
        return json.loads(answer.read_text())


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at top level or inside a function (a lazy import still runs)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_a_doks_run_imports_no_oci_sdk_and_only_the_digitalocean_modules_it_uses(import_checks):
    modules = import_checks["doks_modules"]
    assert not [m for m in modules if m.split(".")[0] == "pulumi_oci"], "a doks run loads the OCI SDK"
    # components/doks/sdk.py names every DigitalOcean module the program uses; the SDK's __init__
    # (all ~190 modules, ~0.4 s) must not run.
    sdk = (REPO / "components/doks/sdk.py").read_text()
    used = set(re.findall(r"^from (pulumi_digitalocean\.\w+) import", sdk, re.M))
    support = {
        f"pulumi_digitalocean.{m}" for m in ("_inputs", "outputs", "_enums", "_utilities", "config", "config.vars")
    }
    loaded = {m for m in modules if m.startswith("pulumi_digitalocean.")}
    assert used and loaded - used - support == set(), "import DigitalOcean resources through components/doks/sdk.py"
    # What the run imports later (inside functions) comes from the same project modules: none of them
    # may import the OCI SDK or the DigitalOcean package itself.
    ours = [
        REPO / (m.replace(".", "/") + ".py") for m in modules if m.split(".")[0] in ("stacks", "components", "tools")
    ]
    offending = {
        str(path.relative_to(REPO)): sorted(
            i for i in _imports(path) if i.split(".")[0] == "pulumi_oci" or i == "pulumi_digitalocean"
        )
        for path in ours
        if path.is_file()
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_a_deferred_package_loads_single_modules_and_its_init_on_first_other_name(tmp_path):
    package = tmp_path / "fakesdk"
    package.mkdir()
    (package / "__init__.py").write_text("from .droplet import *\nfrom .nfs import *\nINIT_RUNS = 1\n")
    (package / "droplet.py").write_text("class Droplet: ...\n")
    (package / "nfs.py").write_text("from . import _utilities\nclass Nfs: ...\n")
    (package / "_utilities.py").write_text("")
    script = textwrap.dedent("""
        import sys
        from components.sdk_import import defer_package_init
        defer_package_init("fakesdk")
        from fakesdk.nfs import Nfs
        assert "fakesdk.droplet" not in sys.modules and "INIT_RUNS" not in vars(sys.modules["fakesdk"])
        from fakesdk import _utilities  # a submodule by name: still no __init__
        assert "fakesdk.droplet" not in sys.modules
        import fakesdk
        assert fakesdk.Droplet.__name__ == "Droplet" and fakesdk.INIT_RUNS == 1 and fakesdk.Nfs is Nfs
        defer_package_init("fakesdk")  # already imported: nothing changes
        assert sys.modules["fakesdk"] is fakesdk
        print("ok")
    """)
    env_path = f"{REPO}:{tmp_path}"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, timeout=60)  # fmt: skip
    assert done.stdout.strip() == "ok", done.stderr


def test_the_sdks_load_the_resource_modules_the_program_names_and_answer_like_their_own_inits(import_checks):
    result = import_checks
    used = result["used"]
    assert len(used) > 80 and {"pulumi_kubernetes.core.v1.Namespace", "pulumi_oci.core.Vcn"} <= set(used)
    assert {"pulumi_kubernetes.helm.v3", "pulumi_oci.identity"} <= set(result["packages"])
    # Reading every name the program uses ran no package __init__: no unused resource module (core/v1
    # Binding, OCI's boot volumes, identity domains) and not helm/v3/helm.py, whose v3 Chart pulls in requests.
    assert result["still_deferred"] == result["packages"]
    for unused in ("pulumi_kubernetes.core.v1.Binding", "pulumi_oci.core.boot_volume", "pulumi_oci.identity.domain",
                   "pulumi_kubernetes.helm.v3.helm", "requests"):  # fmt: skip
        assert unused not in result["loaded"]
    # ...and each name is the very object the package's own __init__ binds.
    assert result["different"] == []


def test_make_runs_the_uv_binary_without_starting_a_python_first(tmp_path: Path):
    # `make preview` is `uv run ...`: a wrapper running `python3 -m uv` cost ~0.6 s of every preview here
    # (python3 is a pyenv shim). The wrapper the Makefile writes must exec the wheel's binary directly.
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    binary = tmp_path / ".tools" / "lib" / "bin" / "uv"
    binary.parent.mkdir(parents=True)
    binary.write_text('#!/bin/sh\necho "uv binary: $*"\n')
    binary.chmod(0o755)
    made = subprocess.run(["make", "-s", ".tools/bin/uv"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    no_python = tmp_path / "empty-path"
    no_python.mkdir()
    done = subprocess.run([str(tmp_path / ".tools" / "bin" / "uv"), "run", "x"], capture_output=True, text=True,
                          env={"PATH": str(no_python)}, timeout=60)  # fmt: skip
    assert done.stdout == "uv binary: run x\n", done.stderr


def test_the_offline_engine_skips_the_sdks_source_positions_and_puts_them_back(monkeypatch):
    # Pulumi's SDK extracts the Python stack on every registration to tell the engine where a resource was
    # declared; nothing offline reads it, and it was 10-25% of a warm program run.
    from pulumi.runtime import resource as sdk_resource

    from tests.harness import preview

    extracted: list[int] = []
    real = sdk_resource._get_stack_trace

    def counting() -> Any:
        extracted.append(1)
        return real()

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", counting)
    run = preview("existing-cluster")
    assert run.error is None and run.registered() and extracted == []
    assert sdk_resource._get_stack_trace is counting, "a real `pulumi up` in this interpreter keeps them"
