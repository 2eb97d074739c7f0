"""One way to install a pinned Helm chart as a child of a component: the chart's name, version and
repository in one typed value, the release named `f"{name}-release"` under its component.

A function, not a component: the releases keep their place in the resource tree (their URNs), and each
component (KEDA, KubeRay, kube-prometheus-stack, the GPU Operator) stays the one cloud concept it is.
pulumi-kubernetes `helm.v3.Release` installs the chart with Helm in the provider (a release Helm lists,
upgrades and uninstalls), not rendered manifests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class HelmChart:
    """A chart pinned to one version in its repository (a stacks/catalog row says where each pin comes from)."""

    chart: str
    version: str
    repo: str

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> HelmChart:
        """From a catalog row's `chart`, `version` and `repo` (its other keys are provenance)."""
        return cls(chart=row["chart"], version=row["version"], repo=row["repo"])


def privileged_namespace(name: str, parent: pulumi.Resource, namespace: str) -> k8s.core.v1.Namespace:
    """A namespace of Pod Security level `privileged`, for charts whose pods need the host (node
    agents: host network, PID namespace, paths). Kubernetes "Pod Security Admission": the
    `pod-security.kubernetes.io/enforce` label sets the level a namespace enforces."""
    return k8s.core.v1.Namespace(
        f"{name}-namespace",
        metadata={"name": namespace, "labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def helm_release(
    name: str,
    parent: pulumi.Resource,
    chart: HelmChart,
    *,
    release_name: str,
    namespace: str | k8s.core.v1.Namespace,
    values: Mapping[str, Any],
    create_namespace: bool = False,
    atomic: bool = False,
    wait_for_jobs: bool = False,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.helm.v3.Release:
    """The release `release_name` of `chart` in `namespace`: a name Helm creates when `create_namespace`
    (unmanaged by Pulumi), or a Namespace resource the release then waits for.

    `atomic`: a failed install or upgrade rolls back; `wait_for_jobs`: the release is ready only when its
    Jobs completed (pulumi-kubernetes helm.v3.Release inputs). Flags left false stay unset inputs, so the
    provider's defaults (false) apply and the release's inputs show only what a component asked for."""
    in_namespace: pulumi.Input[str] = (
        namespace.metadata.apply(lambda m: m.name or "") if isinstance(namespace, k8s.core.v1.Namespace) else namespace
    )
    return k8s.helm.v3.Release(
        f"{name}-release",
        name=release_name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=in_namespace,
        create_namespace=create_namespace or None,
        values=dict(values),
        atomic=atomic or None,
        wait_for_jobs=wait_for_jobs or None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
