"""The KubeRay operator and its CRDs, from the official Helm chart `kuberay-operator` at a pinned version
(https://ray-project.github.io/kuberay-helm/; Ray docs, "KubeRay Operator Installation")."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.helm import HelmChart, helm_release


@dataclass(frozen=True)
class KubeRayOperatorArgs:
    chart: HelmChart
    namespace: str = "kuberay-system"
    node_selector: dict[str, str] = field(default_factory=dict)
    """Where the operator runs (a system pool)."""


class KubeRayOperator(pulumi.ComponentResource):
    """The operator's Helm release; `release` is what a RayCluster waits for (its CRD comes with it)."""

    release_name: pulumi.Output[str]
    namespace: str
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KubeRayOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:KubeRayOperator", name, None, opts)
        self.release = helm_release(
            name,
            self,
            args.chart,
            release_name="kuberay-operator",
            namespace=args.namespace,
            create_namespace=True,
            values={"nodeSelector": args.node_selector} if args.node_selector else {},
            # The RayCluster waits for the operator and its CRD.
            wait_for_jobs=True,
        )
        self.release_name = self.release.name.apply(lambda n: n or "kuberay-operator")
        self.namespace = args.namespace
        self.register_outputs({"releaseName": self.release_name})
