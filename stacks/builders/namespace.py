"""The serving namespace every stack's workload goes in, the credentials it holds (the API key, the
Hugging Face token) and the names of each model's resources in it."""

from __future__ import annotations

import pulumi
from pydantic import SecretStr

from components.workloads import (
    ServingNamespace,
    ServingNamespaceArgs,
)
from stacks.config.common import StackBase
from stacks.placement import resource_suffix


def secret(value: SecretStr) -> pulumi.Output[str]:
    return pulumi.Output.secret(value.get_secret_value())


def secret_or_none(value: SecretStr | None) -> pulumi.Output[str] | None:
    return secret(value) if value is not None else None


def serving_namespace(
    cfg: StackBase,
    provider: pulumi.ProviderResource,
    pod_security: str = "baseline",
    labels: dict[str, str] | None = None,
) -> ServingNamespace:
    return ServingNamespace(
        f"{cfg.name}-serving",
        ServingNamespaceArgs(
            name=cfg.namespace,
            api_key=secret_or_none(cfg.secrets.api_key),
            hf_token=secret_or_none(cfg.secrets.hf_token),
            pod_security=pod_security,
            labels=dict(labels or {}),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def model_resource_name(cfg: StackBase, index: int, role: str) -> str:
    """`<stack>-<role>` for the first model (the names a one-model stack always had: adding models after it
    replaces nothing), `<stack>-<role>-<served name>` for the others."""
    if index == 0:
        return f"{cfg.name}-{role}"
    return f"{cfg.name}-{role}-{resource_suffix(cfg.models[index].name)}"


def model_k8s_name(cfg: StackBase, index: int) -> str:
    """The Deployment/Service name of a model's server: `vllm` for the first model, `vllm-<served name>` else."""
    return "vllm" if index == 0 else f"vllm-{resource_suffix(cfg.models[index].name)}"[:63].rstrip("-")
