"""Oracle Cloud answers for the RDMA stack's resource types (oci-h100-rdma): instance configurations,
cluster networks, compute clusters, IAM, Object Storage. Same conventions as tools/mocks_oci.py:
OCIDs in Oracle's format, illustrative values, never real tenancy data."""

from __future__ import annotations

import hashlib

from tools.mocks_base import ocid

REGION_KEY = "iad"
# An Object Storage namespace has the shape Oracle generates for newer tenancies (lowercase letters
# and digits); this one is made up.
NAMESPACE = "axofflinens01"
_CREATED = "2026-11-24T00:00:00.000Z"


class OciRdmaMocks:
    """Handlers for the oci:* types components/oke/rdma.py and components/oci create."""

    def _oci_Core_instanceConfiguration_InstanceConfiguration(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("instanceconfiguration", name, REGION_KEY), {"timeCreated": _CREATED, "deferredFields": []}

    def _oci_Core_clusterNetwork_ClusterNetwork(self, name: str, state: dict) -> tuple[str, dict]:
        pools = [
            {**pool, "id": ocid("instancepool", f"{name}-{i}", REGION_KEY), "state": "RUNNING"}
            for i, pool in enumerate(state.get("instancePools") or [])
        ]
        return ocid("clusternetwork", name, REGION_KEY), {
            "instancePools": pools,
            "hpcIslandId": ocid("computehpcisland", name, REGION_KEY),
            "state": "RUNNING",
            "timeCreated": _CREATED,
        }

    def _oci_Core_computeCluster_ComputeCluster(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("computecluster", name, REGION_KEY), {"state": "ACTIVE", "timeCreated": _CREATED}

    # --- Identity (home region; region-less OCIDs) --------------------------------------------

    def _oci_Identity_dynamicGroup_DynamicGroup(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("dynamicgroup", name, ""), {"state": "ACTIVE", "timeCreated": _CREATED}

    def _oci_Identity_policy_Policy(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("policy", name, ""), {"state": "ACTIVE", "timeCreated": _CREATED, "versionDate": ""}

    def _oci_Identity_customerSecretKey_CustomerSecretKey(self, name: str, state: dict) -> tuple[str, dict]:
        # The id is the access key; `key` (the secret key) is only returned when the key is created.
        access = hashlib.sha1(f"access/{name}".encode()).hexdigest()
        secret = hashlib.sha256(f"secret/{name}".encode()).hexdigest()[:44]
        return access, {"key": secret, "state": "ACTIVE", "timeCreated": _CREATED}

    # --- Object Storage -----------------------------------------------------------------------

    def _oci_ObjectStorage_bucket_Bucket(self, name: str, state: dict) -> tuple[str, dict]:
        bucket = state.get("name") or name
        namespace = state.get("namespace") or NAMESPACE
        return f"n/{namespace}/b/{bucket}", {
            "bucketId": ocid("bucket", name, REGION_KEY),
            "etag": hashlib.sha256(bucket.encode()).hexdigest()[:36],
            "approximateCount": "0",
            "approximateSize": "0",
            "objectLifecyclePolicyEtag": "",
            "storageTier": state.get("storageTier") or "Standard",
            "timeCreated": _CREATED,
        }

    def _call_getNamespace(self, args: dict) -> dict:
        return {"namespace": NAMESPACE, "id": NAMESPACE, "compartmentId": args.get("compartmentId")}
