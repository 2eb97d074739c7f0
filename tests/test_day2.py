"""Day 2: what an everyday config change does to a running stack (tools/diff.py, `make diff`).

None of these changes may replace or delete the cluster, the network, the node pools, the store that
holds the weights or the PV/PVC that mount it; a new model gets a new download Job.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.errors import ConfigError
from tests.harness import default_run, load_stack_config, merge, preview, stack_config
from tools import diff, force_new, mocks_oci
from tools.diff import CREATE, DELETE, REPLACE, UPDATE, Change
from tools.engine import ProgramRun, ResourceRecord

IMAGE_BUMP = "vllm/vllm-openai:v0.11.0"  # any other pinned tag: only the Deployment/RayCluster may change
REVISION = "0123456789abcdef0123456789abcdef01234567"


def ods_model(**changes: Any) -> list[dict[str, Any]]:
    """The oci-data-science stack's one model entry with `changes` merged in."""
    (entry,) = load_stack_config("oci-data-science")["llm-serving:models"]
    return [merge(entry, changes)]


# stack -> change -> (config overrides, a resource type suffix the change must touch)
EVERYDAY: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
    "doks": {
        "new model": ({"model": {"id": "Qwen/Qwen2.5-7B-Instruct"}}, ":Job"),
        "new revision": ({"model": {"revision": REVISION}}, ":Job"),
        "vllm image bump": ({"vllm": {"image": IMAGE_BUMP}}, ":Deployment"),
        "replicas +1": ({"vllm": {"replicas": 2}, "doks": {"gpuPool": {"nodeCount": 2}}}, ":Deployment"),
        "gpu nodes +1": ({"doks": {"gpuPool": {"nodeCount": 2}}}, ":KubernetesNodePool"),
        "nfs size up": ({"modelStore": {"sizeGb": 1500}}, ":Nfs"),
        "allowed cidrs": ({"doks": {"apiAllowedCidrs": ["198.51.100.0/24"]}}, ":KubernetesCluster"),
    },
    "oci-a10": {
        "new model": ({"model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "architecture": None}}, ":Job"),
        "new revision": ({"model": {"revision": REVISION}}, ":Job"),
        "vllm image bump": ({"vllm": {"image": IMAGE_BUMP}}, ":Deployment"),
        "replicas +1": ({"vllm": {"replicas": 2}, "oke": {"gpuPool": {"nodeCount": 2}}}, ":Deployment"),
        "gpu nodes +1": ({"oke": {"gpuPool": {"nodeCount": 2}}}, "nodePool:NodePool"),
        "fss size up": ({"modelStore": {"sizeGb": 400}}, ":PersistentVolume"),
        "allowed cidrs": (
            {
                "endpoint": {"allowedCidrs": ["198.51.100.0/24"]},
                "oke": {"apiEndpoint": {"allowedCidrs": ["198.51.100.7/32"]}},
            },
            ":Service",
        ),
    },
    "oci-h100-rdma": {
        "new model": ({"model": {"id": "Qwen/Qwen2.5-72B-Instruct"}}, ":Job"),
        "new revision": ({"model": {"revision": REVISION}}, ":Job"),
        "vllm image bump": ({"vllm": {"image": IMAGE_BUMP}}, ":RayCluster"),
        "gpu nodes +1": (
            {"rdma": {"nodeCount": 3}, "ray": {"pipelineParallelSize": 3, "workerReplicas": 2}},
            ":ClusterNetwork",
        ),
        "scratch size up": ({"modelStore": {"scratchSizeGb": 2000}}, ":Job"),
        "allowed cidrs": (
            {
                "endpoint": {"allowedCidrs": ["198.51.100.0/24"]},
                "oke": {"apiEndpoint": {"allowedCidrs": ["198.51.100.7/32"]}},
            },
            ":Service",
        ),
    },
    "oci-data-science": {
        "serve Qwen2.5-0.5B": ({"models": ods_model(id="Qwen/Qwen2.5-0.5B-Instruct", architecture=None)}, ":Model"),
        "vllm image bump": (
            {"models": ods_model(image="iad.ocir.io/axofflinens01/vllm-openai:v0.11.0")},
            ":ModelDeployment",
        ),
        "instances +1": ({"models": ods_model(replicas=2)}, ":ModelDeployment"),
        "context length": ({"models": ods_model(maxModelLen=8192)}, ":ModelDeployment"),
        "bandwidth": ({"dataScience": {"bandwidthMbps": 100}}, ":ModelDeployment"),
    },
    "existing-cluster": {
        "new model": ({"model": {"id": "Qwen/Qwen2.5-72B-Instruct"}}, ":Job"),
        "new revision": ({"model": {"revision": REVISION}}, ":Job"),
        "vllm image bump": ({"vllm": {"image": IMAGE_BUMP}}, ":RayCluster"),
        "gpu nodes -1": ({"existing": {"gpuNodes": {"count": 7}}, "ray": {"pipelineParallelSize": 7}}, ":RayCluster"),
    },
}
CASES = [
    pytest.param(stack, change, id=f"{stack}:{change}") for stack, changes in EVERYDAY.items() for change in changes
]


@functools.cache
def everyday_run(stack: str, change: str) -> ProgramRun:
    overrides, _ = EVERYDAY[stack][change]
    run = preview(stack, **overrides)
    assert run.error is None, f"{stack} {change}: {run.error!r}"
    return run


def destructive(changes: list[Change]) -> list[str]:
    """Stateful resources replaced or deleted, and updates the API server would refuse."""
    return [f"{c.op} {c.type} {c.name} ({', '.join(c.replace_because + c.rejected)})" for c in changes
            if (c.stateful and c.op in (DELETE, REPLACE)) or c.rejected]  # fmt: skip


@pytest.mark.parametrize(("stack", "change"), CASES)
def test_everyday_change_keeps_cluster_network_pools_and_weights(stack, change):
    changes = diff.plan(default_run(stack), everyday_run(stack, change))
    _, touched = EVERYDAY[stack][change]
    assert any(c.type.endswith(touched) for c in changes), f"{change} did not reach any {touched}: {changes}"
    assert destructive(changes) == []
    if "model" in change or "revision" in change:
        old_jobs = {o.inputs["metadata"]["name"] for o in default_run(stack).registered() if o.type.endswith(":Job")}
        jobs = [c for c in changes if c.type.endswith(":Job")]
        assert jobs and all(c.op in (CREATE, REPLACE) for c in jobs), "a new model needs a new download Job"
        new_run = everyday_run(stack, change)
        new_jobs = {o.inputs["metadata"]["name"] for o in new_run.registered() if o.type.endswith(":Job")}
        assert new_jobs and not new_jobs & old_jobs, "the Job that fetched the old model is never mutated"


@functools.cache
def with_api_key(stack: str, key: str) -> ProgramRun:
    run = preview(stack, secrets={"secrets": {"apiKey": key}})
    assert run.error is None, run.error
    return run


@pytest.mark.parametrize("stack", [s for s in EVERYDAY if s != "oci-data-science"])  # no API key: OCI IAM signing
def test_api_key_rotation_replaces_only_the_key_secret(stack):
    changes = diff.plan(with_api_key(stack, "k0123456789abcdef" * 2), with_api_key(stack, "r0123456789abcdef" * 2))
    assert changes, "a rotated key must reach the cluster"
    assert destructive(changes) == []
    # The DOKS provider's kubeconfig carries a token fetched on every run, so it shows as updated in
    # every plan (as in `pulumi preview`); an update of a provider replaces nothing it manages.
    touched = {c.type.rsplit(":", 1)[-1] for c in changes if not c.type.startswith("pulumi:providers:")}
    assert touched <= {"Secret", "Deployment", "RayCluster"}, changes
    assert all(c.op == UPDATE for c in changes if c.type.startswith("pulumi:providers:"))


@pytest.mark.parametrize("stack", ["doks", "oci-a10"])
def test_a_rotated_api_key_rolls_the_vllm_pods(stack):
    # vLLM reads VLLM_API_KEY from env at start; without a pod template change the old key stays live.
    changes = diff.plan(with_api_key(stack, "k0123456789abcdef" * 2), with_api_key(stack, "r0123456789abcdef" * 2))
    rolled = [c for c in changes if c.name.endswith("vllm-deployment") and c.op == UPDATE
              and any(p.startswith("spec.template.metadata.annotations") for p in c.paths)]  # fmt: skip
    assert rolled, changes
    assert all("[secret changed]" in line for c in rolled for line in c.shown), "the checksum stays a secret"


# ------------------------------------------------------------------------------------------
# The diff itself: what counts as a replace, and where that knowledge comes from
# ------------------------------------------------------------------------------------------


def record(type_: str, name: str, inputs: dict[str, Any], parent: str = "p", **kw: Any) -> ResourceRecord:
    return ResourceRecord(urn=f"urn:{parent}::{type_}::{name}", type=type_, name=name, custom=True, parent=parent,
                          provider=None, dependencies=[], inputs=inputs, **kw)  # fmt: skip


def run_of(*records: ResourceRecord) -> ProgramRun:
    return ProgramRun(project="p", stack="s", resources=list(records))


JOB = "kubernetes:batch/v1:Job"


def job(name: str, image: str) -> ResourceRecord:
    return record(JOB, "download", {"metadata": {"name": name}, "spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": image}]}}}})  # fmt: skip


def test_a_job_whose_template_changes_under_the_same_name_is_replaced():
    (change,) = diff.plan(run_of(job("dl", "a:1")), run_of(job("dl", "a:2")))
    assert change.op == REPLACE and change.replace_because == ("spec.template.spec.containers[0].image",)


def test_a_deployment_template_change_is_an_update_and_a_selector_change_a_replace():
    def dep(image: str, app: str) -> ResourceRecord:
        return record("kubernetes:apps/v1:Deployment", "d", {"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": app}}, "template": {"spec": {"containers": [{"image": image}]}}}})  # fmt: skip

    (update,) = diff.plan(run_of(dep("a:1", "x")), run_of(dep("a:2", "x")))
    assert update.op == UPDATE and update.paths == ("spec.template.spec.containers[0].image",)
    (replace,) = diff.plan(run_of(dep("a:1", "x")), run_of(dep("a:1", "y")))
    assert replace.op == REPLACE and replace.replace_because == ("spec.selector.matchLabels.app",)


def test_an_update_the_api_server_refuses_is_flagged():
    def storage_class(policy: str) -> ResourceRecord:
        return record("kubernetes:storage.k8s.io/v1:StorageClass", "sc",
                      {"kind": "StorageClass", "metadata": {"name": "sc"}, "reclaimPolicy": policy})  # fmt: skip

    (change,) = diff.plan(run_of(storage_class("Delete")), run_of(storage_class("Retain")))
    assert change.op == UPDATE and any("reclaimPolicy is immutable" in r for r in change.rejected)
    assert diff.blocking([change])


def test_creates_deletes_and_a_rename_under_the_same_parent():
    pool = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
    old = run_of(record(pool, "gpu", {"size": "a"}), record("random:index/randomPassword:RandomPassword", "k", {}))
    new = run_of(record(pool, "gpu2", {"size": "a"}), record("kubernetes:core/v1:Secret", "s", {}))
    ops = {(c.op, c.name) for c in diff.plan(old, new)}
    assert ops == {(REPLACE, "gpu2"), (CREATE, "s"), (DELETE, "k")}


def test_a_changed_secret_is_seen_through_its_fingerprint_not_its_value():
    old = record(
        "kubernetes:core/v1:Secret", "s", {"stringData": {"k": "[secret]"}}, secret_digests={"stringData": "a"}
    )
    new = record(
        "kubernetes:core/v1:Secret", "s", {"stringData": {"k": "[secret]"}}, secret_digests={"stringData": "b"}
    )
    (change,) = diff.plan(run_of(old), run_of(new))
    assert change.op == REPLACE and change.paths == ("stringData",)


def test_ignore_changes_keeps_a_path_from_the_plan():
    pvc = "kubernetes:core/v1:PersistentVolumeClaim"
    old = record(pvc, "c", {"spec": {"resources": {"requests": {"storage": "1Gi"}}}})
    new = record(pvc, "c", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}, ignore_changes=["spec.resources"])
    assert diff.plan(run_of(old), run_of(new)) == []


def test_oci_force_new_inputs_come_from_the_updatable_marks():
    pool = force_new.table("oci:ContainerEngine/nodePool:NodePool")
    assert pool is not None
    assert "compartmentId" in pool.paths and "clusterId" in pool.paths  # not (Updatable)
    assert "nodeShape" not in pool.paths and not any(p.startswith("nodeConfigDetails.size") for p in pool.paths)
    fss = force_new.table("oci:FileStorage/fileSystem:FileSystem")
    assert fss is not None and "availabilityDomain" in fss.paths and "displayName" not in fss.paths


def test_digitalocean_force_new_inputs_follow_the_terraform_schema():
    assert force_new.forces_replacement("digitalocean:index/kubernetesNodePool:KubernetesNodePool", "size")
    assert not force_new.forces_replacement("digitalocean:index/kubernetesNodePool:KubernetesNodePool", "nodeCount")
    assert force_new.forces_replacement("digitalocean:index/nfs:Nfs", "region")
    assert not force_new.forces_replacement("digitalocean:index/nfs:Nfs", "size")


@pytest.mark.parametrize("stack", list(EVERYDAY))
def test_every_resource_type_of_every_stack_has_a_force_new_table(stack):
    missing = sorted({r.type for r in default_run(stack).registered() if r.custom and force_new.table(r.type) is None})
    assert missing == [], "add these to tools/force_new.py, citing the provider"


def test_make_diff_prints_the_plan_and_flags_a_replaced_node_pool(tmp_path: Path, capsys):
    config = stack_config("doks")
    changed = copy.deepcopy(config)
    changed["llm-serving:doks"]["gpuPool"]["size"] = "gpu-h100x8-640gb"  # a new shape: a new pool
    changed["llm-serving:models"][0]["maxModelLen"] = 4096
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump({"config": changed}))
    code = diff.main(["--stack", "doks", "--config", str(path)])
    out = capsys.readouterr().out
    assert code == 3
    assert "+- replace digitalocean:index/kubernetesNodePool:KubernetesNodePool  vllm-gpu-pool" in out
    assert "replaced because: size" in out and ': "8192" -> "4096"' in out and "WARNING" in out


# OKE adds a Kubernetes version (and its node images) between two `pulumi up`s of the same config.
NEWER_OKE = ["v1.35.0"]
NEWER_OKE_IMAGES = [
    "Oracle-Linux-8.10-2026.01.15-0-OKE-1.35.0-1400",
    "Oracle-Linux-8.10-Gen2-GPU-2026.01.15-0-OKE-1.35.0-1400",
]


@pytest.mark.parametrize("stack", ["oci-a10", "oci-h100-rdma"])
def test_a_newer_oke_version_changes_nothing_on_a_running_stack(stack, monkeypatch):
    # Every config that previews today is run again once OKE offers a newer version: the cluster, the node
    # pools and the RDMA instance configuration (its user data installs the version's node packages) must
    # not move. An unpinned oke.kubernetesVersion would follow OKE's list, so it must not preview at all.
    configs = {"committed": stack_config(stack), "unpinned": stack_config(stack, oke={"kubernetesVersion": None})}
    today = {name: default_run(stack) if name == "committed" else preview(stack, raw=c) for name, c in configs.items()}
    assert isinstance(today["unpinned"].error, ConfigError), "an unpinned OKE version must be refused"
    assert "oke.kubernetesVersion" in str(today["unpinned"].error)
    monkeypatch.setattr(mocks_oci, "KUBERNETES_VERSIONS", [*mocks_oci.KUBERNETES_VERSIONS, *NEWER_OKE])
    monkeypatch.setattr(mocks_oci, "_IMAGE_NAMES", [*mocks_oci._IMAGE_NAMES, *NEWER_OKE_IMAGES])
    later = preview(stack, raw=configs["committed"])
    assert later.error is None, later.error
    changes = diff.plan(today["committed"], later)
    assert [f"{c.op} {c.type} {c.name} {c.paths}" for c in changes] == []
