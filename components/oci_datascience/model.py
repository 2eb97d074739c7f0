"""A model in the Data Science model catalog whose artifact references weights in Object Storage
("model by reference", components/oci_datascience/artifact.py): the catalog keeps a small JSON file, the
deployment mounts the referenced objects.

pulumi_oci 5.5.0 `datascience.Model` uploads `model_artifact`, a file path read when the model is created
(terraform-provider-oci examples/datascience/model_catalog/model.tf: `model_artifact = "${path.root}/artifact.zip"`),
with `artifact_content_length` its size. A changed artifact is a new model (neither is updatable), and the
deployment moves to it in place (`model_id` is updatable).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci

from components.oci_datascience.artifact import ARTIFACT_LOCATION_METADATA_KEY, BY_REFERENCE_METADATA_KEY


@dataclass(frozen=True)
class ReferencedModelArgs:
    compartment_id: pulumi.Input[str]
    project_id: pulumi.Input[str]
    display_name: str
    artifact_path: str
    """Path of the model_description.json file, relative to the project directory (stable across machines)."""
    artifact_size: int
    artifact_location: str
    """oci://<bucket>@<namespace>/<prefix>: where the weights are, for people and AI Quick Actions."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class ReferencedModel(pulumi.ComponentResource):
    model_id: pulumi.Output[str]

    def __init__(self, name: str, args: ReferencedModelArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oci-datascience:ReferencedModel", name, None, opts)
        model = oci.datascience.Model(
            f"{name}-model",
            compartment_id=args.compartment_id,
            project_id=args.project_id,
            display_name=args.display_name,
            description=f"vLLM weights by reference: {args.artifact_location}",
            model_artifact=args.artifact_path,
            artifact_content_length=str(args.artifact_size),
            artifact_content_disposition='attachment; filename="model_description.json"',
            custom_metadata_lists=[
                oci.datascience.ModelCustomMetadataListArgs(
                    key=BY_REFERENCE_METADATA_KEY, value="true", description="model by reference flag", category="Other"
                ),
                oci.datascience.ModelCustomMetadataListArgs(
                    key=ARTIFACT_LOCATION_METADATA_KEY,
                    value=args.artifact_location,
                    description="artifact location",
                    category="Other",
                ),
            ],
            freeform_tags=args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.model_id = model.id
        self.register_outputs({"modelId": self.model_id})
