"""The RDMA node's first-boot script, executed: bash runs it in a temporary fake root for Ubuntu 22.04
and Oracle Linux 8 (their os-release), with stubs for `oke`, `apt-get`, `curl` (IMDS), `systemctl`,
`oci-growfs`, `growpart` ... on PATH that record their arguments. We assert the join command each image
gets, its arguments, the grown root filesystem, and a non-zero exit with a clear log line when an image
offers no way to join."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.oke.user_data import bootstrap_script
from tests.harness import default_run, one, preview

FLAGS = [
    "--node-labels=cluster-network=vllm-rdma-rdma,llm-serving.dev/pool=gpu",
    "--register-with-taints=nvidia.com/gpu=present:NoSchedule",
]
KUBELET_ARGS = " ".join(FLAGS)
CA_PEM = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"
CA_B64 = base64.b64encode(CA_PEM.encode()).decode()
APISERVER = "10.0.0.3"

UBUNTU_2204 = 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n'
UBUNTU_2004 = 'NAME="Ubuntu"\nVERSION_ID="20.04"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=focal\n'
ORACLE_LINUX_8 = 'NAME="Oracle Linux Server"\nVERSION="8.10"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="8.10"\n'

_RECORD = '{ printf "%s" "__NAME__"; printf "\\t%s" "$@"; printf "\\n"; } >>"$CALLS"\n'


@dataclass
class Boot:
    returncode: int
    log: str
    calls: list[list[str]]
    root: Path

    def called(self, name: str) -> list[list[str]]:
        return [c[1:] for c in self.calls if c[0] == name]


class FakeNode:
    """A temporary root with an os-release, and a bin directory of recording stubs first on PATH."""

    def __init__(self, tmp: Path, os_release: str):
        self.root = tmp / "root"
        self.bin = tmp / "bin"
        self.pkg_bin = tmp / "pkg-bin"  # where the OKE package "installs" the oke binary
        for d in (self.root / "etc", self.bin, self.pkg_bin, self.root / "sys/class/block/sda1"):
            d.mkdir(parents=True, exist_ok=True)
        (self.root / "etc/os-release").write_text(os_release)
        (self.root / "sys/class/block/sda1/partition").write_text("1\n")
        self.calls = tmp / "calls.tsv"
        self.env = {"PATH": f"{self.bin}:{self.pkg_bin}:/usr/bin:/bin", "CALLS": str(self.calls),
                    "OKE_BOOTSTRAP_ROOT": str(self.root), "PKG_BIN": str(self.pkg_bin)}  # fmt: skip
        self.stub("sleep")  # retries do not wait in tests
        self.stub("findmnt", "echo /dev/sda1")
        self.stub("lsblk", "echo sda")
        self.stub("growpart")
        self.stub("resize2fs")
        self.stub("systemctl")
        self.stub("apt-get", 'if [[ " $* " == *" install "* ]]; then cp "$(dirname "$0")/.oke" "$PKG_BIN/oke"; fi')
        self.stub(".oke")  # the recorder the package installs as `oke`
        self.stub("curl", "exit 22")  # IMDS: no oke_init_script unless a test says so

    def stub(self, name: str, body: str = "", path: Path | None = None) -> None:
        target = path or self.bin / name
        target.parent.mkdir(parents=True, exist_ok=True)
        recorded = "oke" if name == ".oke" else name
        target.write_text("#!/bin/bash\n" + _RECORD.replace("__NAME__", recorded) + body + "\n")
        target.chmod(0o755)

    def run(self, script: str) -> Boot:
        path = self.root.parent / "bootstrap.sh"
        path.write_text(script)
        done = subprocess.run(["bash", str(path)], env=self.env, capture_output=True, text=True, timeout=60)
        lines = self.calls.read_text().splitlines() if self.calls.exists() else []
        return Boot(done.returncode, done.stdout + done.stderr, [line.split("\t") for line in lines], self.root)


def script(version: str = "v1.33.1") -> str:
    return bootstrap_script(version, FLAGS, APISERVER, CA_B64)


def joined_with_oke_bootstrap(boot: Boot) -> None:
    assert boot.returncode == 0, boot.log
    assert boot.called("oke") == [["bootstrap", "--kubelet-extra-args", KUBELET_ARGS]]
    # A self-managed node reads the API endpoint and the cluster CA from these files.
    assert (boot.root / "etc/oke/oke-apiserver").read_text() == APISERVER
    assert (boot.root / "etc/kubernetes/ca.crt").read_text() == CA_PEM
    assert '"memlock=-1:-1"' in (boot.root / "etc/crio/crio.conf.d/12-memlock.conf").read_text()


# --- Ubuntu 22.04 (oci-hpc-oke's GPU images) ------------------------------------------------------


def test_ubuntu_without_oke_installs_the_node_package_for_the_cluster_version_then_bootstraps(tmp_path):
    boot = FakeNode(tmp_path, UBUNTU_2204).run(script())
    joined_with_oke_bootstrap(boot)
    source = (boot.root / "etc/apt/sources.list.d/oke-node-client.sources").read_text()
    assert ("URIs: https://odx-oke.objectstorage.us-sanjose-1.oci.customer-oci.com/n/odx-oke/b/okn-repositories"
            "/o/prod/ubuntu-jammy/kubernetes-1.33\n") in source  # fmt: skip
    assert "Suites: stable" in source and "Components: main" in source
    installs = [args for args in boot.called("apt-get") if "install" in args]
    assert installs == [["-o", "DPkg::Lock::Timeout=300", "-y", "install", "oci-oke-node-all-1.33.1"]]
    # The root filesystem is grown before the join.
    assert boot.called("growpart") == [["/dev/sda", "1"]] and boot.called("resize2fs") == [["/dev/sda1"]]
    order = [c[0] for c in boot.calls]
    assert order.index("resize2fs") < order.index("oke")


def test_ubuntu_prefers_the_oke_repository_baked_into_the_image(tmp_path):
    node = FakeNode(tmp_path, UBUNTU_2204)
    (node.root / "opt/oke-node-client-packages/ubuntu-jammy/kubernetes-1.33/dists").mkdir(parents=True)
    boot = node.run(script())
    joined_with_oke_bootstrap(boot)
    source = (boot.root / "etc/apt/sources.list.d/oke-node-client.sources").read_text()
    assert "URIs: file:///opt/oke-node-client-packages/ubuntu-jammy/kubernetes-1.33\n" in source


def test_ubuntu_image_with_the_oke_binary_bootstraps_without_installing(tmp_path):
    node = FakeNode(tmp_path, UBUNTU_2204)
    node.stub(".oke", path=node.pkg_bin / "oke")
    boot = node.run(script())
    joined_with_oke_bootstrap(boot)
    assert boot.called("apt-get") == []


def test_ubuntu_package_install_is_retried_then_fails_loudly(tmp_path):
    node = FakeNode(tmp_path, UBUNTU_2204)
    node.stub("apt-get", 'if [[ " $* " == *" install "* ]]; then exit 100; fi')
    boot = node.run(script())
    assert boot.returncode != 0
    assert len([a for a in boot.called("apt-get") if "install" in a]) == 5
    assert boot.called("oke") == []
    assert "FATAL: could not install the OKE node package for Kubernetes v1.33.1 on Ubuntu jammy" in boot.log


def test_ubuntu_release_without_oke_packages_exits_non_zero(tmp_path):
    boot = FakeNode(tmp_path, UBUNTU_2004).run(script())
    assert boot.returncode != 0
    assert "Ubuntu 'focal' has no OKE node packages" in boot.log and "FATAL:" in boot.log
    assert boot.called("oke") == [] and [a for a in boot.called("apt-get") if "install" in a] == []


def test_a_failing_oke_bootstrap_is_retried_and_reported(tmp_path):
    node = FakeNode(tmp_path, UBUNTU_2204)
    node.stub(".oke", "exit 1", path=node.pkg_bin / "oke")
    boot = node.run(script())
    assert boot.returncode != 0
    assert len(boot.called("oke")) == 20  # oci-hpc-oke run_with_retry: 20 attempts
    assert "FATAL: oke bootstrap failed" in boot.log


# --- Oracle Linux 8 (OKE images) -------------------------------------------------------------------


def test_oracle_linux_self_managed_runs_oke_install_with_endpoint_ca_and_kubelet_flags(tmp_path):
    node = FakeNode(tmp_path, ORACLE_LINUX_8)
    node.stub("oke-install.sh", path=node.root / "etc/oke/oke-install.sh")
    node.stub("oci-growfs", path=node.root / "usr/libexec/oci-growfs")
    boot = node.run(script())
    assert boot.returncode == 0, boot.log
    assert boot.called("oke-install.sh") == [
        ["--apiserver-endpoint", APISERVER, "--kubelet-ca-cert", CA_B64, "--kubelet-extra-args", KUBELET_ARGS]
    ]
    assert boot.called("oci-growfs") == [["-y"]] and boot.called("growpart") == []
    order = [c[0] for c in boot.calls]
    assert order.index("oci-growfs") < order.index("oke-install.sh")


def test_oracle_linux_prefers_the_oke_init_service_as_terraform_oci_oke_does(tmp_path):
    node = FakeNode(tmp_path, ORACLE_LINUX_8)
    node.stub("oke-install.sh", path=node.root / "etc/oke/oke-install.sh")
    (node.root / "etc/systemd/system").mkdir(parents=True)
    (node.root / "etc/systemd/system/oke-init.service").write_text("[Unit]\n")
    boot = node.run(script())
    assert boot.returncode == 0, boot.log
    assert boot.called("systemctl") == [["--no-block", "enable", "--now", "oke-init.service"]]
    assert boot.called("oke-install.sh") == []


def test_oracle_linux_managed_node_runs_okes_init_script_from_the_instance_metadata(tmp_path):
    node = FakeNode(tmp_path, ORACLE_LINUX_8)
    init = '#!/bin/bash\n{ printf "%s" oke-init.sh; printf "\\t%s" "$@"; printf "\\n"; } >>"$CALLS"\n'
    encoded = base64.b64encode(init.encode()).decode()
    node.stub("curl", f'case "$*" in *opc/v2/instance/metadata/oke_init_script*) echo {encoded} ;; *) exit 22 ;; esac')
    boot = node.run(script())
    assert boot.returncode == 0, boot.log
    assert any(
        "http://169.254.169.254/opc/v2/instance/metadata/oke_init_script" in args
        and "Authorization: Bearer Oracle" in args
        for args in boot.called("curl")
    )
    assert boot.called("oke-init.sh") == [["--kubelet-extra-args", KUBELET_ARGS]]


def test_oracle_linux_without_any_join_path_exits_non_zero_with_a_clear_line(tmp_path):
    boot = FakeNode(tmp_path, ORACLE_LINUX_8).run(script())
    assert boot.returncode != 0
    assert "FATAL: no way to join OKE on this Oracle Linux image" in boot.log


def test_an_unknown_os_exits_non_zero(tmp_path):
    boot = FakeNode(tmp_path, 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n').run(script())
    assert boot.returncode != 0 and "FATAL: unsupported OS 'debian'" in boot.log


# --- what the generator writes -----------------------------------------------------------------------


def test_kubernetes_134_disables_crio_short_name_enforcement(tmp_path):
    node = FakeNode(tmp_path, UBUNTU_2204)
    node.stub(".oke", path=node.pkg_bin / "oke")
    assert not (node.run(script("v1.33.1")).root / "etc/crio/crio.conf.d/11-default.conf").exists()
    boot = node.run(script("v1.34.2"))
    assert 'short_name_mode = "disabled"' in (boot.root / "etc/crio/crio.conf.d/11-default.conf").read_text()


def test_kubelet_flags_that_would_break_the_quoting_are_refused():
    with pytest.raises(ValueError, match="quotes"):
        bootstrap_script("v1.33.1", ["--node-labels=a='b'"], APISERVER, CA_B64)


# --- the scripts the stack really ships, in both rdma.mode values ---------------------------------------


def _shipped_script(mode: str) -> str:
    if mode == "clusterNetwork":
        launch = one(default_run("oci-h100-rdma"), "InstanceConfiguration").inputs["instanceDetails"]["launchDetails"]
        return base64.b64decode(launch["metadata"]["user_data"]).decode()
    run = preview("oci-h100-rdma", rdma={"mode": "computeCluster"})
    assert run.error is None, run.error
    return base64.b64decode(one(run, "nodePool:NodePool", "rdma-pool").inputs["nodeMetadata"]["user_data"]).decode()


@pytest.mark.parametrize("mode", ["clusterNetwork", "computeCluster"])
def test_the_shipped_script_joins_an_ubuntu_gpu_node_with_the_stacks_labels_and_taint(tmp_path, mode):
    boot = FakeNode(tmp_path, UBUNTU_2204).run(_shipped_script(mode))
    assert boot.returncode == 0, boot.log
    [args] = boot.called("oke")
    assert args[:2] == ["bootstrap", "--kubelet-extra-args"]
    assert "cluster-network=vllm-rdma-rdma" in args[2]
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule" in args[2]
    assert ["-o", "DPkg::Lock::Timeout=300", "-y", "install", "oci-oke-node-all-1.33.1"] in boot.called("apt-get")
    assert (boot.root / "etc/oke/oke-apiserver").read_text() == APISERVER
