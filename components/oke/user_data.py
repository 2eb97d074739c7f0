"""What OKE nodes run at first boot, one module for both kinds of node: the cloud-init of managed node
pools (`cloud_init`) and the bootstrap of RDMA GPU nodes (`bootstrap_script`), with the pieces they
share: the kubelet flags for labels and taints, and the fetch of OKE's init script from the instance
metadata service.

- Managed pools: Oracle's "Using Custom Cloud-init Initialization Scripts" Example 5 (oci-growfs, then
  the OKE init script), https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengusingcustomcloudinitscripts.htm.
  Without the grow the root filesystem stays at the image's ~47 GB whatever the volume size
  (vllm-project/production-stack deployment_on_cloud/oci README, "Key Gotchas"). A managed node pool has
  no taint argument (pulumi_oci 5.5.0 NodePool: only VirtualNodePool has `taints`), so taints are
  registered by the kubelet, passed through the OKE init script's `--kubelet-extra-args` (same Oracle page).
- RDMA nodes: see `bootstrap_script`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Literal

OKE_INIT_SCRIPT_URL = "http://169.254.169.254/opc/v2/instance/metadata/oke_init_script"
"""OKE's node init script in the instance metadata (IMDS v2: the `Authorization: Bearer Oracle` header)."""


def fetch_oke_init_script(dest: str, curl_options: str = "--fail", before_url: str = " ") -> str:
    """The shell pipeline that writes OKE's init script to `dest` (Oracle's Example 5 spells it this way)."""
    return f'curl {curl_options} -H "Authorization: Bearer Oracle" -L0{before_url}{OKE_INIT_SCRIPT_URL} | base64 --decode >{dest}'


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str = "present"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"

    def flag(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


def kubelet_flags(labels: dict[str, str], taints: list[NodeTaint]) -> list[str]:
    """The kubelet flags that register a node's labels and taints as it joins (`--node-labels`,
    `--register-with-taints`), for either start-up script."""
    flags = []
    if labels:
        flags.append("--node-labels=" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if taints:
        flags.append("--register-with-taints=" + ",".join(t.flag() for t in taints))
    return flags


def cloud_init(taints: list[NodeTaint], kubelet_extra_args: list[str]) -> str:
    """Oracle's Example 5 (grow the root filesystem, then join), plus kubelet flags."""
    flags = kubelet_flags({}, taints) + list(kubelet_extra_args)
    if any(c in flag for flag in flags for c in '"$`\\'):
        raise ValueError(f"kubelet flags may not contain quotes, $, backquotes or backslashes: {flags}")
    join = "bash /var/run/oke-init.sh"
    if flags:
        join += f' --kubelet-extra-args "{" ".join(flags)}"'
    return "\n".join(
        [
            "#!/bin/bash",
            fetch_oke_init_script("/var/run/oke-init.sh"),
            # A failed grow must not keep the node out of the cluster; the kubelet still reports the
            # real ephemeral-storage size, so a too-small disk shows up as DiskPressure, not a hang.
            'bash /usr/libexec/oci-growfs -y || echo "oci-growfs failed; continuing with the image-sized root" >&2',
            join,
            "",
        ]
    )


# RDMA pins memory with ibv_reg_mr, which fails under the container runtime's default 8 MB memlock
# limit: oci-hpc-oke's files/oke-ubuntu-cloud-init.sh (@61d210a, lines 94-104) starts every container on
# GPU nodes with an unlimited memlock through this CRI-O drop-in.
_MEMLOCK = """\
mkdir -p "$ROOT/etc/crio/crio.conf.d"
cat >"$ROOT/etc/crio/crio.conf.d/12-memlock.conf" <<'EOF'
[crio.runtime]
default_ulimits = [
    "memlock=-1:-1"
]
EOF"""

# CRI-O enforces short image names from Kubernetes 1.34 on (oci-hpc-oke files/oke-ubuntu-cloud-init.sh
# configure_crio_defaults, lines 43-55; terraform-oci-oke modules/workers/cloudinit.tf "50-crio-config.yml").
_SHORT_NAMES = """\
cat >"$ROOT/etc/crio/crio.conf.d/11-default.conf" <<'EOF'
[crio.image]
short_name_mode = "disabled"
EOF"""

# Ubuntu releases OKE publishes node packages for (terraform-oci-oke modules/workers/locals.tf
# `ubuntu_supported_versions`: 22.04 jammy, 24.04 noble).
UBUNTU_CODENAMES = ("jammy", "noble")
# OKE's Ubuntu node package repository, one per release codename and Kubernetes minor version
# (terraform-oci-oke modules/workers/cloudinit-ubuntu.sh.tftpl line 12; the second URI of oci-hpc-oke
# files/oke-ubuntu-cloud-init.sh line 178).
OKE_APT_REPO = (
    "https://odx-oke.objectstorage.us-sanjose-1.oci.customer-oci.com/n/odx-oke/b/okn-repositories/o/prod/"
    "ubuntu-$codename/kubernetes-$series"
)

# Everything after the generated variables. `$ROOT` is empty on a node (cloud-init runs the script as
# root, without our environment); tests run it in a fake root through OKE_BOOTSTRAP_ROOT.
_BODY = r"""
log() { echo "oke-rdma-bootstrap: $*" >&2; }
fail() {
  log "FATAL: $*"
  exit 1
}

# retry <attempts> <seconds between> <command...> (oci-hpc-oke run_with_retry: 20 x 15 s for the join)
retry() {
  local attempts=$1 delay=$2 i
  shift 2
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then
      return 0
    fi
    log "attempt $i/$attempts failed: $*"
    if ((i < attempts)); then
      sleep "$delay"
    fi
  done
  return 1
}

# Grow the root filesystem to the boot volume's size on every path (the image's root stays ~47 GB
# whatever the volume). Oracle Linux: oci-growfs (terraform-oci-oke cloudinit.tf "10-growpart.yml"
# bootcmd); elsewhere growpart + resize2fs, what cloud-init's growpart and resize_rootfs modules run.
# A failed grow must not keep the node out of the cluster: the kubelet reports the real size.
grow_root() {
  if [[ -x "$ROOT/usr/libexec/oci-growfs" ]]; then
    "$ROOT/usr/libexec/oci-growfs" -y || log "oci-growfs failed; continuing with the image-sized root"
    return 0
  fi
  local source disk part
  source=$(findmnt -n -o SOURCE /) || source=""
  disk=$(lsblk -n -o PKNAME "$source" 2>/dev/null) || disk=""
  part=$(cat "$ROOT/sys/class/block/${source##*/}/partition" 2>/dev/null) || part=""
  if [[ -z "$disk" || -z "$part" ]]; then
    log "root filesystem ${source:-?} is not a partition of a disk; not growing it"
    return 0
  fi
  # growpart exits 1 (NOCHANGE) when cloud-init already grew the partition: resize anyway.
  growpart "/dev/$disk" "$part" || log "growpart /dev/$disk $part changed nothing"
  resize2fs "$source" || log "resize2fs $source failed; continuing with the image-sized root"
}

install_package() {
  # DPkg::Lock::Timeout waits for a running unattended-upgrades instead of failing on the dpkg lock.
  apt-get -o DPkg::Lock::Timeout=300 -y update || true
  apt-get -o DPkg::Lock::Timeout=300 -y install "$1"
}

# Ubuntu images without the oke binary: OKE's apt repository for this release and the cluster's
# Kubernetes minor version, then oci-oke-node-all-<version> (terraform-oci-oke
# modules/workers/cloudinit-ubuntu.sh.tftpl; oci-hpc-oke files/oke-ubuntu-cloud-init.sh lines 172-217,
# which prefers a repository baked into the image under /opt/oke-node-client-packages).
install_oke_ubuntu() {
  local codename=${VERSION_CODENAME:-} version=${KUBERNETES_VERSION#v} series package uri local_repo
  series=${version%.*}
  package="oci-oke-node-all-$version"
  case "$codename" in
    __CODENAMES__) ;;
    *)
      log "Ubuntu '${codename:-?}' has no OKE node packages (OKE publishes them for: __CODENAMES_TEXT__)"
      return 1
      ;;
  esac
  uri="__REPO__"
  local_repo="/opt/oke-node-client-packages/ubuntu-$codename/kubernetes-$series"
  if [[ -d "$ROOT$local_repo/dists" ]]; then
    uri="file://$local_repo"
  fi
  mkdir -p "$ROOT/etc/apt/sources.list.d"
  cat >"$ROOT/etc/apt/sources.list.d/oke-node-client.sources" <<EOF
Enabled: yes
Types: deb
URIs: $uri
Suites: stable
Components: main
Trusted: yes
EOF
  log "installing $package from $uri"
  retry 5 30 install_package "$package"
}

join_with_oke_bootstrap() {
  log "joining: oke bootstrap"
  retry 20 15 oke bootstrap --kubelet-extra-args "$KUBELET_EXTRA_ARGS"
}

# Oracle Linux OKE images, in the order of terraform-oci-oke modules/workers/cloudinit-oke.sh
# run_oke_init: the image's oke-init service, else /etc/oke/oke-install.sh with the API endpoint and CA
# (Oracle, "Creating Cloud-init Scripts for Self-managed Nodes"), else OKE's init script from the
# instance metadata (managed nodes; Oracle, "Using Custom Cloud-init Initialization Scripts").
join_oracle_linux() {
  if [[ -f "$ROOT/etc/systemd/system/oke-init.service" ]]; then
    log "joining: oke-init.service (node labels from the instance metadata oke-initial-node-labels)"
    systemctl --no-block enable --now oke-init.service
    return
  fi
  if [[ -f "$ROOT/etc/oke/oke-install.sh" ]]; then
    log "joining: /etc/oke/oke-install.sh --apiserver-endpoint $APISERVER_HOST"
    retry 20 15 bash "$ROOT/etc/oke/oke-install.sh" --apiserver-endpoint "$APISERVER_HOST" \
      --kubelet-ca-cert "$CLUSTER_CA_B64" --kubelet-extra-args "$KUBELET_EXTRA_ARGS"
    return
  fi
  mkdir -p "$ROOT/var/run"
  if __FETCH_OKE_INIT__ &&
    [[ -s "$ROOT/var/run/oke-init.sh" ]]; then
    log "joining: OKE's oke_init_script from the instance metadata"
    retry 20 15 bash "$ROOT/var/run/oke-init.sh" --kubelet-extra-args "$KUBELET_EXTRA_ARGS"
    return
  fi
  fail "no way to join OKE on this Oracle Linux image: no oke binary, no oke-init.service, no /etc/oke/oke-install.sh and no oke_init_script in the instance metadata; use an OKE node image"
}

if [[ ! -r "$ROOT/etc/os-release" ]]; then
  fail "no /etc/os-release: cannot tell the OS, so there is no way to join OKE"
fi
# shellcheck disable=SC1091
. "$ROOT/etc/os-release"
ID=${ID:-}
log "OS ${ID:-?} ${VERSION_ID:-?}, Kubernetes $KUBERNETES_VERSION"

__CRIO__

# Where oke bootstrap and oke-install.sh read the API endpoint and CA of a self-managed node
# (terraform-oci-oke cloudinit.tf "50-oke-config.yml"; oci-hpc-oke oke-workers.tf write_files).
mkdir -p "$ROOT/etc/oke" "$ROOT/etc/kubernetes"
printf '%s' "$APISERVER_HOST" >"$ROOT/etc/oke/oke-apiserver"
printf '%s' "$CLUSTER_CA_B64" | base64 --decode >"$ROOT/etc/kubernetes/ca.crt"

grow_root

if command -v oke >/dev/null 2>&1; then
  join_with_oke_bootstrap || fail "oke bootstrap failed; see /var/log/messages (a missing CLUSTER_JOIN policy shows as 'node not authorized')"
else
  case "$ID" in
    ubuntu)
      install_oke_ubuntu || fail "could not install the OKE node package for Kubernetes $KUBERNETES_VERSION on Ubuntu ${VERSION_CODENAME:-?}: no way to join OKE"
      command -v oke >/dev/null 2>&1 || fail "the OKE node package installed no oke binary: no way to join OKE"
      join_with_oke_bootstrap || fail "oke bootstrap failed; see /var/log/messages (a missing CLUSTER_JOIN policy shows as 'node not authorized')"
      ;;
    ol)
      join_oracle_linux || fail "joining OKE failed on Oracle Linux; see /var/log/messages"
      ;;
    *)
      fail "unsupported OS '${ID:-?}': OKE nodes run Oracle Linux or Ubuntu (__CODENAMES_TEXT__); no way to join OKE"
      ;;
  esac
fi
log "node bootstrap done"
"""


def bootstrap_script(
    kubernetes_version: str,
    kubelet_extra_args: list[str],
    apiserver_ip: str,
    ca_cert_b64: str,
) -> str:
    """The first-boot script that joins an RDMA GPU node to OKE with our labels and taints, for both
    `rdma.mode` values (self-managed cluster-network instances and managed node-pool nodes).

    It reads /etc/os-release and takes the first join path the image offers: an `oke` binary
    (`oke bootstrap`); on Ubuntu without one, OKE's apt repository for the release codename and the
    cluster's minor version, `oci-oke-node-all-<version>` with retries, then `oke bootstrap`; on Oracle
    Linux, oke-init.service, /etc/oke/oke-install.sh or the metadata's oke_init_script. When none
    exists it exits non-zero with a `FATAL:` log line, so cloud-init reports the failure instead of a
    node that silently never joins. The root filesystem is grown first, on every path.
    """
    if any(c in flag for flag in kubelet_extra_args for c in "'\\"):
        raise ValueError(f"kubelet flags may not contain quotes or backslashes: {kubelet_extra_args}")
    minor = int(kubernetes_version.removeprefix("v").split(".")[1])
    crio = _MEMLOCK + ("\n" + _SHORT_NAMES if minor >= 34 else "")
    head = [
        "#!/bin/bash",
        # Kept byte for byte (the path names this script's former module): this text is the instances' user
        # data, and any changed byte would replace a running stack's instance configuration.
        "# First boot of an RDMA GPU node: grow the root filesystem, then join OKE (components/oke/rdma.py).",
        "set -uo pipefail",
        'ROOT="${OKE_BOOTSTRAP_ROOT:-}"',
        f"KUBERNETES_VERSION={shlex.quote(kubernetes_version)}",
        f"KUBELET_EXTRA_ARGS={shlex.quote(' '.join(kubelet_extra_args))}",
        f"APISERVER_HOST={shlex.quote(apiserver_ip)}",
        f"CLUSTER_CA_B64={shlex.quote(ca_cert_b64)}",
    ]
    body = (
        _BODY.replace("__CRIO__", crio)
        .replace("__CODENAMES__", "|".join(UBUNTU_CODENAMES))
        .replace("__CODENAMES_TEXT__", ", ".join(UBUNTU_CODENAMES))
        .replace("__REPO__", OKE_APT_REPO)
        .replace("__FETCH_OKE_INIT__", fetch_oke_init_script('"$ROOT/var/run/oke-init.sh"', "-sSf -m 30", " \\\n    "))
    )
    return "\n".join(head) + "\n" + body.lstrip("\n")
