"""The S3 staging Job's scripts, executed under bash with stub `pip`, `python3`, `hf`, `aws` and `sleep`
(issue 11 items 11 and 13): files stream from the Hub to the bucket a few at a time, local disk never
holds more than MAX_FILES_ON_DISK files and is empty at the end, the marker comes last, a retried Job
fetches only what the bucket lacks, and a failure on either side stops both containers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from components.workloads import s3_model_store as s3

MARKER = s3.COMPLETE_MARKER
PREFIX = "meta-llama--Llama-3.1-405B-Instruct/main"
SHARDS = [f"model-{i:05d}-of-00011.safetensors" for i in range(1, 12)]
REPO = [*SHARDS, "config.json", "tokenizer.json", "model.safetensors.index.json", "original/consolidated.00.pth"]

STUBS = {
    "pip": 'echo "pip $*" >> "$CALLS"',
    "sleep": "exec /bin/sleep 0.02",
    # list_repo_files: the fake repository's files
    "python3": 'printf "%s\\n" $FAKE_REPO_FILES',
    # hf download MODEL f1 f2 ... --revision R --local-dir D --max-workers N
    "hf": r"""
files=(); dir=""
shift  # "download"
shift  # model id
while [ $# -gt 0 ]; do
  case "$1" in
    --local-dir) dir="$2"; shift 2 ;;
    --revision|--max-workers) shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
on_disk=$(find "$dir" -type f -not -path '*/.cache/*' | wc -l)
echo "hf ${#files[@]} on_disk=$on_disk ${files[*]}" >> "$CALLS"
for f in "${files[@]}"; do
  if [ "$f" = "${FAKE_HF_FAIL_ON:-}" ]; then echo "hf: 403 on $f" >&2; exit 1; fi
  mkdir -p "$dir/.cache/huggingface/download" "$(dirname "$dir/$f")"
  echo "weights of $f" > "$dir/.cache/huggingface/download/$(basename "$f").incomplete"
  mv "$dir/.cache/huggingface/download/$(basename "$f").incomplete" "$dir/$f"
done
""",
    # aws s3api head-object|list-objects-v2|head-bucket|create-bucket, aws s3 mv|cp
    "aws": r"""
case "$1 $2" in
  "s3api head-object")
    key=""; while [ $# -gt 0 ]; do [ "$1" = --key ] && key="$2"; shift; done
    [ -f "$FAKE_BUCKET/$key" ] ;;
  "s3api list-objects-v2")
    keys=$(cd "$FAKE_BUCKET" && find . -type f | sed 's|^\./||' | tr '\n' '\t' | sed 's/\t$//')
    if [ -n "$keys" ]; then printf '%s\n' "$keys"; else echo None; fi ;;
  "s3api head-bucket"|"s3api create-bucket") true ;;
  "s3 mv")
    if [ -n "${FAKE_AWS_FAIL:-}" ]; then echo "aws: 503 SlowDown" >&2; exit 1; fi
    src="$3"; dest="${4#s3://*/}"
    for f in $(cd "$src" && find . -type f -not -path './.cache/*' | sed 's|^\./||'); do
      mkdir -p "$(dirname "$FAKE_BUCKET/$dest/$f")"
      mv "$src/$f" "$FAKE_BUCKET/$dest/$f"
      echo "put $f" >> "$CALLS"
    done ;;
  "s3 cp")
    dest="${4#s3://*/}"; mkdir -p "$(dirname "$FAKE_BUCKET/$dest")"
    echo "marker $(cd "$FAKE_BUCKET/$PREFIX" && find . -type f | wc -l)" >> "$CALLS"
    cat > "$FAKE_BUCKET/$dest" ;;
  *) echo "aws stub: unexpected $*" >&2; exit 2 ;;
esac
""",
}


class Pod:
    """The Job's pod on a fake node: a scratch emptyDir, a fake bucket, stubs on PATH."""

    def __init__(self, root: Path, repo: list[str], fail_on: str = "", upload_fails: bool = False,
                 shell: str = "bash") -> None:  # fmt: skip
        self.scratch, self.bucket, self.bin = root / "scratch", root / "bucket", root / "bin"
        self.calls = root / "calls"
        for d in (self.scratch, self.bucket, self.bin):
            d.mkdir()
        self.calls.touch()
        self.shell = shell
        for name, body in STUBS.items():
            (self.bin / name).write_text(f"#!/bin/bash\n{body}\n")
            (self.bin / name).chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "CALLS": str(self.calls), "FAKE_BUCKET": str(self.bucket), "FAKE_REPO_FILES": " ".join(repo),
            "FAKE_HF_FAIL_ON": fail_on, "FAKE_AWS_FAIL": "1" if upload_fails else "", "BUCKET": "models", "PREFIX": PREFIX, "AWS_CONFIG_FILE": str(root / "aws-config"),
            "MODEL_ID": "meta-llama/Llama-3.1-405B-Instruct", "MODEL_REVISION": "main",
        }  # fmt: skip

    def start(self, script: str) -> subprocess.Popen[str]:
        script = script.replace(s3.SCRATCH, str(self.scratch))
        return subprocess.Popen([self.shell, "-c", script], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def run(self) -> tuple[int, int]:
        """check (init container), then download and upload side by side; their exit codes."""
        check = self.start(s3.check_script(s3.SCRATCH, MARKER, create_bucket=False))
        assert check.wait(timeout=30) == 0, check.communicate()
        download = self.start(s3.download_script(s3.SCRATCH, "2.4.0"))
        upload = self.start(s3.upload_script(s3.SCRATCH, MARKER))
        deadline = time.monotonic() + 60
        codes = (download.wait(timeout=deadline - time.monotonic()), upload.wait(timeout=deadline - time.monotonic()))
        return codes

    def lines(self, prefix: str) -> list[str]:
        return [line for line in self.calls.read_text().splitlines() if line.startswith(prefix)]

    def staged(self) -> set[str]:
        root = self.bucket / PREFIX
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# The containers run the scripts with /bin/sh: dash in python:3.12-slim (Debian), bash in amazon/aws-cli.
SHELLS = ["bash", *(["dash"] if shutil.which("dash") else [])]


@pytest.mark.parametrize("shell", SHELLS)
def test_files_stream_to_the_bucket_with_bounded_local_disk(tmp_path, shell):
    pod = Pod(tmp_path, REPO, shell=shell)
    assert pod.run() == (0, 0)
    wanted = {f for f in REPO if not f.startswith("original/")}  # vLLM never reads original/
    assert pod.staged() == wanted | {MARKER}
    assert (pod.bucket / PREFIX / SHARDS[0]).read_text() == f"weights of {SHARDS[0]}\n"
    # Several files per `hf download`, and never more than MAX_FILES_ON_DISK on local disk.
    fetches = pod.lines("hf ")
    assert max(int(line.split()[1]) for line in fetches) == s3.FILES_PER_BATCH
    for line in fetches:
        batch, on_disk = int(line.split()[1]), int(line.split()[2].split("=")[1])
        assert on_disk + batch <= s3.MAX_FILES_ON_DISK, line
    # The marker last, once every object is there; nothing left on the node's disk.
    assert pod.calls.read_text().splitlines()[-1] == f"marker {len(wanted)}"
    assert [p for p in (pod.scratch / "model").rglob("*") if p.is_file() and ".cache" not in p.parts] == []


def test_a_retried_job_fetches_only_what_the_bucket_lacks(tmp_path):
    pod = Pod(tmp_path, REPO)
    (pod.bucket / PREFIX).mkdir(parents=True)
    for done in SHARDS[:5]:
        (pod.bucket / PREFIX / done).write_text("uploaded before the pod was lost\n")
    assert pod.run() == (0, 0)
    fetched = {f for line in pod.lines("hf ") for f in line.split()[3:]}
    assert fetched == {f for f in REPO if not f.startswith("original/")} - set(SHARDS[:5])
    assert MARKER in pod.staged()


def test_a_finished_upload_is_a_no_op(tmp_path):
    pod = Pod(tmp_path, REPO)
    (pod.bucket / PREFIX).mkdir(parents=True)
    (pod.bucket / PREFIX / MARKER).write_text("2026-12-02T00:00:00Z\n")
    assert pod.run() == (0, 0)
    assert pod.lines("hf ") == [] and pod.lines("put ") == []


@pytest.mark.parametrize("fail_on", [SHARDS[6], "config.json"])
def test_a_failed_download_stops_both_containers_without_a_marker(tmp_path, fail_on):
    pod = Pod(tmp_path, REPO, fail_on=fail_on)
    download, upload = pod.run()
    assert download != 0 and upload != 0
    assert MARKER not in pod.staged()


def test_a_failed_upload_stops_the_download(tmp_path):
    pod = Pod(tmp_path, REPO, upload_fails=True)
    download, upload = pod.run()
    assert download != 0 and upload != 0
    assert len(pod.lines("hf ")) <= s3.MAX_FILES_ON_DISK // s3.FILES_PER_BATCH + 1  # it stopped fetching
    assert MARKER not in pod.staged()
