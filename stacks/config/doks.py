"""The DigitalOcean platform (`platform: doks`): its `doks` section and its variant of the stack config."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from stacks import capacity, catalog, placement
from stacks.config.autoscaling import NodeAutoscaleConfig, pool_max_nodes, pool_nodes_key
from stacks.config.base import Cidr, DnsLabel, KubernetesMinorVersion, Section, no_overlap, refuse_world
from stacks.config.common import StackBase
from stacks.config.cpu_sizes import check_droplet_size
from stacks.config.model_store import NfsModelStoreConfig, created_share
from stacks.config.models import ModelEntry
from stacks.config.pools import named_pools, pool_named


class DoksManagementPool(Section):
    size: str = Field(
        "s-2vcpu-4gb",
        description="Droplet size for the system pool (the reference architecture uses 2 vCPU / 4 GB). "
        "Default: s-2vcpu-4gb.",
    )
    min_nodes: int = Field(2, ge=1, le=20, description="Autoscaler minimum. Default: 2.")
    max_nodes: int = Field(3, ge=1, le=20, description="Autoscaler maximum. Default: 3.")

    @model_validator(mode="after")
    def _bounds(self) -> DoksManagementPool:
        check_droplet_size(self.size)
        if self.max_nodes < self.min_nodes:
            raise ValueError(f"maxNodes ({self.max_nodes}) must be >= minNodes ({self.min_nodes})")
        return self


class DoksGpuPool(Section):
    size: str = Field("gpu-h100x1-80gb", description="GPU Droplet size. Default: gpu-h100x1-80gb.")
    node_count: int = Field(
        1,
        ge=0,
        le=64,
        description="GPU nodes. With `autoscale` the pool starts at autoscale.minNodes (leave nodeCount out or "
        "equal to it). Default: 1.",
    )
    autoscale: NodeAutoscaleConfig | None = Field(
        None,
        description="DOKS node-pool autoscaling (`auto_scale`, min 0 allowed) between minNodes and maxNodes. Default: off.",
    )

    @model_validator(mode="after")
    def _known_size(self) -> DoksGpuPool:
        if same := catalog.case_match(self.size, catalog.DO_GPU_SIZES):
            raise ValueError(f"size: {self.size!r} is not a size slug (they are lower case); did you mean {same!r}?")
        if self.size not in catalog.DO_GPU_SIZES:
            raise ValueError(f"size: must be one of {', '.join(sorted(catalog.DO_GPU_SIZES))} (got {self.size!r})")
        return self

    @model_validator(mode="after")
    def _autoscaled_size(self) -> DoksGpuPool:
        """An autoscaled pool is created without a node count, at minNodes (components/doks/gpu_node_pool.py
        pool_size_args: a node count would be sent again on every update and reset the pool's size)."""
        if (
            self.autoscale is not None
            and "node_count" in self.model_fields_set
            and self.node_count != self.autoscale.min_nodes
        ):
            raise ValueError(
                f"nodeCount: {self.node_count}: an autoscaled DOKS pool starts at autoscale.minNodes "
                f"({self.autoscale.min_nodes}) and the stack sends it no node count (one would reset the pool's "
                "size on every update); remove nodeCount or set autoscale.minNodes"
            )
        return self


class DoksNamedGpuPool(DoksGpuPool):
    name: DnsLabel = Field(description="The pool's name: models name it in `pool`; its nodes carry it as a label.")


class DoksConfig(Section):
    region: str = Field(
        "nyc2", description="DigitalOcean region; must offer the GPU size and Managed NFS. Default: nyc2."
    )
    kubernetes_version: KubernetesMinorVersion | None = Field(
        None,
        description="DOKS minor version (`1.34`): the newest patch of it that DOKS offers is used, and a minor "
        "DOKS no longer offers is an error. Default: the newest version DOKS offers when the cluster is created "
        "(later runs keep the cluster's version; set this key to upgrade).",
    )
    vpc_cidr: Cidr = Field("10.200.0.0/22", description="VPC range. Default: 10.200.0.0/22.")
    cluster_subnet: Cidr = Field("172.16.0.0/20", description="Pod network. Default: 172.16.0.0/20.")
    service_subnet: Cidr = Field("192.168.0.0/22", description="Service network. Default: 192.168.0.0/22.")
    ha_control_plane: bool = Field(False, description="Highly available control plane. Default: false.")
    surge_upgrade: bool = Field(
        False,
        description="Surge upgrades: DOKS adds nodes to a pool before upgrading it. Off by default, as in "
        "DigitalOcean's vLLM reference architecture: a GPU quota usually has no spare node to surge into. "
        "Default: false.",
    )
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the Kubernetes API (DOKS control-plane firewall); 0.0.0.0/0 is refused. "
        "Required unless apiOpenToInternet is true.",
    )
    api_open_to_internet: bool = Field(
        False,
        description="Explicit opt-in to DOKS's default: no control-plane firewall, the Kubernetes API reachable from "
        "any address (token-authenticated); only read while apiAllowedCidrs is empty. Default: false (list "
        "apiAllowedCidrs).",
    )
    management_pool: DoksManagementPool = Field(default_factory=DoksManagementPool)  # type: ignore[arg-type]
    gpu_pool: DoksGpuPool = Field(
        default_factory=DoksGpuPool,  # type: ignore[arg-type]
        description="The GPU pool, when the stack has one (the pool named `gpu`).",
    )
    gpu_pools: list[DoksNamedGpuPool] = Field(
        default_factory=list,
        max_length=8,
        description="Several GPU pools, each with a name that models pick in `pool` (instead of gpuPool; name one "
        "`gpu` to keep a one-pool stack's pool). Default: gpuPool alone.",
    )

    @property
    def named_gpu_pools(self) -> list[tuple[str, str, DoksGpuPool]]:
        return named_pools(self.gpu_pool, "doks.gpuPool", [(p.name, p) for p in self.gpu_pools], "doks.gpuPools",
                           "gpu_pool" in self.model_fields_set)  # fmt: skip

    @model_validator(mode="after")
    def _region_and_networks(self) -> DoksConfig:
        try:
            pools = self.named_gpu_pools
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("doks.")) from None
        for _, _, pool in pools:
            regions = catalog.DO_REGIONS_WITH_GPU_AND_NFS.get(pool.size, ())
            if self.region not in regions:
                raise ValueError(
                    f"region: {self.region!r} does not offer both {pool.size} and Managed NFS; "
                    f"use one of {', '.join(regions)}"
                )
        refuse_world("apiAllowedCidrs", self.api_allowed_cidrs, "the Kubernetes API",
                     "kubernetes-api-not-open-to-world", "list where kubectl and Pulumi run")  # fmt: skip
        if not self.api_allowed_cidrs and not self.api_open_to_internet:
            raise ValueError(
                "apiAllowedCidrs: list the CIDRs allowed to reach the Kubernetes API, or set doks.apiOpenToInternet: "
                "true to keep DOKS's default (no control-plane firewall)"
            )
        no_overlap(
            {
                "vpcCidr": self.vpc_cidr,
                "clusterSubnet": self.cluster_subnet,
                "serviceSubnet": self.service_subnet,
            }
        )
        return self

    def placement_pools(self) -> list[placement.Pool]:
        return [
            placement.Pool(
                name,
                key,
                pool.size,
                catalog.DO_GPU_SIZES[pool.size].gpus_per_node,
                pool_max_nodes(pool),
                nodes_key=pool_nodes_key(pool, key),
            )
            for name, key, pool in self.named_gpu_pools
        ]


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class DoksStack(StackBase):
    """A DOKS cluster with its GPU pools and a Managed NFS share for the weights."""

    SECTION: ClassVar[str] = "doks"

    platform: Literal["doks"] = Field(description="DigitalOcean Kubernetes (DOKS).")
    doks: DoksConfig = Field(description="DigitalOcean settings (platform doks).")
    model_store: NfsModelStoreConfig = Field(
        default_factory=NfsModelStoreConfig,  # type: ignore[arg-type]
        description="Where the weights live: a DigitalOcean Managed NFS share the stack creates (kind nfs).",
    )

    @field_validator("model_store")
    @classmethod
    def _share_is_created(cls, store: NfsModelStoreConfig) -> NfsModelStoreConfig:
        return created_share(store, "doks")

    def weights_store(self) -> NfsModelStoreConfig:
        return self.model_store

    def check_sections(self) -> None:
        minimum = catalog.DOKS_GATEWAY_API_MIN_VERSION
        # An unset version is the newest offered; stacks/builders/doks.py checks it once it is looked up.
        version = self.doks.kubernetes_version
        if self.endpoint.kind == "gateway" and version is not None and _minor(version) < _minor(minimum):
            raise ValueError(
                f"doks.kubernetesVersion: DOKS enables the Cilium Gateway API from {minimum}; use >= {minimum} "
                "or endpoint.kind loadBalancer"
            )

    def named_gpu_pools(self) -> list[tuple[str, str, Any]]:
        return list(self.doks.named_gpu_pools)

    def placement_pools(self) -> list[placement.Pool]:
        return self.doks.placement_pools()

    def gpu_plan(self, model: ModelEntry) -> capacity.GpuPlan:
        pool = pool_named(self.placement_pools(), model.pool)
        return capacity.GpuPlan.from_shape(
            catalog.DO_GPU_SIZES[pool.shape], pool.nodes, model.tensor_parallel_size,
            shape_key=f"{pool.key}.size", nodes_key=pool.nodes_key,
            other_shapes=tuple(catalog.DO_GPU_SIZES.values()),
        )  # fmt: skip
