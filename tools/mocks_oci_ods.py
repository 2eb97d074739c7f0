"""Oracle Cloud answers for the oci-data-science stack: Data Science projects, models and model
deployments, OCI Logging, and the Object Storage lookups a model by reference needs (a versioned bucket
holding a model's files). Same conventions as tools/mocks_oci.py: OCIDs in Oracle's format, illustrative
values, never real tenancy data."""

from __future__ import annotations

import hashlib

from tools.mocks_base import InvokeFailure, ocid, stable_uuid
from tools.mocks_oci_rdma import NAMESPACE

REGION = "us-ashburn-1"
REGION_KEY = "iad"
_CREATED = "2026-11-24T00:00:00.000Z"
_CREATOR = "ocid1.user.oc1..aaaaaaaaofflinemockuser000000000000000000000000000000000000000"

# ListModelDeploymentShapes in the mock compartment: the GPU shapes of OCI Data Science's shape list
# (stacks/catalog/data_science.yaml) with cores and memory from AI Quick Actions' shape index
# (ads/aqua/resources/gpu_shapes_index.json: cpu_count, cpu_memory_in_gbs), and two CPU shapes.
# BM.GPU.H200.8 is left out: a compartment is not offered every shape (the stack refuses one it is not).
MODEL_DEPLOYMENT_SHAPES = [
    ("VM.GPU.A10.1", 15, 240, "NVIDIA_GPU"),
    ("VM.GPU.A10.2", 30, 480, "NVIDIA_GPU"),
    ("BM.GPU.A10.4", 64, 1024, "NVIDIA_GPU"),
    ("BM.GPU4.8", 64, 2048, "NVIDIA_GPU"),
    ("BM.GPU.A100-v2.8", 128, 2048, "NVIDIA_GPU"),
    ("BM.GPU.H100.8", 112, 2048, "NVIDIA_GPU"),
    ("BM.GPU.L40S.4", 112, 1024, "NVIDIA_GPU"),
    ("VM.Standard.E4.Flex", 64, 1024, "AMD_ROME"),
    ("VM.Standard3.Flex", 32, 512, "INTEL_SKYLAKE"),
]

# The mock tenancy's buckets: name -> versioning. Any other bucket is "not found", as OCI answers.
BUCKETS = {"vllm-models": "Enabled", "vllm-models-unversioned": "Disabled"}
# What `hf download` + `oci os object bulk-upload` (or the oci-h100-rdma upload Job) leave under a model's
# prefix: the repository's files with sizes of the order Hugging Face lists (illustrative), and the
# upload Job's completion marker.
_QWEN_TOKENIZER = [("merges.txt", 1_671_853), ("tokenizer.json", 7_031_645), ("tokenizer_config.json", 7_305),
                   ("vocab.json", 2_776_833)]  # fmt: skip
MODEL_FILES: dict[str, list[tuple[str, int]]] = {
    "Qwen--Qwen2.5-7B-Instruct/main": [
        ("config.json", 663), ("generation_config.json", 243),
        ("model-00001-of-00004.safetensors", 3_945_441_440), ("model-00002-of-00004.safetensors", 3_864_726_320),
        ("model-00003-of-00004.safetensors", 3_864_726_424), ("model-00004-of-00004.safetensors", 3_556_377_672),
        ("model.safetensors.index.json", 27_752), *_QWEN_TOKENIZER, (".upload-complete", 0),
    ],
    "Qwen--Qwen2.5-0.5B-Instruct/main": [
        ("config.json", 659), ("generation_config.json", 242), ("model.safetensors", 988_097_824),
        *_QWEN_TOKENIZER, (".upload-complete", 0),
    ],
}  # fmt: skip
# An object uploaded twice: its older version is still listed by ListObjectVersions (not the current one).
_REUPLOADED = "config.json"


def _etag(bucket: str, name: str, generation: int = 0) -> str:
    return stable_uuid("etag", bucket, name, str(generation))


def _version_id(bucket: str, name: str, generation: int = 0) -> str:
    return stable_uuid("version", bucket, name, str(generation))


def _bucket_objects(bucket: str, prefix: str) -> list[tuple[str, int]]:
    if bucket not in BUCKETS:
        raise InvokeFailure("bucket", "404-BucketNotFound, Either the bucket does not exist or you are not authorized")
    if BUCKETS[bucket] != "Enabled":
        return []
    return [
        (f"{directory}/{name}", size)
        for directory, files in MODEL_FILES.items()
        for name, size in files
        if f"{directory}/{name}".startswith(prefix)
    ]


class OciDataScienceMocks:
    """Handlers for the oci:* types and invokes components/oci_datascience and stacks/builders/ods.py use."""

    # --- Data Science ---------------------------------------------------------------------------

    def _oci_DataScience_project_Project(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("datascienceproject", name, REGION_KEY), {
            "state": "ACTIVE", "timeCreated": _CREATED, "createdBy": _CREATOR,
        }  # fmt: skip

    def _oci_DataScience_model_Model(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("datasciencemodel", name, REGION_KEY), {
            "state": "ACTIVE",
            "timeCreated": _CREATED,
            "createdBy": _CREATOR,
            "emptyModel": False,
            "artifactContentMd5": hashlib.md5(str(state.get("modelArtifact")).encode()).hexdigest(),
            "artifactLastModified": _CREATED,
            "lifecycleDetails": "",
        }

    def _oci_DataScience_modelDeployment_ModelDeployment(self, name: str, state: dict) -> tuple[str, dict]:
        deployment_id = ocid("datasciencemodeldeployment", name, REGION_KEY)
        return deployment_id, {
            # The service's invoke URL: https://modeldeployment.<region>.oci.customer-oci.com/<OCID>
            # (Oracle's samples call .../<model_deployment_id>/predict on that host).
            "modelDeploymentUrl": f"https://modeldeployment.{REGION}.oci.customer-oci.com/{deployment_id}",
            "state": "ACTIVE",
            "lifecycleDetails": "Model Deployment is Active.",
            "timeCreated": _CREATED,
            "createdBy": _CREATOR,
        }

    def _call_getModelDeploymentShapes(self, args: dict) -> dict:
        return {
            "id": "model-deployment-shapes",
            "compartmentId": args.get("compartmentId"),
            "modelDeploymentShapes": [
                {"name": n, "coreCount": cores, "memoryInGbs": memory, "shapeSeries": series}
                for n, cores, memory, series in MODEL_DEPLOYMENT_SHAPES
            ],
        }

    # --- Logging --------------------------------------------------------------------------------

    def _oci_Logging_logGroup_LogGroup(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("loggroup", name, REGION_KEY), {"state": "ACTIVE", "timeCreated": _CREATED}

    def _oci_Logging_log_Log(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("log", name, REGION_KEY), {
            "state": "ACTIVE", "timeCreated": _CREATED, "compartmentId": "", "tenancyId": "",
        }  # fmt: skip

    # --- Object Storage lookups -----------------------------------------------------------------

    def _call_getBucket(self, args: dict) -> dict:
        name = args.get("name", "")
        if name not in BUCKETS:
            raise InvokeFailure(
                "name", "404-BucketNotFound, Either the bucket does not exist or you are not authorized"
            )
        return {
            "id": f"n/{args.get('namespace') or NAMESPACE}/b/{name}",
            "name": name,
            "namespace": args.get("namespace") or NAMESPACE,
            "versioning": BUCKETS[name],
            "accessType": "NoPublicAccess",
            "storageTier": "Standard",
            "bucketId": ocid("bucket", name, REGION_KEY),
            "timeCreated": _CREATED,
        }

    def _call_getObjects(self, args: dict) -> dict:
        bucket, prefix = args.get("bucket", ""), args.get("prefix") or ""
        objects = [
            {"name": name, "size": str(size), "etag": _etag(bucket, name, 1 if name.endswith(_REUPLOADED) else 0),
             "md5": "", "storageTier": "Standard", "archivalState": "", "timeCreated": _CREATED,
             "timeModified": _CREATED}
            for name, size in _bucket_objects(bucket, prefix)
        ]  # fmt: skip
        return {"id": f"{bucket}/{prefix}", "bucket": bucket, "namespace": args.get("namespace"), "prefix": prefix,
                "objects": objects, "prefixes": []}  # fmt: skip

    def _call_getObjectVersions(self, args: dict) -> dict:
        bucket, prefix = args.get("bucket", ""), args.get("prefix") or ""
        items = []
        for name, size in _bucket_objects(bucket, prefix):
            generations = [1, 0] if name.endswith(_REUPLOADED) else [0]  # newest first, as OCI lists them
            items += [
                {"name": name, "size": str(size), "etag": _etag(bucket, name, g), "versionId": _version_id(bucket, name, g),
                 "isDeleteMarker": False, "md5": "", "storageTier": "Standard", "archivalState": "",
                 "timeCreated": _CREATED, "timeModified": _CREATED}
                for g in generations
            ]  # fmt: skip
        return {"id": f"{bucket}/{prefix}", "bucket": bucket, "namespace": args.get("namespace"), "prefix": prefix,
                "items": items, "prefixes": []}  # fmt: skip
