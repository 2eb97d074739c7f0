"""A Data Science project: the workspace a model and its deployment belong to."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci


class DataScienceProject(pulumi.ComponentResource):
    project_id: pulumi.Output[str]

    def __init__(self, name: str, compartment_id: pulumi.Input[str], freeform_tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None):  # fmt: skip
        super().__init__("llm-serving:oci-datascience:Project", name, None, opts)
        project = oci.datascience.Project(
            f"{name}-project",
            compartment_id=compartment_id,
            display_name=name,
            description="vLLM model deployment (llm-serving)",
            freeform_tags=freeform_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.project_id = project.id
        self.register_outputs({"projectId": self.project_id})
