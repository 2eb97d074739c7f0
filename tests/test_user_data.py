"""OKE nodes' first-boot scripts come from one module: both kinds of node fetch OKE's init script the same
way and register their labels and taints through the same kubelet flags (pure functions, no engine)."""

from __future__ import annotations

from components.conventions import GPU_TAINT_KEY
from components.oke.user_data import (
    OKE_INIT_SCRIPT_URL,
    NodeTaint,
    bootstrap_script,
    cloud_init,
    fetch_oke_init_script,
    kubelet_flags,
)

GPU = NodeTaint(GPU_TAINT_KEY)


def test_labels_and_taints_become_kubelet_registration_flags():
    flags = kubelet_flags({"b": "2", "a": "1"}, [GPU, NodeTaint("dedicated", "rdma", "NoExecute")])
    assert flags == [
        "--node-labels=a=1,b=2",
        "--register-with-taints=nvidia.com/gpu=present:NoSchedule,dedicated=rdma:NoExecute",
    ]
    assert kubelet_flags({}, []) == []


def test_managed_pool_script_fetches_okes_init_script_then_joins_with_its_taints():
    script = cloud_init([GPU], ["--max-pods=110"])
    lines = script.splitlines()
    assert lines[1] == fetch_oke_init_script("/var/run/oke-init.sh")
    assert lines[-1] == (
        'bash /var/run/oke-init.sh --kubelet-extra-args "--register-with-taints=nvidia.com/gpu=present:NoSchedule '
        '--max-pods=110"'
    )
    assert cloud_init([], []).splitlines()[-1] == "bash /var/run/oke-init.sh"


def test_both_scripts_read_the_metadata_service_with_the_imds_v2_header():
    managed = cloud_init([GPU], [])
    rdma = bootstrap_script("v1.33.1", kubelet_flags({"pool": "gpu"}, [GPU]), "10.0.0.3", "Q0E=")
    for script in (managed, rdma):
        assert script.count(OKE_INIT_SCRIPT_URL) == 1
        assert '-H "Authorization: Bearer Oracle"' in script
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule" in rdma
