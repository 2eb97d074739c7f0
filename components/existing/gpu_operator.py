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

from components.helm import HelmChart, helm_release, privileged_namespace


@dataclass(frozen=True)
class NvidiaGpuOperatorArgs:
    chart: HelmChart
    """`gpu-operator` from https://helm.ngc.nvidia.com/nvidia at a pinned version."""
    namespace: str = "gpu-operator"
    driver_enabled: bool = True
    """False when the nodes already have the NVIDIA driver installed."""
    values: dict[str, Any] = field(default_factory=dict)


class NvidiaGpuOperator(pulumi.ComponentResource):
    release_name: pulumi.Output[str]

    def __init__(self, name: str, args: NvidiaGpuOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:existing:NvidiaGpuOperator", name, None, opts)
        release = helm_release(
            name,
            self,
            args.chart,
            release_name="gpu-operator",
            namespace=privileged_namespace(name, self, args.namespace),
            values={"driver": {"enabled": args.driver_enabled}, **args.values},
            atomic=True,
        )
        self.release_name = release.name.apply(lambda n: n or "gpu-operator")
        self.register_outputs({"releaseName": self.release_name})
