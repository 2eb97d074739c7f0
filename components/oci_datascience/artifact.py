"""The artifact of a model "by reference": a JSON description of objects already in Object Storage, so the
model catalog holds no copy of the weights.

Format and rules from Oracle's ADS SDK, which AI Quick Actions use to register models
(oracle/accelerated-data-science ads/model/datascience_model.py, `_prepare_file_description_artifact`,
and ads/model/model_file_description_schema.json, commit 0e785b9f):

    {"version": "1.0", "type": "modelOSSReferenceDescription",
     "models": [{"namespace", "bucketName", "prefix", "objects": [{"name", "version", "sizeInBytes"}]}]}

- every object is pinned to a version (`version_dict[obj.etag]`: the version whose etag is the current
  object's), so the bucket must be versioned (ADS raises BucketNotVersionedError otherwise);
- the artifact is uploaded as the JSON file itself, with a `.json` file name in its content disposition
  (ads/model/service/oci_datascience_model.py `create_model_artifact`: `ext = ".json"`);
- the model carries custom metadata `modelDescription: "true"` ("model by reference flag") and AI Quick
  Actions' `artifact_location: oci://<bucket>@<namespace>/<prefix>` (ads/aqua/constants.py
  MODEL_BY_REFERENCE_OSS_PATH_KEY).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

DESCRIPTION_TYPE = "modelOSSReferenceDescription"
DESCRIPTION_VERSION = "1.0"
BY_REFERENCE_METADATA_KEY = "modelDescription"
ARTIFACT_LOCATION_METADATA_KEY = "artifact_location"


@dataclass(frozen=True)
class StoredObject:
    name: str
    """Full object name (prefix included), as ListObjects returns it."""
    etag: str
    size_bytes: int


@dataclass(frozen=True)
class ObjectVersion:
    name: str
    etag: str
    version_id: str
    is_delete_marker: bool = False


def pin_versions(objects: Iterable[StoredObject], versions: Iterable[ObjectVersion]) -> list[dict[str, object]]:
    """Each current object with the version id whose etag is its own (ADS's etag -> version map); an object
    without one (a bucket that was not versioned when it was written) raises ValueError naming it."""
    by_etag = {v.etag: v.version_id for v in versions if not v.is_delete_marker and v.etag}
    pinned = []
    for obj in sorted(objects, key=lambda o: o.name):
        if obj.etag not in by_etag:
            raise ValueError(f"object {obj.name} has no version (was the bucket versioned when it was uploaded?)")
        pinned.append({"name": obj.name, "version": by_etag[obj.etag], "sizeInBytes": obj.size_bytes})
    return pinned


def model_description(namespace: str, bucket: str, prefix: str, objects: Iterable[StoredObject],
                      versions: Iterable[ObjectVersion]) -> dict[str, object]:  # fmt: skip
    """The model_description.json of the objects under `prefix` (without the trailing slash)."""
    pinned = pin_versions(objects, versions)
    if not pinned:
        raise ValueError(f"no objects under oci://{bucket}@{namespace}/{prefix}/")
    return {
        "version": DESCRIPTION_VERSION,
        "type": DESCRIPTION_TYPE,
        "models": [{"namespace": namespace, "bucketName": bucket, "prefix": prefix, "objects": pinned}],
    }


def description_bytes(description: dict[str, object]) -> bytes:
    """Stable bytes for one description: the same objects give the same file, size and name."""
    return (json.dumps(description, indent=2, sort_keys=True) + "\n").encode()


def artifact_location(namespace: str, bucket: str, prefix: str) -> str:
    return f"oci://{bucket}@{namespace}/{prefix}"
