"""Realistic answers from the mocked clouds: the shapes of real ids, kubeconfigs, NFS hosts and
lookups, so the program runs exactly as it would against a provider, minus the cloud."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pulumi

# A kubeconfig as DOKS and OKE return it (the offline preview never connects to it).
_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://{host}
  name: {name}
contexts:
- context:
    cluster: {name}
    user: {name}-admin
  name: {name}
current-context: {name}
users:
- name: {name}-admin
  user:
    token: offline-mock-token
"""


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def ocid(kind: str, name: str, region_key: str = "iad") -> str:
    """An OCID in Oracle's documented format: ocid1.<type>.oc1.<region>.<unique>."""
    unique = hashlib.sha256(f"{kind}/{name}".encode()).hexdigest()[:60]
    return f"ocid1.{kind}.oc1.{region_key}.aaaaaaaa{unique}"


def kubeconfig(name: str, host: str) -> str:
    return _KUBECONFIG.format(name=name, host=host)


class CloudMocks(pulumi.runtime.Mocks):
    """Echo inputs as state and add what each provider computes."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        handler = getattr(self, "_" + args.typ.replace(":", "_").replace("/", "_").replace(".", "_"), None)
        if handler is not None:
            resource_id, extra = handler(args.name, state)
        else:
            resource_id, extra = self._default_id(args), {}
        state.update(extra)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        handler = getattr(self, "_call_" + args.token.split(":")[-1], None)
        return handler(args.args) if handler is not None else {}

    @staticmethod
    def _default_id(args: pulumi.runtime.MockResourceArgs) -> str:
        if args.typ.startswith("kubernetes:"):
            return args.name
        return stable_uuid(args.typ, args.name)

    # ---- random -------------------------------------------------------------------------
    def _random_index_randomPassword_RandomPassword(self, name: str, state: dict) -> tuple[str, dict]:  # noqa: N802
        value = hashlib.sha256(f"password/{name}".encode()).hexdigest()[: int(state.get("length", 32))]
        return "none", {"result": value, "bcryptHash": "$2a$10$offline"}

    # ---- DigitalOcean ---------------------------------------------------------------------
    def _digitalocean_index_vpc_Vpc(self, name: str, state: dict) -> tuple[str, dict]:  # noqa: N802
        vpc_id = stable_uuid("vpc", name)
        return vpc_id, {"urn": f"do:vpc:{vpc_id}", "default": False}

    def _digitalocean_index_kubernetesCluster_KubernetesCluster(  # noqa: N802
        self, name: str, state: dict
    ) -> tuple[str, dict]:
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

    def _digitalocean_index_kubernetesNodePool_KubernetesNodePool(  # noqa: N802
        self, name: str, state: dict
    ) -> tuple[str, dict]:
        count = int(state.get("nodeCount") or state.get("minNodes") or 1)
        return stable_uuid("pool", name), {"name": state.get("name") or name, "actualNodeCount": count}

    def _digitalocean_index_nfs_Nfs(self, name: str, state: dict) -> tuple[str, dict]:  # noqa: N802
        share_id = stable_uuid("nfs", name)
        # The shape DigitalOcean's NFS API returns (docs.digitalocean.com/reference/pydo/reference/nfs/list).
        return share_id, {
            "host": "10.200.0.2",
            "mountPath": f"/123456/{share_id}",
            "status": "ACTIVE",
            "vpcIds": [state.get("vpcId")],
        }

    def _call_getKubernetesVersions(self, args: dict) -> dict:  # noqa: N802
        prefix = args.get("versionPrefix") or "1.33."
        versions = [f"{prefix}{patch}-do.0" for patch in (5, 4, 1)]
        return {"id": "versions", "latestVersion": versions[0], "validVersions": versions, "versionPrefix": prefix}
