"""The Kubernetes provider for a cluster that already exists, from a secret kubeconfig or the ambient one."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes_provider import cluster_provider


@dataclass(frozen=True)
class ExistingClusterArgs:
    kubeconfig: pulumi.Input[str] | None = None
    """A kubeconfig (kept secret); None uses the ambient one ($KUBECONFIG or ~/.kube/config)."""
    context: str | None = None


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:existing:Cluster", name, None, opts)
        self.provider = cluster_provider(name, self, args.kubeconfig, args.context)
        self.register_outputs({})
