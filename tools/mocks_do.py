"""DigitalOcean and random: what their providers compute, in the shapes their APIs return."""

from __future__ import annotations

import hashlib

from tools.mocks_base import kubeconfig, stable_uuid


class DigitalOceanMocks:
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
        prefix = args.get("versionPrefix") or "1.33."
        versions = [f"{prefix}{patch}-do.0" for patch in (5, 4, 1)]
        return {
            "id": "versions",
            "latestVersion": versions[0],
            "validVersions": versions,
            "versionPrefix": prefix,
        }


class RandomMocks:
    def _random_index_randomPassword_RandomPassword(self, name: str, state: dict) -> tuple[str, dict]:
        value = hashlib.sha256(f"password/{name}".encode()).hexdigest()[: int(state.get("length", 32))]
        return "none", {"result": value, "bcryptHash": "$2a$10$offline"}
