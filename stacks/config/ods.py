"""Platform `oci-data-science`: vLLM as an OCI Data Science model deployment, no Kubernetes. Its
`dataScience` section and its variant of the stack config. The engine settings stay in the shared
`models` list (one entry) (`models[0].replicas` is the deployment's instance count, `models[0].image` its
OCIR image)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from stacks import catalog
from stacks.capacity import GpuPlan
from stacks.config.base import CompartmentOcid, DnsLabel, ObjectStorageNamespace, Section, TenancyOcid
from stacks.config.common import StackBase
from stacks.config.models import ModelEntry
from stacks.config.pools import DEFAULT_POOL
from stacks.placement import Pool

# An OCIR image: <region key>.ocir.io/<tenancy namespace>/<repository>:<tag>[@sha256:<digest>]; the model
# deployment API takes exactly these two forms (pulumi_oci 5.5.0 datascience ModelDeployment
# environment_configuration_details.image: "Acceptable format: <region>.ocir.io/<registry>/<image>:<tag>
# <region>.ocir.io/<registry>/<image>:<tag>@digest").
OCIR_IMAGE = re.compile(
    r"(?P<host>[a-z0-9-]+\.ocir\.io)/(?P<namespace>[a-z0-9-]+)/[^:@]+:[\w][\w.-]*(@sha256:[0-9a-f]{64})?"
)
# Bucket names: letters, digits, dashes, underscores and periods, up to 256 characters (Oracle,
# "Object Storage Buckets"); the RDMA stack's S3 rules are stricter, and a bucket it filled passes these.
BUCKET = r"^[A-Za-z0-9._-]{1,256}$"


class DataScienceWeights(Section):
    bucket: str = Field(
        pattern=BUCKET,
        description="Object Storage bucket that holds the weights, versioning Enabled (a model by reference lists "
        "each object's version). The stack does not create or fill it: upload first (docs/oci-data-science.md), "
        "or point at the bucket the oci-h100-rdma stack filled. Required.",
    )
    namespace: ObjectStorageNamespace | None = Field(
        None,
        description="The tenancy's Object Storage namespace (`oci os ns get`). Default: looked up.",
    )
    prefix: str | None = Field(
        None,
        pattern=r"^[^/\s][^\s]*[^/\s]$",
        description="Object name prefix of the model's files, without the trailing slash. Default: "
        "<org>--<name>/<revision> of models[0].id and .revision, the layout the oci-h100-rdma stack's upload Job "
        "writes.",
    )
    compartment_id: CompartmentOcid | None = Field(
        None, description="Compartment of the bucket (IAM reads objects there). Default: dataScience.compartmentId."
    )


class DataScienceIam(Section):
    create: bool = Field(
        True,
        description="Create the dynamic group of this compartment's model deployments and the policy that lets them "
        "pull the image from OCIR, read the weights and write logs. false: an administrator creates them; the "
        "statements are the stack output `dataSciencePolicyStatements`. Default: true.",
    )
    tenancy_id: TenancyOcid | None = Field(
        None,
        description="Tenancy OCID: dynamic groups and the policy live in the root compartment. Required to create IAM.",
    )
    home_region: str | None = Field(
        None, description="The tenancy's home region, where IAM is changed. Default: dataScience.region."
    )
    dynamic_group_name: DnsLabel | None = Field(
        None, description="Dynamic group of the model deployments. Default: <name>-model-deployments."
    )
    repository_compartment_id: CompartmentOcid | None = Field(
        None, description="Compartment of the OCIR repository of vllm.image. Default: dataScience.compartmentId."
    )


class DataScienceConfig(Section):
    compartment_id: CompartmentOcid = Field(
        description="Compartment of the project, model, deployment and logs. Required."
    )
    region: str = Field("us-ashburn-1", description="OCI region of the deployment. Default: us-ashburn-1.")
    shape: str = Field(
        "VM.GPU.A10.1",
        description=f"GPU shape of each instance; one of {', '.join(catalog.DATA_SCIENCE_GPU_SHAPES)} (the GPU shapes "
        "OCI Data Science model deployments offer). Default: VM.GPU.A10.1.",
    )
    bandwidth_mbps: int = Field(
        10, ge=10, le=8000, description="Load balancer bandwidth of the deployment in Mbps (minimum). Default: 10."
    )
    maximum_bandwidth_mbps: int | None = Field(
        None, ge=10, le=8000, description="Load balancer bandwidth ceiling in Mbps. Default: the service's."
    )
    log_retention_days: int = Field(
        30,
        ge=30,
        le=180,
        multiple_of=30,
        description="Retention of the access and predict logs: 30-day steps up to 180 (OCI Logging). Default: 30.",
    )
    weights: DataScienceWeights
    iam: DataScienceIam = Field(default_factory=DataScienceIam)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _known_shape_and_region(self) -> DataScienceConfig:
        offered = catalog.DATA_SCIENCE_GPU_SHAPES
        if self.shape not in offered:
            same = catalog.case_match(self.shape, offered)
            hint = f"did you mean {same!r}?" if same else f"use one of {', '.join(offered)}"
            raise ValueError(
                f"shape: {self.shape!r} is not a GPU shape OCI Data Science model deployments offer; {hint}"
            )
        for key, region in [("region", self.region), ("iam.homeRegion", self.iam.home_region)]:
            if region is not None and region not in catalog.OCI_REGION_KEYS:
                raise ValueError(f"{key}: unknown OCI region {region!r}")
        if self.maximum_bandwidth_mbps is not None and self.maximum_bandwidth_mbps < self.bandwidth_mbps:
            raise ValueError(
                f"maximumBandwidthMbps: {self.maximum_bandwidth_mbps} is below bandwidthMbps {self.bandwidth_mbps}"
            )
        if self.iam.create and self.iam.tenancy_id is None:
            raise ValueError("iam.tenancyId: creating the dynamic group and policy needs the tenancy OCID")
        return self


class DataScienceStack(StackBase):
    """vLLM as an OCI Data Science model deployment: no cluster, no model store of its own."""

    SECTION: ClassVar[str] = "dataScience"

    platform: Literal["oci-data-science"] = Field(description="An OCI Data Science model deployment.")
    data_science: DataScienceConfig = Field(
        description="An OCI Data Science model deployment (platform oci-data-science)."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_model_store(cls, data: Any) -> Any:
        if isinstance(data, dict) and "modelStore" in data:
            raise ValueError(
                "modelStore: platform oci-data-science does not read it; the weights come from dataScience.weights"
            )
        return data

    @property
    def weights_prefix(self) -> str:
        return self.data_science.weights.prefix or self.models[0].directory

    def placement_pools(self) -> list[Pool]:
        """The deployment's instances as one pool: `replicas` instances of the shape, one vLLM each."""
        ds = self.data_science
        return [
            Pool(
                DEFAULT_POOL,
                "dataScience",
                ds.shape,
                catalog.OCI_GPU_SHAPES[ds.shape].gpus_per_node,
                self.models[0].replicas,
                nodes_key="models[0].replicas",
            )
        ]

    def gpu_plan(self, model: ModelEntry) -> GpuPlan:
        return GpuPlan.from_shape(
            catalog.OCI_GPU_SHAPES[self.data_science.shape], model.replicas, model.tensor_parallel_size,
            shape_key="dataScience.shape", nodes_key="models[0].replicas",
            other_shapes=tuple(catalog.OCI_GPU_SHAPES[s] for s in catalog.DATA_SCIENCE_GPU_SHAPES),
        )  # fmt: skip

    def check_sections(self) -> None:
        """One model, and keys other sections hold that a model deployment has no use for are refused, not ignored."""
        ds = self.data_science
        if len(self.models) != 1:
            raise ValueError(
                f"models: a model deployment serves one model (got {len(self.models)}); use one stack per model"
            )
        m = self.models[0]
        unused = {
            "endpoint": "a model deployment has its own HTTPS endpoint (the output invokeUrl)",
            "observability": "there is no cluster to scrape; the deployment's metrics are in OCI Monitoring",
        }
        for field, key in (("endpoint", "endpoint"), ("observability", "observability")):
            if field in self.model_fields_set:
                raise ValueError(f"{key}: platform oci-data-science does not read it; {unused[key]}")
        for field, key in (("cpu", "cpu"), ("memory", "memory"), ("termination_grace_period_seconds",
                                                                     "terminationGracePeriodSeconds")):  # fmt: skip
            if field in m.model_fields_set:
                raise ValueError(f"models[0].{key}: a model deployment instance gets the whole {ds.shape}; remove it")
        if m.lora is not None:
            raise ValueError("models[0].lora: platform oci-data-science serves the base model only; remove lora")
        for field, info in type(self.secrets).model_fields.items():
            if getattr(self.secrets, field) not in (None, {}, []):
                raise ValueError(
                    f"secrets.{info.alias or field}: platform oci-data-science uses no secret: clients sign each "
                    "request with OCI IAM, the deployment pulls the image and reads the bucket as its resource "
                    "principal; remove it"
                )
        if OCIR_IMAGE.fullmatch(m.image) is None:
            raise ValueError(
                f"models[0].image: OCI Data Science runs images from OCIR only; copy {catalog.VLLM_IMAGE} to "
                f"{catalog.ocir_host(ds.region)}/<tenancy namespace>/vllm-openai:{catalog.VLLM_IMAGE.rsplit(':', 1)[1]} "
                "and set that (a :tag, optionally @sha256:<digest>)"
            )
