"""An OKE managed node pool for any shape, on a cluster and in its network: CPU system pools and GPU pools alike.

- Image: from args, or the newest OKE image for the cluster's Kubernetes version from the node pool
  options, matched exactly on `OKE-<version>-` (`OKE-1.33.1` would also match `OKE-1.33.10`,
  an image newer than the control plane: NVIDIA-NeMo/Nemotron PR #267), a GPU image ("names of
  compatible images include 'GPU'", Oracle "Running Applications on GPU-based Nodes",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengrunninggpunodes.htm) for GPU shapes.
- Start-up script: components/oke/user_data.py `cloud_init` (grows the boot volume's filesystem, then
  joins with the pool's taints registered by the kubelet).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci

from components.oke.cluster import OkeCluster
from components.oke.network import OkeNetwork
from components.oke.placement import ad_by_number
from components.oke.user_data import NodeTaint, cloud_init

__all__ = ["NodeTaint", "OkeNodePool", "OkeNodePoolArgs", "cloud_init", "pick_image"]


@dataclass(frozen=True)
class OkeNodePoolArgs:
    cluster: OkeCluster
    """The pool takes the cluster's compartment and Kubernetes version (managed nodes may not be newer
    than the control plane)."""
    network: OkeNetwork
    """Nodes go in its worker subnet and worker NSG; with VCN-native pods, pods in its pod subnet and NSG."""
    shape: str
    size: int
    extra_nsg_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """NSGs the nodes join besides the workers' one."""
    gpu: bool = False
    """Pick a GPU image (CUDA preinstalled) when looking the image up."""
    autoscaled: bool = False
    """The Cluster Autoscaler add-on sizes the pool after its first `size`."""
    ocpus: float | None = None
    """Flex shapes only."""
    memory_gbs: float | None = None
    """Flex shapes only."""
    image_id: pulumi.Input[str] | None = None
    """An OKE image OCID; looked up for `kubernetes_version` when None."""
    boot_volume_gb: int = 100
    availability_domains: list[int] | None = None
    """AD numbers (1-3) to place nodes in; the tenancy-specific AD names are looked up. None: all."""
    fault_domains: list[str] = field(default_factory=list)
    """e.g. ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2"]; empty lets OCI spread nodes."""
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[NodeTaint] = field(default_factory=list)
    ssh_public_key: str | None = None
    max_pods_per_node: int | None = None
    """VCN-native pods only."""
    pv_encryption_in_transit: bool = True
    """In-transit encryption of paravirtualized boot and block volume attachments (Oracle: node pools
    must set isPvEncryptionInTransitEnabled for the CSI in-transit encryption to apply). VM shapes only."""
    kubelet_extra_args: list[str] = field(default_factory=list)
    freeform_tags: dict[str, str] = field(default_factory=dict)
    compute_cluster_id: pulumi.Input[str] | None = None
    """Place the nodes in this compute cluster (RDMA; NodePoolNodeConfigDetailsArgs.compute_cluster_id)."""
    cloud_init: pulumi.Input[str] | None = None
    """A start-up script replacing the default one (user_data.bootstrap_script); it must join the node and
    register `taints` itself."""


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def pick_image(sources: list, kubernetes_version: str, gpu: bool) -> str:
    """The newest OKE image for this exact Kubernetes version (x86_64; GPU or not)."""
    version = kubernetes_version.removeprefix("v")
    marker = f"-OKE-{version}-"
    candidates = [
        s
        for s in sources
        if (s.source_type or "").upper() == "IMAGE"
        and marker in (s.source_name or "")
        and "aarch64" not in s.source_name
        and ("-GPU-" in s.source_name) == gpu
    ]
    if not candidates:
        kind = "GPU" if gpu else "non-GPU"
        raise ValueError(f"no {kind} OKE image named *{marker}* in the node pool options; set the image id explicitly")
    return max(candidates, key=lambda s: _natural(s.source_name)).image_id


def pod_subnet_ids(network: OkeNetwork) -> list[pulumi.Input[str]]:
    """The pod subnet of a VCN-native network (none with flannel)."""
    return [network.pod_subnet_id] if network.pod_subnet_id is not None else []


def pod_nsg_ids(network: OkeNetwork) -> list[pulumi.Input[str]]:
    return [network.pod_nsg_id] if network.pod_nsg_id is not None else []


def placement_configs(
    ad_names: list[str], wanted: list[int] | None, subnet_id: pulumi.Input[str], fault_domains: list[str]
) -> list[oci.containerengine.NodePoolNodeConfigDetailsPlacementConfigArgs]:
    """One placement per availability domain (those numbered in `wanted`, else all), in the worker subnet."""
    names = sorted(ad_names)
    if wanted is not None:
        names = [ad_by_number(names, n) for n in wanted]
    return [
        oci.containerengine.NodePoolNodeConfigDetailsPlacementConfigArgs(
            availability_domain=ad, subnet_id=subnet_id, fault_domains=fault_domains or None
        )
        for ad in names
    ]


def pod_network_details(
    network: OkeNetwork, max_pods_per_node: int | None
) -> oci.containerengine.NodePoolNodeConfigDetailsNodePoolPodNetworkOptionDetailsArgs:
    """The network's CNI; with VCN-native pods, their subnet, NSG and per-node limit."""
    native = network.cni_type == "OCI_VCN_IP_NATIVE"
    return oci.containerengine.NodePoolNodeConfigDetailsNodePoolPodNetworkOptionDetailsArgs(
        cni_type=network.cni_type,
        pod_subnet_ids=pod_subnet_ids(network) if native else None,
        pod_nsg_ids=pod_nsg_ids(network) if native else None,
        max_pods_per_node=max_pods_per_node if native else None,
    )


class OkeNodePool(pulumi.ComponentResource):
    pool_id: pulumi.Output[str]
    pool_name: pulumi.Output[str]
    image_id: pulumi.Output[str]
    labels: dict[str, str]
    taint_keys: list[str]
    shape: str

    def __init__(self, name: str, args: OkeNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:NodePool", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        cluster, network = args.cluster, args.network
        compartment_id = cluster.compartment_id
        kubernetes_version = cluster.kubernetes_version

        if args.image_id is not None:
            image_id = pulumi.Output.from_input(args.image_id)
        else:
            options = oci.containerengine.get_node_pool_option_output(
                node_pool_option_id="all", compartment_id=compartment_id, opts=invoke
            )
            image_id = options.sources.apply(lambda s: pick_image(list(s or []), kubernetes_version, args.gpu))

        domains = oci.identity.get_availability_domains_output(compartment_id=compartment_id, opts=invoke)
        placements = domains.availability_domains.apply(
            lambda ads: placement_configs(
                [a.name for a in ads], args.availability_domains, network.worker_subnet_id, args.fault_domains
            )
        )

        script = args.cloud_init if args.cloud_init is not None else cloud_init(args.taints, args.kubelet_extra_args)
        user_data = pulumi.Output.from_input(script).apply(lambda s: base64.b64encode(s.encode()).decode())
        shape_config = (
            oci.containerengine.NodePoolNodeShapeConfigArgs(ocpus=args.ocpus, memory_in_gbs=args.memory_gbs)
            if args.ocpus is not None or args.memory_gbs is not None
            else None
        )
        pool = oci.containerengine.NodePool(
            f"{name}-pool",
            name=name,
            cluster_id=cluster.cluster_id,
            compartment_id=compartment_id,
            kubernetes_version=kubernetes_version,
            node_shape=args.shape,
            node_shape_config=shape_config,
            node_source_details=oci.containerengine.NodePoolNodeSourceDetailsArgs(
                source_type="IMAGE",
                image_id=image_id,
                boot_volume_size_in_gbs=str(args.boot_volume_gb),
            ),
            node_config_details=oci.containerengine.NodePoolNodeConfigDetailsArgs(
                size=args.size,
                placement_configs=placements,
                nsg_ids=[network.worker_nsg_id, *args.extra_nsg_ids],
                # "Bare Metal instances do not support paravirtualized volumes" (terraform-oci-oke
                # examples, worker_pv_transit_encryption; its module never enables it on BM shapes).
                is_pv_encryption_in_transit_enabled=args.pv_encryption_in_transit and not args.shape.startswith("BM."),
                node_pool_pod_network_option_details=pod_network_details(network, args.max_pods_per_node),
                compute_cluster_id=args.compute_cluster_id,
                freeform_tags=args.freeform_tags,
            ),
            initial_node_labels=[
                oci.containerengine.NodePoolInitialNodeLabelArgs(key=k, value=v) for k, v in sorted(args.labels.items())
            ],
            node_metadata={"user_data": user_data},
            ssh_public_key=args.ssh_public_key,
            freeform_tags=args.freeform_tags,
            # An autoscaled pool's size is the Cluster Autoscaler's: a later `pulumi up` must not reset it.
            # ignore_changes suffices here (unlike DOKS, components/doks/gpu_node_pool.py pool_size_args): the
            # OCI provider sends a size on update only when it changed (oracle/terraform-provider-oci v7.0.0 to
            # v8.28.0 internal/service/containerengine/containerengine_node_pool_resource.go
            # mapToUpdateNodePoolNodeConfigDetails: `ok && s.D.HasChange(...size)`), and the ignored input never
            # does; terraform-oci-oke ignores node_config_details[0].size of its autoscaled pools the same way
            # (modules/workers/nodepools.tf @25ef9a0).
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["nodeConfigDetails.size"] if args.autoscaled else None
            ),
        )
        self.pool_id = pool.id
        self.pool_name = pool.name
        self.image_id = image_id
        self.labels = dict(args.labels)
        self.taint_keys = [t.key for t in args.taints]
        self.shape = args.shape
        self.register_outputs({"poolId": self.pool_id, "poolName": self.pool_name, "imageId": self.image_id})
