"""An image pull secret (`kubernetes.io/dockerconfigjson`) for any private registry: OCIR, GHCR, ...

For OCIR the server is `<region-key>.ocir.io`, the username `<tenancy-namespace>/<user>` and the
password an auth token (Oracle, "Preparing for Container Registry",
https://docs.oracle.com/en-us/iaas/Content/Registry/Concepts/registryprerequisites.htm). The password
and the whole rendered secret stay Pulumi secrets.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"


def docker_config_json(server: str, username: str, password: str) -> str:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {server: {"username": username, "password": password, "auth": auth}}})


@dataclass(frozen=True)
class RegistryPullSecretArgs:
    namespace: pulumi.Input[str]
    server: str
    username: pulumi.Input[str]
    password: pulumi.Input[str]
    name: str = "registry-pull"


class RegistryPullSecret(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]
    server: str

    def __init__(self, name: str, args: RegistryPullSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:RegistryPullSecret", name, None, opts)
        config = pulumi.Output.secret(
            pulumi.Output.all(args.username, args.password).apply(
                lambda up: docker_config_json(args.server, up[0], up[1])
            )
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": args.name, "namespace": args.namespace},
            type=DOCKER_CONFIG_JSON,
            string_data={".dockerconfigjson": config},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["data", "stringData"]),
        )
        self.secret_name = secret.metadata.apply(lambda m: m.name or args.name)
        self.server = args.server
        self.register_outputs({"secretName": self.secret_name})
