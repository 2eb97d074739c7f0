"""DigitalOcean and random: what their providers compute, in the shapes their APIs return."""

from __future__ import annotations

import hashlib
import itertools

from tools.mocks_base import kubeconfig, stable_uuid

# What the DOKS options API offers in the mock, newest first, in its slug form `<kubernetes>-do.<n>`
# (example slug in the provider's docs: "1.22.8-do.1"). Illustrative values, not a claim about today's
# offer; 1.33 is absent: it reached end of life on 2026-06-28.
DOKS_OFFERED_VERSIONS = ["1.35.2-do.0", "1.35.1-do.1", "1.34.6-do.0", "1.34.5-do.2"]
FETCHED_TOKEN_PREFIX = "offline-mock-token-fetched-"


class DigitalOceanMocks:
    _tokens = itertools.count(1)

    def _digitalocean_index_vpc_Vpc(self, name: str, state: dict) -> tuple[str, dict]:
        vpc_id = stable_uuid("vpc", name)
        return vpc_id, {"urn": f"do:vpc:{vpc_id}", "default": False}

    def _digitalocean_index_kubernetesCluster_KubernetesCluster(self, name: str, state: dict) -> tuple[str, dict]:
        cluster_id = stable_uuid("doks", name)
        host = f"{cluster_id}.k8s.ondigitalocean.com"
        return cluster_id, {
            "name": state.get("name") or name,
            "endpoint": f"https://{host}",
            "ipv4Address": "",
            "status": "running",
            "clusterUrn": f"do:kubernetes:{cluster_id}",
            "kubeConfigs": [
                {
                    "rawConfig": kubeconfig(f"do-{state.get('region', 'nyc2')}-{name}", host),
                    "host": f"https://{host}",
                    "token": "offline-mock-token",
                    "expiresAt": "2026-12-01T00:00:00Z",
                }
            ],
        }

    def _digitalocean_index_kubernetesNodePool_KubernetesNodePool(self, name: str, state: dict) -> tuple[str, dict]:
        count = int(state.get("nodeCount") or state.get("minNodes") or 1)
        return stable_uuid("pool", name), {"name": state.get("name") or name, "actualNodeCount": count}

    def _digitalocean_index_nfs_Nfs(self, name: str, state: dict) -> tuple[str, dict]:
        share_id = stable_uuid("nfs", name)
        # The shape DigitalOcean's NFS API returns (docs.digitalocean.com/reference/pydo/reference/nfs/list).
        return share_id, {
            "host": "10.200.0.2",
            "mountPath": f"/123456/{share_id}",
            "status": "ACTIVE",
            "vpcIds": [state.get("vpcId")],
        }

    def _call_getKubernetesVersions(self, args: dict) -> dict:
        # As terraform-provider-digitalocean digitalocean/kubernetes/datasource_kubernetes_versions.go answers:
        # the API's slugs in its order (newest first) that start with versionPrefix; latestVersion only if any.
        prefix = args.get("versionPrefix") or ""
        valid = [v for v in DOKS_OFFERED_VERSIONS if v.startswith(prefix)]
        return {
            "id": "versions",
            "validVersions": valid,
            "versionPrefix": prefix,
            **({"latestVersion": valid[0]} if valid else {}),
        }

    def _call_getKubernetesCluster(self, args: dict) -> dict:
        # The cluster read again, as the data source does: the same cluster, a kubeconfig with a token minted now.
        name = args["name"]
        cluster_id = stable_uuid("doks", name)
        host = f"{cluster_id}.k8s.ondigitalocean.com"
        token = f"{FETCHED_TOKEN_PREFIX}{next(self._tokens)}"
        return {
            "id": cluster_id,
            "name": name,
            "endpoint": f"https://{host}",
            "status": "running",
            "kubeConfigs": [
                {
                    "rawConfig": kubeconfig(f"do-nyc2-{name}", host).replace("offline-mock-token", token),
                    "host": f"https://{host}",
                    "token": token,
                    "clusterCaCertificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
                    "expiresAt": "2026-12-09T00:00:00Z",
                }
            ],
        }


class RandomMocks:
    def _random_index_randomPassword_RandomPassword(self, name: str, state: dict) -> tuple[str, dict]:
        value = hashlib.sha256(f"password/{name}".encode()).hexdigest()[: int(state.get("length", 32))]
        return "none", {"result": value, "bcryptHash": "$2a$10$offline"}
