"""The Kubernetes provider a cluster component creates as its child, from the cluster's kubeconfig."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def cluster_provider(
    name: str, parent: pulumi.Resource, kubeconfig: pulumi.Input[str] | None, context: str | None = None
) -> k8s.Provider:
    """Every in-cluster resource uses this provider, so `pulumi destroy` removes them before the cluster.

    kubeconfig None means the ambient one ($KUBECONFIG or ~/.kube/config); a given one stays secret.
    """
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
        context=context,
        # Objects are sent as written: no server-side defaults folded into the diff.
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
