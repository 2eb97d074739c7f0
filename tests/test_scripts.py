"""Every shell script the plan would run passes shellcheck, and the ones that carry logic do what they
promise when run under the shell their container uses, with stub commands on PATH and the container's
volumes as temporary directories: the preStop drain waits for vLLM's gauges to reach zero, the model
download runs once per model and revision, the S3 upload finishes with its marker or not at all, and
the Ray head waits for every GPU before it serves."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.workloads.claim_model_store import COMPLETE_MARKER as DOWNLOAD_MARKER
from components.workloads.s3_model_store import COMPLETE_MARKER as UPLOAD_MARKER
from components.workloads.vllm import DRAIN_SCRIPT, PORT
from tests.harness import EXAMPLES, STACKS, default_run, example_run, preview
from tools import scripts
from tools.scripts import Script


@functools.cache
def plan_scripts(stack: str) -> list[Script]:
    return scripts.extract(default_run(stack))


def all_scripts() -> list:
    found = {f"{stack}:{s.origin}": s for stack in STACKS for s in plan_scripts(stack)}
    return [pytest.param(found[key], id=key) for key in sorted(found)]


def one_script(stack: str, origin_part: str, run=None) -> Script:
    found = [s for s in (scripts.extract(run) if run else plan_scripts(stack)) if origin_part in s.origin]
    assert len(found) == 1, [s.origin for s in found]
    return found[0]


# ------------------------------------------------------------------------------------------------
# shellcheck over everything the plan runs


@pytest.mark.parametrize("script", all_scripts())
def test_script_passes_shellcheck(script):
    assert scripts.shellcheck(script) == []


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_script_of_every_example_config_passes_shellcheck(name):
    """The example configs bring scripts no committed stack has (the S3 upload Job, KServe's pods, ...)."""
    found = {s.origin: scripts.shellcheck(s) for s in scripts.extract(example_run(name))}
    assert found, "every example runs at least one script"
    assert {origin: findings for origin, findings in found.items() if findings} == {}


def test_every_kind_of_script_is_extracted():
    origins = [s.origin for stack in STACKS for s in plan_scripts(stack)]
    assert any("containers[0]" in o and o.startswith("Job") for o in origins), "container commands"
    assert any(o.endswith("initContainers[0]") for o in origins), "init container commands"
    assert any("lifecycle.preStop" in o for o in origins), "preStop hooks"
    assert any(o.startswith("ConfigMap") and o.endswith("serve.sh") for o in origins), "ConfigMap scripts"
    assert any("NodePool" in o and "user_data" in o for o in origins), "node pool user data"
    assert any("InstanceConfiguration" in o and "user_data" in o for o in origins), "self-managed node user data"


def test_shellcheck_catches_what_breaks_a_script():
    broken = Script("example", "sh", 'set -eu\nif [[ -f "$target/done" ]]; then exit 0; fi\ncd $dir\nrm -rf $dir/*\n')
    codes = {finding.split()[0] for finding in scripts.shellcheck(broken)}
    assert {"SC3010", "SC2115", "SC2154"} <= codes


# ------------------------------------------------------------------------------------------------
# Running scripts: stubs, and the container's mounts as directories


class Sandbox:
    """A root directory standing in for a container's file system and a bin/ of stub commands."""

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.calls = root / "calls.jsonl"

    def stub(self, name: str, body: str) -> None:
        """A Python stub command that logs its argv (and works on a real file system under root)."""
        path = self.bin / name
        path.write_text(
            f"#!{sys.executable}\nimport json, os, sys\n"
            f"with open({str(self.calls)!r}, 'a') as log:\n"
            f"    log.write(json.dumps([{name!r}, *sys.argv[1:]]) + '\\n')\n" + textwrap.dedent(body)
        )
        path.chmod(0o755)

    def called(self, name: str) -> list[list[str]]:
        if not self.calls.exists():
            return []
        return [call[1:] for call in map(json.loads, self.calls.read_text().splitlines()) if call[0] == name]

    def mount(self, path: str) -> Path:
        return self.root / "fs" / path.strip("/")

    def localize(self, script: Script) -> tuple[str, dict[str, str]]:
        """The script and its env with every mount path moved under root (one pass, so a mapped path
        is never mapped again)."""
        mounts = sorted(script.mounts, key=len, reverse=True)
        for mount in mounts:
            self.mount(mount).mkdir(parents=True, exist_ok=True)
        if not mounts:
            return script.text, dict(script.env)
        pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(m) for m in mounts) + r")(?=/|\b|$)")

        def move(text: str) -> str:
            return pattern.sub(lambda m: str(self.mount(m.group(1))), text)

        return move(script.text), {k: move(v) for k, v in script.env.items()}

    def run(self, script: Script, extra_env: dict[str, str] | None = None, timeout: float = 30):
        text, env = self.localize(script)
        shell = shutil.which(script.shell) or script.shell
        full_env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "LANG": "C.UTF-8", **env, **(extra_env or {})}
        return subprocess.run([shell, "-c", text], env=full_env, capture_output=True, text=True, timeout=timeout,
                              check=False)  # fmt: skip

    def start(self, script: Script, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Like run, for containers of one pod that run side by side."""
        text, env = self.localize(script)
        shell = shutil.which(script.shell) or script.shell
        full_env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "LANG": "C.UTF-8", **env, **(extra_env or {})}
        return subprocess.Popen([shell, "-c", text], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip


# ------------------------------------------------------------------------------------------------
# preStop: wait until vLLM's running and waiting gauges are zero, then exit


class FakeVllmMetrics:
    """vLLM's /metrics on 127.0.0.1, rendered by prometheus_client (the library vLLM exports with) with
    vLLM 0.33's gauge names and labels (vllm/v1/metrics/loggers.py), falling one scrape at a time."""

    def __init__(self, states: list[tuple[int, int]]):
        from prometheus_client.core import GaugeMetricFamily
        from prometheus_client.registry import CollectorRegistry

        self.states, self.scrapes = states, 0
        outer = self

        class Collector:
            def describe(self):
                return []

            def collect(self) -> Iterator:
                running, waiting = outer.states[min(outer.scrapes, len(outer.states) - 1)]
                outer.scrapes += 1
                labels = ["model_name", "engine"]
                for name, value in (("running", running), ("waiting", waiting)):
                    gauge = GaugeMetricFamily(f"vllm:num_requests_{name}", f"Number of requests {name}.", labels=labels)
                    gauge.add_metric(["Qwen2.5-0.5B-Instruct", "0"], value)
                    yield gauge
                by_reason = GaugeMetricFamily("vllm:num_requests_waiting_by_reason", "Waiting requests by reason.",
                                              labels=["model_name", "reason"])  # fmt: skip
                by_reason.add_metric(["Qwen2.5-0.5B-Instruct", "capacity"], waiting)
                by_reason.add_metric(["Qwen2.5-0.5B-Instruct", "deferred"], 0)
                yield by_reason

        self.registry = CollectorRegistry()
        self.registry.register(Collector())  # type: ignore[arg-type]

    def __enter__(self) -> FakeVllmMetrics:
        from prometheus_client import start_http_server

        self.server, self.thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.port = self.server.server_address[1]
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def patience(sandbox: Sandbox, naps: int) -> str:
    """A `sleep` that returns at once, and after `naps` naps ends the shell that keeps calling it
    (a loop that would wait forever; in a pod the grace period or the startup probe ends it)."""
    return f"import signal\nif sum(1 for _ in open({str(sandbox.calls)!r})) > {naps}: os.kill(os.getppid(), signal.SIGTERM)\n"


def drain(sandbox: Sandbox, script: Script, states: list[tuple[int, int]]):
    """Run a preStop drain against fake metrics, with a `sleep` that gives up after 20 naps."""
    real_curl = shutil.which("curl")
    assert real_curl, "curl is needed (the vLLM image has it: vllm-project/vllm docker/Dockerfile, vllm-base stage)"
    with FakeVllmMetrics(states) as metrics:
        # The real curl, with the pod's localhost:PORT routed to the fake server's port.
        (sandbox.bin / "curl").write_text(
            f'#!/bin/sh\nexec {real_curl} --connect-to localhost:{PORT}:127.0.0.1:{metrics.port} "$@"\n'
        )
        (sandbox.bin / "curl").chmod(0o755)
        sandbox.stub("sleep", patience(sandbox, 20))
        result = sandbox.run(script, timeout=30)
        return result, metrics.scrapes


def deployment_prestop(stack: str) -> Script:
    return one_script(stack, "lifecycle.preStop")


def test_prestop_drain_waits_until_running_and_waiting_reach_zero(tmp_path):
    sandbox = Sandbox(tmp_path)
    result, scrapes = drain(sandbox, deployment_prestop("doks"), [(2, 1), (1, 0), (0, 0)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["draining: running=2 waiting=1", "draining: running=1 waiting=0", "drained"]
    assert scrapes == 3
    assert sandbox.called("sleep") == [["5"], ["2"], ["2"]]


def test_prestop_drain_never_reports_drained_while_requests_remain(tmp_path):
    sandbox = Sandbox(tmp_path)
    result, scrapes = drain(sandbox, deployment_prestop("oci-a10"), [(1, 3)])
    assert "drained" not in result.stdout
    assert scrapes > 5


def test_a_drain_that_reads_the_wrong_gauge_is_caught(tmp_path):
    """The judge itself: a drain script that does not wait fails the assertions above."""
    broken = DRAIN_SCRIPT.replace("num_requests_running", "num_requests_runing") % {"port": PORT}
    result, scrapes = drain(Sandbox(tmp_path), Script("broken", "sh", broken), [(2, 0), (0, 0)])
    assert scrapes == 1 and result.stdout.strip() == "drained"


# ------------------------------------------------------------------------------------------------
# Model download: once per model and revision; a failure leaves no completion marker

FAKE_HF = """
args = sys.argv[1:]
assert args[0] == "download", args
model, revision, target = args[1], args[args.index("--revision") + 1], args[args.index("--local-dir") + 1]
os.makedirs(os.path.join(target, ".cache", "huggingface"), exist_ok=True)
with open(os.path.join(target, "config.json"), "w") as f:
    json.dump({"model": model, "revision": revision}, f)
with open(os.path.join(target, "model-00001-of-00002.safetensors"), "w") as f:
    f.write("weights")
if os.environ.get("FAKE_HF_FAIL"):
    sys.exit("hf: 504 Gateway Timeout while downloading model-00002-of-00002.safetensors")
with open(os.path.join(target, "model-00002-of-00002.safetensors"), "w") as f:
    f.write("weights")
"""


def download_sandbox(root: Path) -> Sandbox:
    sandbox = Sandbox(root)
    sandbox.stub("pip", "")  # the image's pip installing huggingface_hub; hf below stands in for it
    sandbox.stub("hf", FAKE_HF)
    return sandbox


def download_job(run=None, stack: str = "doks") -> Script:
    return one_script(stack, "model-download", run)


def test_model_download_runs_once_then_skips(tmp_path):
    sandbox = download_sandbox(tmp_path)
    job = download_job()
    first = sandbox.run(job)
    assert first.returncode == 0, first.stderr
    model_dir = sandbox.mount("/models") / job.env["MODEL_DIR"]
    assert (model_dir / DOWNLOAD_MARKER).is_file()
    assert json.loads((model_dir / "config.json").read_text())["revision"] == job.env["MODEL_REVISION"]

    second = sandbox.run(job)
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout
    assert len(sandbox.called("hf")) == 1, "the second run must not download again"


def test_a_new_revision_downloads_to_a_new_directory(tmp_path):
    sandbox = download_sandbox(tmp_path)
    old = download_job()
    assert sandbox.run(old).returncode == 0
    run = preview("doks", model={"revision": "0123456789abcdef0123456789abcdef01234567"})
    assert run.error is None, run.error
    new = download_job(run)
    assert new.env["MODEL_DIR"] != old.env["MODEL_DIR"]
    result = sandbox.run(new)
    assert result.returncode == 0, result.stderr
    models = sandbox.mount("/models")
    assert (models / new.env["MODEL_DIR"] / DOWNLOAD_MARKER).is_file()
    assert (models / old.env["MODEL_DIR"] / DOWNLOAD_MARKER).is_file(), "the old revision stays untouched"
    assert [call[call.index("--revision") + 1] for call in sandbox.called("hf")] == [
        old.env["MODEL_REVISION"], new.env["MODEL_REVISION"]]  # fmt: skip


def test_a_failed_download_leaves_no_marker_and_is_retried(tmp_path):
    sandbox = download_sandbox(tmp_path)
    job = download_job(stack="existing-cluster")
    failed = sandbox.run(job, {"FAKE_HF_FAIL": "1"})
    assert failed.returncode != 0
    assert not (sandbox.mount("/models") / job.env["MODEL_DIR"] / DOWNLOAD_MARKER).exists()
    retried = sandbox.run(job)
    assert retried.returncode == 0, retried.stderr
    assert len(sandbox.called("hf")) == 2


def test_a_download_that_marks_before_finishing_is_caught(tmp_path):
    """The judge itself: a script that writes its marker even when hf fails leaves a marker behind."""
    job = download_job()
    lax = job.text.replace("set -eu\n", "").replace('hf download "$MODEL_ID"', 'hf download "$MODEL_ID" || true;')
    sandbox = download_sandbox(tmp_path)
    sandbox.run(Script("lax", job.shell, lax, job.env, job.mounts), {"FAKE_HF_FAIL": "1"})
    assert (sandbox.mount("/models") / job.env["MODEL_DIR"] / DOWNLOAD_MARKER).exists()


# ------------------------------------------------------------------------------------------------
# S3 upload Job: check, then download and upload side by side, with a fake `aws` over a directory
# (tests/test_staging.py runs the same scripts for bounded disk, batches and resume)

FAKE_AWS = """
import fnmatch, shutil
root = os.environ["FAKE_S3_ROOT"]
args = sys.argv[1:]
# What the real CLI needs from the Job: the endpoint (from the Secret) and path-style addressing.
assert os.environ.get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL is not set"
config = open(os.environ["AWS_CONFIG_FILE"]).read()
assert "addressing_style = path" in config, config
def opt(name):
    return args[args.index(name) + 1]
def split(url):
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return os.path.join(root, bucket), key
if args[:2] == ["s3api", "head-object"]:
    sys.exit(0 if os.path.isfile(os.path.join(root, opt("--bucket"), opt("--key"))) else 254)
if args[:2] == ["s3api", "head-bucket"]:
    sys.exit(0 if os.path.isdir(os.path.join(root, opt("--bucket"))) else 254)
if args[:2] == ["s3api", "create-bucket"]:
    os.makedirs(os.path.join(root, opt("--bucket")))
    sys.exit(0)
if args[:2] == ["s3api", "list-objects-v2"]:
    base = os.path.join(root, opt("--bucket"))
    keys = [os.path.relpath(os.path.join(d, f), base) for d, _, files in os.walk(base) for f in files]
    keys = [k for k in keys if k.startswith(opt("--prefix"))]
    print("\\t".join(keys) if keys else "None")
    sys.exit(0)
if args[:2] == ["s3", "mv"]:
    if os.environ.get("FAKE_AWS_FAIL") == "mv":
        sys.exit("upload failed: An error occurred (SlowDown)")
    source, (bucket, prefix) = args[2], split(args[3])
    excludes = [args[i + 1] for i, a in enumerate(args) if a == "--exclude"]
    for dirpath, _, files in os.walk(source):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), source)
            if any(fnmatch.fnmatch(rel, pattern) for pattern in excludes):
                continue
            dest = os.path.join(bucket, prefix, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.move(os.path.join(dirpath, name), dest)
    sys.exit(0)
if args[:2] == ["s3", "cp"] and args[2] == "-":
    bucket, key = split(args[3])
    os.makedirs(os.path.dirname(os.path.join(bucket, key)), exist_ok=True)
    with open(os.path.join(bucket, key), "w") as f:
        f.write(sys.stdin.read())
    sys.exit(0)
sys.exit(f"fake aws: unsupported {args}")
"""

REPO_FILES = ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def upload_pod(tmp_path: Path, s3: Path, extra_env: dict[str, str] | None = None) -> tuple[Sandbox, list]:
    """One pod of the upload Job: its init container, then its two containers side by side; the init
    container's failure stops the pod, as the kubelet does. Each pod gets fresh scratch and tmp volumes."""
    sandbox = download_sandbox(tmp_path)
    sandbox.stub("aws", FAKE_AWS)
    sandbox.stub("python3", f"print('\\n'.join({REPO_FILES!r}))")  # huggingface_hub.list_repo_files
    sandbox.stub("sleep", "")
    env = {"FAKE_S3_ROOT": str(s3), "AWS_ENDPOINT_URL": "https://objectstorage.example", **(extra_env or {})}

    def part(suffix: str) -> Script:
        [script] = [
            s for s in plan_scripts("oci-h100-rdma") if "model-upload" in s.origin and s.origin.endswith(suffix)
        ]
        return script

    check = sandbox.run(part("initContainers[0]"), env)
    if check.returncode != 0:
        return sandbox, [check]
    running = [sandbox.start(part(suffix), env) for suffix in (".containers[0]", ".containers[1]")]
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return sandbox, [check, *results]


def test_s3_upload_uploads_once_and_marks_the_prefix_complete(tmp_path):
    s3 = tmp_path / "s3"
    env = one_script("oci-h100-rdma", "initContainers[0]").env
    (s3 / env["BUCKET"]).mkdir(parents=True)
    sandbox, results = upload_pod(tmp_path / "pod1", s3)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    prefix = s3 / env["BUCKET"] / env["PREFIX"]
    assert (prefix / UPLOAD_MARKER).is_file()
    assert (prefix / "model-00002-of-00002.safetensors").is_file()
    assert not (prefix / ".cache").exists(), "hf's local metadata stays out of the bucket"
    assert len(sandbox.called("hf")) == 1

    again, results = upload_pod(tmp_path / "pod2", s3)
    assert [r.returncode for r in results] == [0, 0, 0]
    assert "nothing to upload" in results[0].stdout
    assert again.called("hf") == [] and [c for c in again.called("aws") if c[:2] == ["s3", "mv"]] == []


def test_a_failed_s3_upload_leaves_no_marker(tmp_path):
    s3 = tmp_path / "s3"
    env = one_script("oci-h100-rdma", "initContainers[0]").env
    (s3 / env["BUCKET"]).mkdir(parents=True)
    _, results = upload_pod(tmp_path / "pod1", s3, {"FAKE_AWS_FAIL": "mv"})
    assert results[-1].returncode != 0
    assert not (s3 / env["BUCKET"] / env["PREFIX"] / UPLOAD_MARKER).exists()
    _, results = upload_pod(tmp_path / "pod2", s3, {"FAKE_HF_FAIL": "1"})
    assert len(results) == 3 and results[1].returncode != 0, "the download fails"
    assert results[2].returncode != 0, "and the upload stops without its marker"
    assert not (s3 / env["BUCKET"] / env["PREFIX"] / UPLOAD_MARKER).exists()


# ------------------------------------------------------------------------------------------------
# Ray head: wait for every GPU of every node, then serve

FAKE_RAY = '''
"""Stands in for the ray package: the cluster grows one node per ray.init() call."""
import json, os
_state = os.environ["FAKE_RAY_STATE"]

def init(address=None):
    started = os.environ.get("FAKE_RAY_STARTED_LOG")  # the head's GCS is up once `ray start` ran
    if started and '["ray", "start"' not in open(started).read():
        raise ConnectionError("Could not find any running Ray instance")
    calls = json.load(open(_state)) if os.path.exists(_state) else 0
    json.dump(calls + 1, open(_state, "w"))

def _joined():
    per_node, most = int(os.environ["FAKE_RAY_GPUS_PER_NODE"]), int(os.environ["FAKE_RAY_MAX_NODES"])
    return min(json.load(open(_state)), most), per_node

def nodes():
    count, _ = _joined()
    return [{"Alive": True} for _ in range(count)]

def cluster_resources():
    count, per_node = _joined()
    return {"CPU": 32.0 * count, "GPU": float(count * per_node)}
'''


def ray_sandbox(tmp_path: Path, max_nodes: int, gpus_per_node: int, naps: int = 12) -> tuple[Sandbox, dict[str, str]]:
    sandbox = Sandbox(tmp_path)
    package = tmp_path / "pylib" / "ray"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_RAY)
    sandbox.stub("sleep", patience(sandbox, naps))
    sandbox.stub("vllm", "")
    env = {"PYTHONPATH": str(tmp_path / "pylib"), "FAKE_RAY_STATE": str(tmp_path / "ray-state.json"),
           "FAKE_RAY_MAX_NODES": str(max_nodes), "FAKE_RAY_GPUS_PER_NODE": str(gpus_per_node)}  # fmt: skip
    return sandbox, env


def serve_script(stack: str) -> Script:
    """serve.sh from the ConfigMap, with the head container's environment (it runs there)."""
    serve = one_script(stack, "serve.sh")
    head = one_script(stack, "headGroupSpec")
    return Script(serve.origin, serve.shell, serve.text, head.env, {})


@pytest.mark.parametrize("stack", ["oci-h100-rdma", "existing-cluster"])
def test_ray_head_waits_for_every_gpu_then_serves(stack, tmp_path):
    script = serve_script(stack)
    nodes, gpus = int(script.env["EXPECTED_NODES"]), int(script.env["EXPECTED_GPUS"])
    sandbox, env = ray_sandbox(tmp_path, max_nodes=nodes, gpus_per_node=gpus // nodes)
    result = sandbox.run(script, env)
    assert result.returncode == 0, result.stderr
    assert f"ray cluster: {nodes}/{nodes} nodes, {gpus}/{gpus} GPUs" in result.stdout
    assert len(sandbox.called("sleep")) == nodes - 1, "one nap per poll that found the cluster incomplete"
    [serve] = sandbox.called("vllm")
    assert serve[0] == "serve"
    assert serve[serve.index("--pipeline-parallel-size") + 1] == str(nodes)
    assert serve[serve.index("--distributed-executor-backend") + 1] == "ray"


def test_ray_head_does_not_serve_while_a_worker_is_missing(tmp_path):
    script = serve_script("oci-h100-rdma")
    nodes, gpus = int(script.env["EXPECTED_NODES"]), int(script.env["EXPECTED_GPUS"])
    sandbox, env = ray_sandbox(tmp_path, max_nodes=nodes - 1, gpus_per_node=gpus // nodes)
    result = sandbox.run(script, env)
    assert sandbox.called("vllm") == [] and result.returncode != 0
    assert len(sandbox.called("sleep")) > 10


def test_the_real_hf_cli_at_the_pinned_version_takes_every_flag_the_scripts_pass():
    """The fake `hf` stands in for huggingface_hub's CLI; the real one, at the version the Jobs install,
    must accept the same call (a renamed flag would fail every download)."""
    from importlib.metadata import version

    from stacks import catalog

    assert version("huggingface_hub") == catalog.HUGGINGFACE_HUB_VERSION
    hf = Path(sys.executable).parent / "hf"
    usage = subprocess.run([str(hf), "download", "--help"], capture_output=True, text=True, check=True).stdout
    calls = [line.strip() for stack in STACKS for s in plan_scripts(stack) for line in s.text.splitlines()
             if line.strip().startswith("hf download")]  # fmt: skip
    assert calls
    for call in calls:
        for flag in (word for word in call.split() if word.startswith("--")):
            assert re.search(rf"^\s+{re.escape(flag)}\b", usage, re.MULTILINE), f"hf download has no {flag}: {call}"


def run_head(tmp_path: Path, command: str | None = None, block_s: float = 5.0, naps: int = 12):
    """The head container's command as KubeRay runs it (ray.io/overwrite-container-cmd), with serve.sh
    from the mounted ConfigMap and KubeRay's generated `ray start` in $KUBERAY_GEN_RAY_START_CMD. The
    fake Ray cluster answers only once `ray start` ran; `ray start --block` returns once vLLM started (or
    after `block_s`)."""
    head = one_script("oci-h100-rdma", "headGroupSpec")
    if command is not None:
        head = Script(head.origin, head.shell, command, head.env, head.mounts)
    serve = one_script("oci-h100-rdma", "serve.sh")
    nodes, gpus = int(head.env["EXPECTED_NODES"]), int(head.env["EXPECTED_GPUS"])
    sandbox, env = ray_sandbox(tmp_path, max_nodes=nodes, gpus_per_node=gpus // nodes, naps=naps)
    sandbox.mount("/scripts").mkdir(parents=True)
    (sandbox.mount("/scripts") / "serve.sh").write_text(serve.text)
    polls = round(block_s / 0.1)
    wait_for_vllm = f"import time\nfor _ in range({polls}):\n    if 'vllm' in open({str(sandbox.calls)!r}).read(): break\n    time.sleep(0.1)\n"
    sandbox.stub("ray", wait_for_vllm)
    env["KUBERAY_GEN_RAY_START_CMD"] = "ray start --head --block --dashboard-host=0.0.0.0 --num-gpus=8"
    env["FAKE_RAY_STARTED_LOG"] = str(sandbox.calls)
    return sandbox, sandbox.run(head, env, timeout=60)


def test_ray_head_command_serves_in_the_background_while_ray_start_holds_the_container(tmp_path):
    sandbox, result = run_head(tmp_path)
    assert result.returncode == 0, result.stderr
    assert sandbox.called("ray") == [["start", "--head", "--block", "--dashboard-host=0.0.0.0", "--num-gpus=8"]]
    [serve_call] = sandbox.called("vllm")
    assert serve_call[0] == "serve" and serve_call[serve_call.index("--distributed-executor-backend") + 1] == "ray"


def test_a_head_command_that_serves_before_ray_starts_is_caught(tmp_path):
    """The judge itself: serve.sh in the foreground waits for a Ray that is never started."""
    head = one_script("oci-h100-rdma", "headGroupSpec")
    # serve.sh polls a Ray that never starts until its patience runs out (a few naps show it as well as
    # twelve); `ray start` runs only after that, when vLLM can no longer start: no need to hold it 5 s.
    sandbox, _ = run_head(tmp_path, head.text.replace("serve.sh & ", "serve.sh; "), block_s=0.2, naps=3)
    assert sandbox.called("vllm") == []
