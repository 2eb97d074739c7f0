"""Oracle Cloud OKE (`platform: oke`): its `oke` section (which platform oke-rdma reads too) and its variant
of the stack config."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from stacks import catalog
from stacks.capacity import GpuPlan
from stacks.config.autoscaling import NodeAutoscaleConfig, pool_max_nodes, pool_nodes_key
from stacks.config.base import (
    Cidr,
    CompartmentOcid,
    DnsLabel,
    ImageOcid,
    KubernetesVersion,
    ObjectStorageNamespace,
    Section,
    check_ocid_region,
    no_overlap,
    refuse_world,
)
from stacks.config.common import StackBase
from stacks.config.cpu_sizes import check_oci_cpu_shape
from stacks.config.model_store import NfsModelStoreConfig, created_share
from stacks.config.models import ModelEntry
from stacks.config.pools import named_pools, pool_named
from stacks.config.secrets import Secrets
from stacks.placement import Pool

FaultDomain = Annotated[str, Field(pattern=r"^FAULT-DOMAIN-[1-3]$")]
AdNumber = Annotated[int, Field(ge=1, le=3)]
SshPublicKey = Annotated[
    str, Field(pattern=r"^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( \S.*)?$")
]


class OkeNetworkConfig(Section):
    cni: Literal["flannel", "vcnNative"] = Field(
        "flannel",
        description="Pod networking: flannel overlay (pods get podsCidr addresses) or vcnNative (pods get "
        "podSubnet addresses, OCI_VCN_IP_NATIVE). Default: flannel.",
    )
    vcn_cidr: Cidr = Field("10.0.0.0/16", description="VCN range. Default: 10.0.0.0/16.")
    api_subnet: Cidr = Field("10.0.0.0/28", description="Kubernetes API endpoint subnet. Default: 10.0.0.0/28.")
    load_balancer_subnet: Cidr = Field("10.0.2.0/24", description="Service load balancers. Default: 10.0.2.0/24.")
    file_storage_subnet: Cidr = Field("10.0.3.0/24", description="File Storage mount target. Default: 10.0.3.0/24.")
    worker_subnet: Cidr = Field("10.0.16.0/20", description="Worker nodes (private). Default: 10.0.16.0/20.")
    pod_subnet: Cidr = Field("10.0.64.0/18", description="Pods with cni vcnNative (private). Default: 10.0.64.0/18.")
    pods_cidr: Cidr = Field("10.244.0.0/16", description="Pod overlay with cni flannel. Default: 10.244.0.0/16.")
    services_cidr: Cidr = Field("10.96.0.0/16", description="Kubernetes Services. Default: 10.96.0.0/16.")
    ssh_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to SSH to the (private) workers; 0.0.0.0/0 is refused. Default: none.",
    )

    @model_validator(mode="after")
    def _ranges(self) -> OkeNetworkConfig:
        subnets = {
            "apiSubnet": self.api_subnet,
            "loadBalancerSubnet": self.load_balancer_subnet,
            "fileStorageSubnet": self.file_storage_subnet,
            "workerSubnet": self.worker_subnet,
        }
        if self.cni == "vcnNative":
            subnets["podSubnet"] = self.pod_subnet
        vcn = ipaddress.IPv4Network(self.vcn_cidr)
        for key, block in subnets.items():
            if not ipaddress.IPv4Network(block).subnet_of(vcn):
                raise ValueError(f"{key}: {block} is not inside vcnCidr {self.vcn_cidr}")
        no_overlap(subnets)
        outside = {"vcnCidr": self.vcn_cidr, "servicesCidr": self.services_cidr}
        if self.cni == "flannel":
            outside["podsCidr"] = self.pods_cidr
        no_overlap(outside)
        refuse_world("sshAllowedCidrs", self.ssh_allowed_cidrs, "SSH to the workers", "ssh-not-open-to-world",
                     "list your bastion or VPN range")  # fmt: skip
        return self


class OkeApiEndpoint(Section):
    public: bool = Field(
        True,
        description="Public API endpoint (reachable from allowedCidrs) or private (reach it through a bastion or "
        "VPN from inside the VCN; Pulumi must run there). Default: true.",
    )
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Client CIDRs allowed to reach the API on 6443 (where kubectl and Pulumi run). Required for a "
        "public endpoint; 0.0.0.0/0 is refused (the policy pack forbids an API open to the internet).",
    )

    @model_validator(mode="after")
    def _public_needs_allow_list(self) -> OkeApiEndpoint:
        if self.public and not self.allowed_cidrs:
            raise ValueError("allowedCidrs: a public API endpoint needs at least one client CIDR")
        refuse_world("allowedCidrs", self.allowed_cidrs, "the Kubernetes API", "kubernetes-api-not-open-to-world",
                     "list where kubectl and Pulumi run, or set public: false")  # fmt: skip
        return self


class OkeSystemPool(Section):
    shape: str = Field(
        "VM.Standard.E5.Flex",
        description="CPU shape for system pods (CoreDNS, the model download). Default: VM.Standard.E5.Flex "
        "(what production-stack's OCI script uses).",
    )
    ocpus: float | None = Field(
        None, gt=0, le=128, description="OCPUs (Flex shapes only). Default: 2 for a Flex shape."
    )
    memory_gbs: float | None = Field(
        None, gt=0, le=2048, description="Memory in GB (Flex shapes only). Default: 16 for a Flex shape."
    )
    node_count: int = Field(2, ge=1, le=20, description="Nodes. Default: 2.")
    boot_volume_gb: int = Field(100, ge=50, le=32768, description="Boot volume size in GB. Default: 100.")
    image_id: ImageOcid | None = Field(
        None,
        description="OKE node image OCID (checked to exist, and an OKE image must be built for kubernetesVersion). "
        "Default: the newest OKE image for kubernetesVersion.",
    )

    @property
    def flex(self) -> bool:
        return self.shape.endswith(".Flex")

    @property
    def shape_ocpus(self) -> float | None:
        return (self.ocpus or 2) if self.flex else None

    @property
    def shape_memory_gbs(self) -> float | None:
        return (self.memory_gbs or 16) if self.flex else None

    @model_validator(mode="after")
    def _flex_only(self) -> OkeSystemPool:
        check_oci_cpu_shape(self.shape, self.shape_ocpus)
        if not self.flex and (self.ocpus is not None or self.memory_gbs is not None):
            raise ValueError(f"ocpus: {self.shape} is not a Flex shape; remove ocpus and memoryGbs")
        return self


class OkeGpuPool(Section):
    shape: str = Field("VM.GPU.A10.1", description="GPU shape (see stacks/catalog/oci.yaml). Default: VM.GPU.A10.1.")
    node_count: int = Field(
        1, ge=0, le=64, description="GPU nodes (the first size when `autoscale` is set). Default: 1."
    )
    autoscale: NodeAutoscaleConfig | None = Field(
        None, description="OKE Cluster Autoscaler add-on bounds for this managed node pool. Default: off."
    )
    image_id: ImageOcid | None = Field(
        None,
        description="OKE GPU image OCID (checked to exist, and an OKE image must be built for kubernetesVersion). "
        "Default: the newest OKE GPU image for kubernetesVersion.",
    )
    boot_volume_gb: int = Field(
        250,
        ge=100,
        le=32768,
        description="Boot volume in GB, grown to full size at first boot (the vLLM image alone is ~10 GB). Default: 250.",
    )
    availability_domains: list[AdNumber] | None = Field(
        None,
        min_length=1,
        description="AD numbers to place GPU nodes in, e.g. [2, 3] (GPU shapes are not in every AD). Default: all.",
    )
    fault_domains: list[FaultDomain] = Field(
        default_factory=list, description="Fault domains, e.g. [FAULT-DOMAIN-1]. Default: OCI spreads nodes."
    )
    ssh_public_key: SshPublicKey | None = Field(None, description="SSH public key for the opc user. Default: none.")

    @model_validator(mode="after")
    def _known_shape(self) -> OkeGpuPool:
        if same := catalog.case_match(self.shape, catalog.OCI_GPU_SHAPES):
            raise ValueError(
                f"shape: {self.shape!r} is not a shape name (they are case-sensitive); did you mean {same!r}?"
            )
        if self.shape not in catalog.OCI_GPU_SHAPES:
            raise ValueError(f"shape: must be one of {', '.join(sorted(catalog.OCI_GPU_SHAPES))} (got {self.shape!r})")
        if self.availability_domains is not None and len(set(self.availability_domains)) != len(
            self.availability_domains
        ):
            raise ValueError("availabilityDomains: each AD at most once")
        return self


class OkeNamedGpuPool(OkeGpuPool):
    name: DnsLabel = Field(description="The pool's name: models name it in `pool`; its nodes carry it as a label.")


class OkeLoadBalancer(Section):
    type: Literal["lb", "nlb"] = Field(
        "lb", description="OCI flexible load balancer (lb) or network load balancer (nlb). Default: lb."
    )
    min_mbps: int = Field(10, ge=10, le=8000, description="Flexible LB minimum bandwidth (lb only). Default: 10.")
    max_mbps: int = Field(100, ge=10, le=8000, description="Flexible LB maximum bandwidth (lb only). Default: 100.")
    idle_timeout_seconds: int = Field(
        600,
        ge=1,
        le=7200,
        description="Connection idle timeout (lb only): long generations stream for minutes. Default: 600.",
    )

    @model_validator(mode="after")
    def _bounds(self) -> OkeLoadBalancer:
        if self.max_mbps < self.min_mbps:
            raise ValueError(f"maxMbps: {self.max_mbps} must be >= minMbps ({self.min_mbps})")
        return self


class OkeOcir(Section):
    tenancy_namespace: ObjectStorageNamespace = Field(
        description="Object Storage namespace of the tenancy (`oci os ns get`)."
    )
    username: str = Field(
        pattern=r"^[^\s/][^\s]*$",
        description="OCI user name, e.g. jane@example.com (federated: oracleidentitycloudservice/jane@example.com); "
        "the login is <tenancyNamespace>/<username> with the auth token secrets.ocirAuthToken.",
    )
    region: str | None = Field(None, description="Region of the registry. Default: oke.region.")


class OkeConfig(Section):
    compartment_id: CompartmentOcid = Field(
        description="OCID of the compartment everything goes in (required; the committed files carry a placeholder)."
    )
    region: str = Field("us-ashburn-1", description="OCI region identifier. Default: us-ashburn-1.")
    kubernetes_version: KubernetesVersion | None = Field(
        None,
        description="OKE Kubernetes version, `v1.33.1`: required, and one OKE offers in the region (checked before "
        "anything is created; the error lists them; `oci ce cluster-options get --cluster-option-id all`). A change "
        "upgrades the cluster and its node pools in place, so it is never a moving default.",
    )
    network: OkeNetworkConfig = Field(default_factory=OkeNetworkConfig)  # type: ignore[arg-type]
    api_endpoint: OkeApiEndpoint = Field(default_factory=OkeApiEndpoint)  # type: ignore[arg-type]
    system_pool: OkeSystemPool = Field(default_factory=OkeSystemPool)  # type: ignore[arg-type]
    gpu_pool: OkeGpuPool = Field(
        default_factory=OkeGpuPool,  # type: ignore[arg-type]
        description="The GPU node pool, when the stack has one (the pool named `gpu`).",
    )
    gpu_pools: list[OkeNamedGpuPool] = Field(
        default_factory=list,
        max_length=8,
        description="Several GPU node pools (e.g. a VM.GPU.A10.2 and a VM.GPU.A10.1 pool), each with a name that "
        "models pick in `pool` (instead of gpuPool; name one `gpu` to keep a one-pool stack's pool). Default: "
        "gpuPool alone.",
    )
    gpu_plugin_version: str | None = Field(
        None,
        pattern=r"^v?\d+(\.\d+)*(-[\w.]+)?$",
        description="Pin the NvidiaGpuPlugin add-on version (Oracle recommends pinning). Default: Oracle-managed.",
    )
    file_storage_availability_domain: AdNumber = Field(
        1, description="AD number of the File Storage file system and mount target. Default: 1."
    )
    load_balancer: OkeLoadBalancer = Field(default_factory=OkeLoadBalancer)  # type: ignore[arg-type]
    ocir: OkeOcir | None = Field(
        None, description="OCIR login for pulling images from <region-key>.ocir.io. Default: none."
    )

    @model_validator(mode="after")
    def _known_region(self) -> OkeConfig:
        for key, region in [("region", self.region), ("ocir.region", self.ocir.region if self.ocir else None)]:
            if region is not None and region not in catalog.OCI_REGION_KEYS:
                raise ValueError(f"{key}: unknown OCI region {region!r} (e.g. us-ashburn-1, eu-frankfurt-1)")
        region_key = catalog.OCI_REGION_KEYS[self.region]
        check_ocid_region("systemPool.imageId", self.system_pool.image_id, self.region, region_key)
        try:
            pools = self.named_gpu_pools
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("oke.")) from None
        for _, key, pool in pools:
            check_ocid_region(f"{key.removeprefix('oke.')}.imageId", pool.image_id, self.region, region_key)
        return self

    @property
    def named_gpu_pools(self) -> list[tuple[str, str, OkeGpuPool]]:
        return named_pools(self.gpu_pool, "oke.gpuPool", [(p.name, p) for p in self.gpu_pools], "oke.gpuPools",
                           "gpu_pool" in self.model_fields_set)  # fmt: skip

    @property
    def ocir_host(self) -> str:
        return catalog.ocir_host(self.ocir.region or self.region if self.ocir else self.region)

    def placement_pools(self) -> list[Pool]:
        return [
            Pool(
                name,
                key,
                pool.shape,
                catalog.OCI_GPU_SHAPES[pool.shape].gpus_per_node,
                pool_max_nodes(pool),
                nodes_key=pool_nodes_key(pool, key),
            )
            for name, key, pool in self.named_gpu_pools
        ]


def check_ocir(oke: OkeConfig, models: list[ModelEntry], secrets: Secrets) -> None:
    """An image from OCIR needs the login (`oke.ocir`) for its region and the auth token (both OKE platforms)."""
    for i, m in enumerate(models):
        image_host = m.image.split("/", 1)[0]
        if not image_host.endswith(".ocir.io"):
            continue
        if oke.ocir is None:
            raise ValueError(f"oke.ocir: models[{i}].image comes from {image_host}; set oke.ocir for the pull secret")
        if image_host != oke.ocir_host:
            raise ValueError(
                f"oke.ocir.region: models[{i}].image comes from {image_host} but the login is for {oke.ocir_host}"
            )
    if oke.ocir is not None and secrets.ocir_auth_token is None:
        raise ValueError("secrets.ocirAuthToken: oke.ocir needs the auth token (pulumi config set --secret)")


class OkeStack(StackBase):
    """An OKE cluster in its own VCN, GPU node pools, and File Storage over NFS for the weights."""

    SECTION: ClassVar[str] = "oke"

    platform: Literal["oke"] = Field(description="Oracle Cloud OKE.")
    oke: OkeConfig = Field(description="Oracle Cloud OKE settings (platform oke).")
    model_store: NfsModelStoreConfig = Field(
        default_factory=NfsModelStoreConfig,  # type: ignore[arg-type]
        description="Where the weights live: an OCI File Storage share the stack creates (kind nfs).",
    )

    @field_validator("model_store")
    @classmethod
    def _share_is_created(cls, store: NfsModelStoreConfig) -> NfsModelStoreConfig:
        return created_share(store, "oke")

    def weights_store(self) -> NfsModelStoreConfig:
        return self.model_store

    def check_sections(self) -> None:
        if self.endpoint.kind == "gateway":
            raise ValueError(
                "endpoint.kind: the oke stack exposes vLLM through an OCI load balancer; use loadBalancer "
                "(or clusterIP), not gateway"
            )
        check_ocir(self.oke, self.models, self.secrets)

    def named_gpu_pools(self) -> list[tuple[str, str, Any]]:
        return list(self.oke.named_gpu_pools)

    def placement_pools(self) -> list[Pool]:
        return self.oke.placement_pools()

    def gpu_plan(self, model: ModelEntry) -> GpuPlan:
        pool = pool_named(self.placement_pools(), model.pool)
        return GpuPlan.from_shape(
            catalog.OCI_GPU_SHAPES[pool.shape], pool.nodes, model.tensor_parallel_size,
            shape_key=f"{pool.key}.shape", nodes_key=pool.nodes_key,
            other_shapes=tuple(catalog.OCI_GPU_SHAPES.values()),
        )  # fmt: skip
