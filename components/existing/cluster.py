"""The Kubernetes provider for a cluster that already exists, from a secret kubeconfig or the ambient one."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ExistingClusterArgs:
    kubeconfig: pulumi.Input[str] | None = None
    """A kubeconfig (kept secret); None uses the ambient one ($KUBECONFIG or ~/.kube/config)."""
    context: str | None = None


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:existing:Cluster", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(args.kubeconfig) if args.kubeconfig is not None else None,
            context=args.context,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
