"""The serving namespace with its credentials: the API key clients use and the optional HF token."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

API_KEY_SECRET_KEY = "api-key"
HF_TOKEN_SECRET_KEY = "token"


@dataclass(frozen=True)
class ServingNamespaceArgs:
    name: str
    api_key: pulumi.Input[str] | None = None
    """Secret API key; a random one is generated when absent."""
    hf_token: pulumi.Input[str] | None = None
    pod_security: str = "baseline"
    """Pod Security Admission level enforced in the namespace (restricted is always warned about)."""
    labels: dict[str, str] = field(default_factory=dict)


class ServingNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    api_key: pulumi.Output[str]
    api_key_secret_name: pulumi.Output[str]
    api_key_checksum: pulumi.Output[str]
    hf_token_secret_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: ServingNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:ServingNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.name,
                "labels": {
                    **args.labels,
                    "pod-security.kubernetes.io/enforce": args.pod_security,
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            opts=child,
        )
        ns_name = namespace.metadata.apply(lambda m: m.name or args.name)

        if args.api_key is not None:
            api_key = pulumi.Output.secret(args.api_key)
        else:
            api_key = random.RandomPassword(f"{name}-api-key", length=40, special=False, opts=child).result
        api_key_secret = k8s.core.v1.Secret(
            f"{name}-api-key",
            metadata={"name": "vllm-api-key", "namespace": ns_name},
            type="Opaque",
            string_data={API_KEY_SECRET_KEY: pulumi.Output.secret(api_key)},
            opts=child,
        )

        self.hf_token_secret_name = None
        if args.hf_token is not None:
            hf_secret = k8s.core.v1.Secret(
                f"{name}-hf-token",
                metadata={"name": "hf-token", "namespace": ns_name},
                type="Opaque",
                string_data={HF_TOKEN_SECRET_KEY: pulumi.Output.secret(args.hf_token)},
                opts=child,
            )
            self.hf_token_secret_name = hf_secret.metadata.apply(lambda m: m.name or "hf-token")

        self.name = ns_name
        self.api_key = pulumi.Output.secret(api_key)
        # Pods read the key from env at start and never see a changed Secret (kubernetes.io/docs/concepts/
        # configuration/secret, "using Secrets as environment variables"): a pod annotation with this
        # checksum rolls them when the key is rotated. Still a secret: a hash of the key, never shown.
        self.api_key_checksum = self.api_key.apply(lambda key: hashlib.sha256(key.encode()).hexdigest())
        self.api_key_secret_name = api_key_secret.metadata.apply(lambda m: m.name or "vllm-api-key")
        self.register_outputs({"name": self.name, "apiKeySecretName": self.api_key_secret_name})
