"""The NVIDIA GPU Operator from NVIDIA's Helm chart, for clusters whose GPU nodes are not set up yet.

Source: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html —
chart `gpu-operator` from https://helm.ngc.nvidia.com/nvidia; "label the namespace for the Operator to
set the enforcement policy to privileged" where Pod Security Admission is used. On OpenShift NVIDIA
documents the certified operator from OperatorHub instead, so the stack leaves it to the cluster there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class NvidiaGpuOperatorArgs:
    chart_version: str
    repository: str = "https://helm.ngc.nvidia.com/nvidia"
    namespace: str = "gpu-operator"
    driver_enabled: bool = True
    """False when the nodes already have the NVIDIA driver installed."""
    values: dict[str, Any] = field(default_factory=dict)


class NvidiaGpuOperator(pulumi.ComponentResource):
    release_name: pulumi.Output[str]

    def __init__(self, name: str, args: NvidiaGpuOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:existing:NvidiaGpuOperator", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name="gpu-operator",
            chart="gpu-operator",
            version=args.chart_version,
            namespace=namespace.metadata.apply(lambda m: m.name or args.namespace),
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.repository),
            values={"driver": {"enabled": args.driver_enabled}, **args.values},
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release_name = release.name.apply(lambda n: n or "gpu-operator")
        self.register_outputs({"releaseName": self.release_name})
