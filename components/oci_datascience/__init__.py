"""OCI Data Science: vLLM as a managed model deployment (no Kubernetes), its model by reference, IAM."""

from components.oci_datascience.artifact import StoredObject, model_description
from components.oci_datascience.deployment import VllmModelDeployment, VllmModelDeploymentArgs
from components.oci_datascience.iam import ModelDeploymentIam, ModelDeploymentIamArgs
from components.oci_datascience.model import ReferencedModel, ReferencedModelArgs
from components.oci_datascience.project import DataScienceProject

__all__ = [
    "DataScienceProject",
    "ModelDeploymentIam",
    "ModelDeploymentIamArgs",
    "ReferencedModel",
    "ReferencedModelArgs",
    "StoredObject",
    "VllmModelDeployment",
    "VllmModelDeploymentArgs",
    "model_description",
]
