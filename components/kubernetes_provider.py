"""The Kubernetes provider a cluster component creates as its child, from the cluster's kubeconfig."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def cluster_provider(
    name: str,
    parent: pulumi.Resource,
    kubeconfig: pulumi.Input[str] | None,
    context: str | None = None,
    cluster_identifier: pulumi.Input[str] | None = None,
) -> k8s.Provider:
    """Every in-cluster resource uses this provider, so `pulumi destroy` removes them before the cluster.

    kubeconfig None means the ambient one ($KUBECONFIG or ~/.kube/config); a given one stays secret.
    cluster_identifier: the provider is replaced only when it changes, so fresh credentials in the
    kubeconfig are an update of the provider, never a replacement of every object on the cluster
    (pulumi-kubernetes Provider `clusterIdentifier`).
    """
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=pulumi.Output.secret(kubeconfig) if kubeconfig is not None else None,
        context=context,
        cluster_identifier=cluster_identifier,
        # Objects are sent as written: no server-side defaults folded into the diff.
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
