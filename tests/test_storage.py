"""Storage on the OCI stacks (issue 11 items 5, 6, 9-13; issue 12 item 1): model stores that can be
written, staged fast, cleaned up, and a destroy that finishes."""

from __future__ import annotations

import os
import subprocess

import pytest

from components.workloads import claim_model_store
from components.workloads.claim_model_store import ClaimModelStoreArgs, DownloadJob
from components.workloads.types import ModelDownload
from tests.harness import STACKS, config_error, containers, default_run, k8s_objects, preview
from tests.test_existing_cluster import MINIO_KNOWN, minio_config
from tools import estimates
from tools.k8s_semantics import quantity


def test_quantities_compare_like_kubernetes():
    assert quantity("1Gi") > quantity("512Mi") and quantity("500m") < quantity("1") == quantity("1000m")
    assert quantity("1G") < quantity("1Gi") and quantity("1e3") == quantity("1k")


def _runs():
    for stack in STACKS:
        yield stack, default_run(stack)
    minio = preview("existing-cluster", raw=minio_config(), secrets={"secrets": MINIO_KNOWN})
    assert minio.error is None, minio.error
    yield "existing-cluster (MinIO S3 store)", minio


def test_every_container_requests_no_more_than_its_limit():
    """Kubernetes rejects a container whose request exceeds its limit (issue 12.1: the S3 upload
    Job's `check` init container asked for 1Gi under a 512Mi limit)."""
    checked, bad = 0, []
    for stack, run in _runs():
        for obj in k8s_objects(run):
            for container in containers(obj):
                resources = container.get("resources") or {}
                requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
                for name, limit in limits.items():
                    checked += 1
                    if name in requests and quantity(requests[name]) > quantity(limit):
                        bad.append(f"{stack}: {obj['kind']}/{obj['metadata']['name']} {container['name']} "
                                   f"{name} request {requests[name]} > limit {limit}")  # fmt: skip
    assert checked > 0
    assert bad == []


# ---------------------------------------------------------------------------------------------
# 11.9: the GPU nodes boot while the CPU nodes do
# ---------------------------------------------------------------------------------------------

OCI_STACKS = ["oci-a10", "oci-h100-rdma"]


def _system_pool(run):
    return next(r for r in run.of_type(estimates.OKE_NODE_POOL) if r.name.endswith("-system-pool"))


@pytest.mark.parametrize("stack", OCI_STACKS)
def test_gpu_nodes_do_not_wait_for_the_system_pool(stack):
    run = default_run(stack)
    system = _system_pool(run)
    gpus = [r for r in run.registered() if estimates.is_gpu_provisioning(r)]
    assert gpus
    for gpu in gpus:
        assert system.urn not in estimates.ancestors(run, gpu.urn), f"{gpu.name} waits for {system.name}"
    # ...and the time estimate has them provisioning side by side.
    steps = estimates.estimate_time(run).steps
    first_gpu = min(steps[g.urn].start for g in gpus)
    assert first_gpu < steps[system.urn].finish


# ---------------------------------------------------------------------------------------------
# 11.6: a dynamic File Storage class only with the IAM that makes it work
# ---------------------------------------------------------------------------------------------

FSS_PROVISIONER = "fss.csi.oraclecloud.com"


def _cluster_principal_fss_grants(run) -> set[str]:
    """Policy statements letting OKE clusters provision File Storage (Oracle, "Provisioning PVCs on the
    File Storage Service"; oci-hpc-oke terraform/iam.tf): manage file-family + use virtual-network-family."""
    found = set()
    for policy in run.of_type("oci:Identity/policy:Policy"):
        for statement in policy.inputs.get("statements") or []:
            if "request.principal.type = 'cluster'" in statement or "request.principal.type='cluster'" in statement:
                for grant in ("manage file-family", "use virtual-network-family"):
                    if grant in statement:
                        found.add(grant)
    return found


@pytest.mark.parametrize("stack", OCI_STACKS)
def test_a_file_storage_class_comes_with_the_cluster_iam_it_needs_or_not_at_all(stack):
    run = default_run(stack)
    classes = [o for o in k8s_objects(run) if o["kind"] == "StorageClass" and o["provisioner"] == FSS_PROVISIONER]
    if classes:
        assert _cluster_principal_fss_grants(run) == {"manage file-family", "use virtual-network-family"}, (
            f"{stack}: StorageClass {classes[0]['metadata']['name']} provisions File Storage, but no policy "
            "lets the cluster do it"
        )


# ---------------------------------------------------------------------------------------------
# 11.10 / 11.12: a destroy that finishes, and a summary that says what it keeps
# ---------------------------------------------------------------------------------------------

RDMA = "oci-h100-rdma"
BUCKET = "oci:ObjectStorage/bucket:Bucket"


def _bucket(run):
    (bucket,) = run.of_type(BUCKET)
    return bucket


def test_destroy_keeps_the_filled_bucket_by_default_and_the_summary_says_so():
    """OCI deletes only empty buckets and the stack fills this one (~812 GB): a default destroy must
    not stop halfway on it."""
    store = default_run(RDMA).outputs  # committed config
    assert _bucket(default_run(RDMA)).retain_on_delete is True
    assert store["modelStoreOnDestroy"].startswith("KEPT") and "vllm-rdma-models" in store["modelStoreOnDestroy"]
    unset = preview(RDMA, modelStore={"retainOnDelete": None})  # the config default, not only the stack file
    assert unset.error is None, unset.error
    assert _bucket(unset).retain_on_delete is True
    dropped = preview(RDMA, modelStore={"retainOnDelete": False})
    assert _bucket(dropped).retain_on_delete is False
    assert "bulk-delete" in dropped.outputs["modelStoreOnDestroy"]


def test_turning_versioning_off_after_creation_sends_suspended():
    """OCI takes Enabled/Disabled at creation, Enabled/Suspended on update (pulumi_oci Bucket.versioning)."""
    assert _bucket(default_run(RDMA)).inputs["versioning"] == "Disabled"
    for value in ("Enabled", "Suspended"):
        run = preview(RDMA, modelStore={"versioning": value})
        assert run.error is None, run.error
        assert _bucket(run).inputs["versioning"] == value
    # A boolean cannot say which of Disabled/Suspended it means: one line naming the key.
    message = config_error(preview(RDMA, modelStore={"versioning": False}))
    assert "modelStore.versioning" in message and "Suspended" in message


def test_retained_file_storage_keeps_the_file_system_and_says_the_export_goes():
    kept = preview("oci-a10", modelStore={"retainOnDelete": True})
    assert kept.error is None, kept.error
    retained = {r.type.rsplit(":", 1)[-1] for r in kept.registered() if r.retain_on_delete}
    assert retained == {"FileSystem"}  # mount target and export are deleted by OCI with the mount target
    assert kept.outputs["modelStoreOnDestroy"].startswith("KEPT")
    assert "export are deleted" in kept.outputs["modelStoreOnDestroy"]


# ---------------------------------------------------------------------------------------------
# 11.5: the download Job can write a fresh File Storage export
# ---------------------------------------------------------------------------------------------


def _stub(bin_dir, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def _sh(script: str, env: dict[str, str], bin_dir) -> subprocess.CompletedProcess[str]:
    """Run a container script under bash with the stubs first on PATH."""
    full = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", script], env=full, capture_output=True, text=True, timeout=60)


def test_a_root_init_step_hands_the_model_directory_to_the_download_user(tmp_path):
    """A fresh export's root is root-owned 0755 and fsGroup does not apply to NFS: before the download
    (uid 1000) runs, a root step with CHOWN only creates the model directory and gives it to uid 1000."""
    job = next(o for o in k8s_objects(default_run("oci-a10")) if o["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    (prepare,) = pod["initContainers"]
    (download,) = pod["containers"]
    assert pod["securityContext"]["runAsUser"] == 1000 and "runAsUser" not in download.get("securityContext", {})
    assert prepare["securityContext"]["runAsUser"] == 0
    assert prepare["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN"]}
    assert prepare["securityContext"]["allowPrivilegeEscalation"] is False
    assert prepare["volumeMounts"] == download["volumeMounts"]
    model_dir = {e["name"]: e["value"] for e in prepare["env"]}["MODEL_DIR"]
    assert model_dir == {e["name"]: e.get("value") for e in download["env"]}["MODEL_DIR"]
    assert prepare["args"] == [claim_model_store.prepare_script("/models", 1000)]

    # Run both steps on a fake export: prepare (chown recorded), then the download with stub pip/hf.
    export, bin_dir, log = tmp_path / "export", tmp_path / "bin", tmp_path / "calls"
    export.mkdir(), bin_dir.mkdir()
    _stub(bin_dir, "chown", f'echo "chown $*" >> {log}')
    _stub(bin_dir, "pip", f'echo "pip $*" >> {log}')
    _stub(
        bin_dir,
        "hf",
        f'echo "hf $*" >> {log}; while [ $# -gt 0 ]; do [ "$1" = --local-dir ] && touch "$2/model.safetensors"; shift; done',
    )
    env = {"MODEL_DIR": model_dir, "MODEL_ID": "Qwen/Qwen2.5-7B-Instruct", "MODEL_REVISION": "main"}
    done = _sh(claim_model_store.prepare_script(str(export), 1000), env, bin_dir)
    assert done.returncode == 0, done.stderr
    target = export / model_dir
    assert target.is_dir() and log.read_text().splitlines() == [f"chown 1000:1000 {target}"]
    done = _sh(claim_model_store.download_script(str(export), ".download-complete", "2.4.0"), env, bin_dir)
    assert done.returncode == 0, done.stderr
    assert (target / "model.safetensors").exists() and (target / ".download-complete").exists()
    hf_call = next(line for line in log.read_text().splitlines() if line.startswith("hf "))
    assert f"--local-dir {target}" in hf_call and "--exclude original/*" in hf_call


# ---------------------------------------------------------------------------------------------
# 11.11 / 11.13: staging streams at the node's bandwidth, off the critical path, leaving no volume
# ---------------------------------------------------------------------------------------------


def _staging_job(run):
    (job,) = [o for o in k8s_objects(run) if o["kind"] == "Job" and o["metadata"]["name"].startswith("model-upload-")]
    return job


def test_staging_leaves_no_volume_behind_and_the_job_stays():
    """No claim outlives the upload (a completed Job keeps its pod, and a pod's ephemeral claim lives as
    long as the pod); no TTL either, which would make `pulumi refresh` lose the Job and `up` recreate it."""
    job = _staging_job(default_run(RDMA))
    assert "ttlSecondsAfterFinished" not in job["spec"]
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert volumes and all(set(v) == {"name", "emptyDir"} for v in volumes), volumes
    assert [r for r in default_run(RDMA).registered() if r.type == "kubernetes:core/v1:PersistentVolumeClaim"] == []


def test_staging_uses_the_fast_paths_of_both_ends():
    job = _staging_job(default_run(RDMA))
    download, upload = job["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e.get("value") for e in download["env"]}["HF_XET_HIGH_PERFORMANCE"] == "1"
    assert "max_concurrent_requests = 32" in upload["args"][0] and "multipart_chunksize = 64MB" in upload["args"][0]
    assert quantity(download["resources"]["requests"]["cpu"]) >= 2  # sized to drive the NIC, not 500m


def test_405b_staging_is_off_the_critical_path_within_75_minutes():
    run = default_run(RDMA)
    est = estimates.estimate_time(run)
    assert est.total_seconds <= 75 * 60, [f"{s.name} {s.seconds / 60:.1f}" for s in est.path]
    (job,) = [r for r in run.of_type(estimates.K8S_JOB) if "upload" in r.name]
    assert job.urn not in {s.urn for s in est.path}
    gpu_ready = max(est.steps[r.urn].finish for r in run.registered() if estimates.is_gpu_provisioning(r))
    assert est.steps[job.urn].finish <= gpu_ready


def test_the_staging_rate_is_the_staging_nodes_bandwidth_capped_by_the_assumed_source():
    table = estimates.durations()["model_staging"]
    assert table["source_reasoning"] and "computeshapes" in yaml_text_of_durations()
    run = default_run(RDMA)
    (job,) = [r for r in run.of_type(estimates.K8S_JOB) if "upload" in r.name]
    assert estimates.staging_rate(run, job).gbit_s == min(8 * 1, table["source_gbit_s"])  # 8-OCPU E5.Flex
    small = preview(RDMA, oke={"systemPool": {"ocpus": 2}})
    (small_job,) = [r for r in small.of_type(estimates.K8S_JOB) if "upload" in r.name]
    assert estimates.staging_rate(small, small_job).gbit_s == 2
    assert estimates.estimate_time(small).steps[small_job.urn].seconds > 3 * 60 * 60 / 4  # ~812 GB at 2 Gbit/s


def yaml_text_of_durations() -> str:
    return estimates.DURATIONS_FILE.read_text()


def test_the_download_runs_without_a_root_step_unless_asked_and_never_without_an_owner():
    """download_pod_spec is pure: a claim that needs no hand-over gets no root container at all, and a
    root hand-over without the UID to hand over to is refused before any resource."""
    model = ModelDownload(model_id="Qwen/Qwen2.5-0.5B-Instruct", model_revision="main", model_directory="qwen",
                          downloader_image="python:3.12.12-slim", huggingface_hub_version="2.4.0")  # fmt: skip
    plain = claim_model_store.download_pod_spec(ClaimModelStoreArgs(namespace="ns", claim_name="models", model=model))
    assert plain["init_containers"] == [] and plain["security_context"]["run_as_user"] == 1000
    root = DownloadJob(run_as_user=None, prepare_as_root=True)
    with pytest.raises(ValueError, match="prepare_as_root needs run_as_user"):
        claim_model_store.download_pod_spec(ClaimModelStoreArgs(namespace="ns", claim_name="m", model=model, job=root))
