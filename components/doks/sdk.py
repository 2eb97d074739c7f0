"""The pulumi_digitalocean resources and functions this program uses, one SDK module each.

`from components.doks import sdk as do` reads like `import pulumi_digitalocean as do`, without the
SDK's __init__ importing all of its ~190 modules (components/sdk_import.py). Add a name here when a
component needs another resource.
"""

from components.sdk_import import defer_package_init

defer_package_init("pulumi_digitalocean")

# ruff: noqa: E402  (the imports must follow defer_package_init)
from pulumi_digitalocean._inputs import (
    KubernetesClusterControlPlaneFirewallArgs,
    KubernetesClusterNodePoolArgs,
    KubernetesNodePoolTaintArgs,
)
from pulumi_digitalocean.get_kubernetes_cluster import get_kubernetes_cluster_output
from pulumi_digitalocean.get_kubernetes_versions import get_kubernetes_versions
from pulumi_digitalocean.kubernetes_cluster import KubernetesCluster
from pulumi_digitalocean.kubernetes_node_pool import KubernetesNodePool
from pulumi_digitalocean.nfs import Nfs
from pulumi_digitalocean.vpc import Vpc

__all__ = [
    "KubernetesCluster",
    "KubernetesClusterControlPlaneFirewallArgs",
    "KubernetesClusterNodePoolArgs",
    "KubernetesNodePool",
    "KubernetesNodePoolTaintArgs",
    "Nfs",
    "Vpc",
    "get_kubernetes_cluster_output",
    "get_kubernetes_versions",
]
