"""KServe's objects for serving vLLM as OpenShift AI does: a ServingRuntime, one InferenceService per
model, and the S3 connection the storage initializer reads."""

from components.kserve.inference_service import (
    InferenceServiceArgs,
    VllmInferenceService,
    inference_service_body,
    model_args,
)
from components.kserve.runtime import VllmRuntimeArgs, VllmServingRuntime, runtime_body
from components.kserve.s3_connection import S3Connection, S3ConnectionArgs
from components.kserve.token_client import TokenClient, TokenClientArgs

__all__ = [
    "InferenceServiceArgs",
    "S3Connection",
    "S3ConnectionArgs",
    "TokenClient",
    "TokenClientArgs",
    "VllmInferenceService",
    "VllmRuntimeArgs",
    "VllmServingRuntime",
    "inference_service_body",
    "model_args",
    "runtime_body",
]
