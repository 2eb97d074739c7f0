"""RDMA GPU workers for an OKE cluster: bare-metal GPU nodes on OCI's RDMA cluster network, in one of
two modes, plus the IAM they need.

1. `clusterNetwork`: self-managed nodes. An InstanceConfiguration (shape, RDMA GPU image, boot volume,
   the Compute HPC RDMA Authentication and Auto-Configuration agent plugins, the first-boot script of
   `bootstrap_script` that joins the node to the cluster) and a ClusterNetwork whose one instance pool has `node_count` instances in
   one AD, as oracle-quickstart/oci-hpc-oke's
   `oke-rdma` pool (`mode = "cluster-network"`, terraform/oke-workers.tf; the upstream module's
   terraform-oci-oke modules/workers/instanceconfig.tf and clusternetworks.tf).
2. `computeCluster`: an OKE managed node pool placed in a ComputeCluster
   (pulumi_oci NodePoolNodeConfigDetailsArgs.compute_cluster_id), oci-hpc-oke's default today
   (terraform/variables.tf: worker_rdma_compute_cluster_id, "Compute Cluster OCID to use for GPU + RDMA
   OKE-managed node pool placement").

IAM (created here, or returned as statements for an administrator when `iam.create` is false):
- self-managed nodes need a dynamic group and `Allow dynamic-group <dg> to {CLUSTER_JOIN} in compartment
  ... where target.cluster.id = '<cluster OCID>'` (scoped to this cluster; Oracle, "Creating a Dynamic Group and a Policy for Self-Managed Nodes",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengdynamicgrouppolicyforselfmanagednodes.htm).
  Without it nodes never join ("Forbidden. node not authorized", oracle-quickstart/oci-hpc-oke#6).
  Dynamic group matching rule and statement as oci-hpc-oke terraform/iam.tf @6bac725c writes them.
- a managed node pool in a compute cluster needs `Allow any-user to {COMPUTE_CLUSTER_LAUNCH_INSTANCE} in
  compartment id <c> where request.principal.type = 'nodepool'` (oci-hpc-oke terraform/iam.tf
  `services_policies`; Oracle's core policy reference: the `use compute-clusters` verb carries
  COMPUTE_CLUSTER_LAUNCH_INSTANCE, needed by LaunchInstance into a compute cluster).
IAM resources live in the home region: pass a provider for it (`iam.provider`).

Deletion order: the cluster network depends on its instance configuration explicitly, so it is
deleted first; an instance configuration still used by an instance pool cannot be deleted
("cluster destroy fails with instanceconfiguration in use", oracle-terraform-modules/terraform-oci-oke#939).
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_oci as oci

from components.conventions import GPU_TAINT_KEY
from components.oke.network import CniType
from components.oke.node_pool import NodeTaint, OkeNodePool, OkeNodePoolArgs
from components.oke.placement import availability_domain

RdmaMode = Literal["clusterNetwork", "computeCluster"]

# The label the workload selects RDMA nodes on: its value names their cluster network (or compute cluster).
CLUSTER_NETWORK_LABEL = "cluster-network"

# "First-boot hardware config for bare metal instances takes extra time" (terraform-oci-oke
# modules/workers/clusternetworks.tf sets create = "2h").
CREATE_TIMEOUT = "2h"

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
  if curl -sSf -m 30 -H "Authorization: Bearer Oracle" -L0 \
    http://169.254.169.254/opc/v2/instance/metadata/oke_init_script | base64 --decode >"$ROOT/var/run/oke-init.sh" &&
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
    )
    return "\n".join(head) + "\n" + body.lstrip("\n")


def kubelet_flags(labels: dict[str, str], taints: list[NodeTaint]) -> list[str]:
    flags = []
    if labels:
        flags.append("--node-labels=" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if taints:
        flags.append("--register-with-taints=" + ",".join(t.flag() for t in taints))
    return flags


def iam_statements(mode: RdmaMode, dynamic_group_name: str, compartment_id: str, cluster_id: str) -> list[str]:
    """The policy statements RDMA nodes need. CLUSTER_JOIN is scoped to this one cluster (least privilege:
    the dynamic group matches every instance in the compartment): Oracle's self-managed node policy
    condition `where target.cluster.id = '<cluster OCID>'`, as terraform-oci-oke modules/iam/group-workers.tf
    (`cluster_join_where_clause`) and its examples/rms/oke-workers-only/schema.yaml write it."""
    if mode == "clusterNetwork":
        return [
            f"Allow dynamic-group {dynamic_group_name} to {{CLUSTER_JOIN}} in compartment id {compartment_id} "
            f"where target.cluster.id = '{cluster_id}'"
        ]
    return [
        f"Allow any-user to {{COMPUTE_CLUSTER_LAUNCH_INSTANCE}} in compartment id {compartment_id} "
        "where request.principal.type = 'nodepool'"
    ]


@dataclass(frozen=True)
class RdmaIamArgs:
    create: bool
    """Create the dynamic group and policy; False: an administrator creates `policy_statements` (output)."""
    tenancy_id: pulumi.Input[str]
    """Dynamic groups live in the tenancy (root compartment)."""
    dynamic_group_name: str
    provider: pulumi.ProviderResource | None = None
    """A provider for the home region, where IAM changes are made; None: the default provider."""


@dataclass(frozen=True)
class OkeRdmaWorkersArgs:
    mode: RdmaMode
    compartment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    kubernetes_version: str
    """"v1.33.1", the cluster's version."""
    shape: str
    shape_has_rdma: bool
    """From the shape catalog: a shape without RDMA NICs is refused."""
    node_count: int
    image_id: pulumi.Input[str]
    """An RDMA-capable GPU image (OFED + GPU driver; oci-hpc-oke publishes them) that can join OKE."""
    availability_domain: int
    """AD number (1-3): a cluster network and a compute cluster each live in one AD."""
    subnet_id: pulumi.Input[str]
    """The workers' (primary VNIC) subnet."""
    cluster_network_name: str
    """Display name of the cluster network / compute cluster, and the value of the `cluster-network` label."""
    apiserver_private_ip: pulumi.Input[str]
    """The cluster's private API endpoint IP (no port): self-managed nodes join through it."""
    cluster_ca_cert: pulumi.Input[str]
    """The cluster CA, base64 as in the kubeconfig's certificate-authority-data."""
    nsg_ids: list[pulumi.Input[str]] = field(default_factory=list)
    boot_volume_gb: int = 512
    boot_volume_vpus_per_gb: int = 10
    agent_plugins: dict[str, str] = field(default_factory=dict)
    """Oracle Cloud Agent plugin name -> ENABLED/DISABLED (cluster network mode; managed node pools have no
    agent configuration in the API)."""
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[NodeTaint] = field(default_factory=lambda: [NodeTaint(GPU_TAINT_KEY)])
    ssh_public_key: str | None = None
    cni_type: CniType = "FLANNEL_OVERLAY"
    pod_subnet_ids: list[pulumi.Input[str]] = field(default_factory=list)
    pod_nsg_ids: list[pulumi.Input[str]] = field(default_factory=list)
    max_pods_per_node: int = 110
    iam: RdmaIamArgs | None = None
    """None: no IAM here at all (statements still in `policy_statements`)."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class OkeRdmaWorkers(pulumi.ComponentResource):
    """Outputs: `labels` and `taint_keys` (what the workload selects and tolerates), the cluster
    network or compute cluster id, and the IAM `policy_statements`."""

    labels: dict[str, str]
    taint_keys: list[str]
    mode: RdmaMode
    cluster_network_id: pulumi.Output[str] | None
    instance_pool_id: pulumi.Output[str] | None
    compute_cluster_id: pulumi.Output[str] | None
    node_pool_id: pulumi.Output[str] | None
    policy_statements: pulumi.Output[list[str]]
    dynamic_group_name: str | None
    ready: list[pulumi.Resource]
    """What the RDMA pods must wait for."""

    def __init__(self, name: str, args: OkeRdmaWorkersArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:RdmaWorkers", name, None, opts)
        if not args.shape_has_rdma:
            raise ValueError(f"OkeRdmaWorkersArgs: {args.shape} has no RDMA cluster networking")
        if args.node_count < 1:
            raise ValueError("OkeRdmaWorkersArgs: node_count must be at least 1")
        labels = {**args.labels, CLUSTER_NETWORK_LABEL: args.cluster_network_name}
        flags = kubelet_flags(labels, args.taints)

        # IAM first: a node that boots before its policy exists never joins.
        iam_resources: list[pulumi.Resource] = []
        dg_name = args.iam.dynamic_group_name if args.iam is not None else f"{name}-rdma-nodes"
        statements = pulumi.Output.all(args.compartment_id, args.cluster_id).apply(
            lambda v: iam_statements(args.mode, dg_name, v[0], v[1])
        )
        self.dynamic_group_name = dg_name if args.mode == "clusterNetwork" else None
        if args.iam is not None and args.iam.create:
            iam_opts = pulumi.ResourceOptions(parent=self, provider=args.iam.provider)
            if args.mode == "clusterNetwork":
                iam_resources.append(
                    oci.identity.DynamicGroup(
                        f"{name}-dynamic-group",
                        compartment_id=args.iam.tenancy_id,
                        name=dg_name,
                        description=f"RDMA GPU instances of {args.cluster_network_name} (self-managed OKE nodes)",
                        matching_rule=pulumi.Output.concat(
                            "ANY {instance.compartment.id = '", args.compartment_id, "'}"
                        ),
                        freeform_tags=args.freeform_tags,
                        opts=iam_opts,
                    )
                )
            iam_resources.append(
                oci.identity.Policy(
                    f"{name}-policy",
                    compartment_id=args.compartment_id,
                    name=f"{name}-rdma-nodes",
                    description=(
                        "Self-managed RDMA nodes may join the OKE cluster"
                        if args.mode == "clusterNetwork"
                        else "OKE node pools may launch instances into compute clusters"
                    ),
                    statements=statements,
                    freeform_tags=args.freeform_tags,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.iam.provider, depends_on=iam_resources[:]),
                )
            )

        ad_name = availability_domain(args.compartment_id, args.availability_domain, parent=self)

        self.cluster_network_id = None
        self.instance_pool_id = None
        self.compute_cluster_id = None
        self.node_pool_id = None
        # One first-boot script for both modes: it also carries the endpoint and CA a self-managed node needs.
        script = pulumi.Output.all(args.apiserver_private_ip, args.cluster_ca_cert).apply(
            lambda v: bootstrap_script(args.kubernetes_version, flags, v[0], v[1])
        )
        if args.mode == "clusterNetwork":
            metadata: dict[str, pulumi.Input[str]] = {
                "user_data": script.apply(lambda s: base64.b64encode(s.encode()).decode()),
                # Keys the upstream module sets for self-managed workers (modules/workers/instanceconfig.tf).
                "apiserver_host": args.apiserver_private_ip,
                "cluster_ca_cert": args.cluster_ca_cert,
                "oke-k8version": args.kubernetes_version,
                "oke-initial-node-labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            }
            if args.cni_type == "OCI_VCN_IP_NATIVE":
                metadata["oke-native-pod-networking"] = "true"
                metadata["oke-max-pods"] = str(args.max_pods_per_node)
                metadata["pod-subnets"] = pulumi.Output.all(*args.pod_subnet_ids).apply(",".join)
                if args.pod_nsg_ids:
                    metadata["pod-nsgids"] = pulumi.Output.all(*args.pod_nsg_ids).apply(",".join)
            if args.ssh_public_key:
                metadata["ssh_authorized_keys"] = args.ssh_public_key
            instance_config = oci.core.InstanceConfiguration(
                f"{name}-instance-config",
                compartment_id=args.compartment_id,
                display_name=f"{args.cluster_network_name}-rdma",
                instance_details={
                    "instance_type": "compute",
                    "launch_details": {
                        "availability_domain": ad_name,
                        "compartment_id": args.compartment_id,
                        "shape": args.shape,
                        "agent_config": {
                            "are_all_plugins_disabled": False,
                            "is_management_disabled": False,
                            "is_monitoring_disabled": False,
                            "plugins_configs": [
                                {"name": plugin, "desired_state": state} for plugin, state in args.agent_plugins.items()
                            ],
                        },
                        "source_details": {
                            "source_type": "image",
                            "image_id": args.image_id,
                            "boot_volume_size_in_gbs": str(args.boot_volume_gb),
                            "boot_volume_vpus_per_gb": str(args.boot_volume_vpus_per_gb),
                        },
                        "create_vnic_details": {
                            "subnet_id": args.subnet_id,
                            "assign_public_ip": False,
                            "nsg_ids": args.nsg_ids,
                        },
                        "instance_options": {"are_legacy_imds_endpoints_disabled": True},
                        "metadata": metadata,
                    },
                },
                freeform_tags=args.freeform_tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            network = oci.core.ClusterNetwork(
                f"{name}-cluster-network",
                compartment_id=args.compartment_id,
                display_name=args.cluster_network_name,
                instance_pools=[
                    {
                        "instance_configuration_id": instance_config.id,
                        "size": args.node_count,
                        "display_name": f"{args.cluster_network_name}-pool",
                    }
                ],
                # One AD; `primary_vnic_subnets` is the current form of the deprecated `primary_subnet_id`
                # (pulumi_oci ClusterNetworkPlacementConfigurationArgs).
                placement_configuration={
                    "availability_domain": ad_name,
                    "primary_vnic_subnets": {"subnet_id": args.subnet_id},
                },
                freeform_tags=args.freeform_tags,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Explicit: created after and deleted before its instance configuration
                    # (terraform-oci-oke#939), and only once the nodes may join.
                    depends_on=[instance_config, *iam_resources],
                    custom_timeouts=pulumi.CustomTimeouts(create=CREATE_TIMEOUT, update=CREATE_TIMEOUT),
                ),
            )
            self.cluster_network_id = network.id
            self.instance_pool_id = network.instance_pools.apply(lambda pools: (pools[0].id or "") if pools else "")
            self.ready = [network]
        else:
            compute_cluster = oci.core.ComputeCluster(
                f"{name}-compute-cluster",
                availability_domain=ad_name,
                compartment_id=args.compartment_id,
                display_name=args.cluster_network_name,
                freeform_tags=args.freeform_tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            pool = OkeNodePool(
                f"{name}-pool",
                OkeNodePoolArgs(
                    cluster_id=args.cluster_id,
                    compartment_id=args.compartment_id,
                    kubernetes_version=args.kubernetes_version,
                    shape=args.shape,
                    size=args.node_count,
                    subnet_id=args.subnet_id,
                    nsg_ids=args.nsg_ids,
                    gpu=True,
                    image_id=args.image_id,
                    boot_volume_gb=args.boot_volume_gb,
                    availability_domains=[args.availability_domain],
                    labels=labels,
                    taints=list(args.taints),
                    ssh_public_key=args.ssh_public_key,
                    cni_type=args.cni_type,
                    pod_subnet_ids=args.pod_subnet_ids,
                    pod_nsg_ids=args.pod_nsg_ids,
                    max_pods_per_node=args.max_pods_per_node if args.cni_type == "OCI_VCN_IP_NATIVE" else None,
                    freeform_tags=args.freeform_tags,
                    compute_cluster_id=compute_cluster.id,
                    cloud_init=script,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[compute_cluster, *iam_resources]),
            )
            self.compute_cluster_id = compute_cluster.id
            self.node_pool_id = pool.pool_id
            self.ready = [pool]

        self.labels = labels
        self.taint_keys = [t.key for t in args.taints]
        self.mode = args.mode
        self.policy_statements = statements
        self.register_outputs(
            {
                "clusterNetworkId": self.cluster_network_id,
                "instancePoolId": self.instance_pool_id,
                "computeClusterId": self.compute_cluster_id,
                "nodePoolId": self.node_pool_id,
                "policyStatements": self.policy_statements,
            }
        )
