"""What a platform's builder hands the shared serving code (stacks/builders/serving.py, kuberay.py, kserve.py,
observability.py): the cluster provider and how pods reach its GPU pools. Its own module, so those can
all name it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.conventions import DEFAULT_UID
from components.workloads.types import GpuPlacement
from stacks.config.kserve import OpenShiftRouteConfig


@dataclass(frozen=True)
class GpuPoolTarget:
    """How a model's pods reach the nodes of one GPU pool, and what must exist before they start."""

    placement: GpuPlacement
    ready: list[pulumi.Resource] = field(default_factory=list)
    """e.g. the node pool and the GPU add-on: the pods wait for them."""


@dataclass
class ServingPlatform:
    """What a stack hands the shared workload: its cluster provider and how to reach its GPU pools."""

    provider: pulumi.ProviderResource
    pools: dict[str, GpuPoolTarget]
    """Pool name (as models name it in `pool`) -> its nodes."""
    service_annotations: dict[str, str] = field(default_factory=dict)
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    run_as_user: int | None = DEFAULT_UID
    """Fixed non-root UID for the pods; None lets the platform assign one (OpenShift)."""
    system_node_selector: dict[str, str] = field(default_factory=dict)
    """Where the entry point's pods run (a CPU pool); empty: anywhere they are scheduled."""
    openshift_route: OpenShiftRouteConfig | None = None
    """Publish the entry point with an OpenShift Route (TLS at the router); None: no Route."""
