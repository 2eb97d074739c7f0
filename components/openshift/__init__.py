"""OpenShift-only objects (a Route publishes a Service through the cluster's router)."""

from components.openshift.route import OpenShiftRoute, OpenShiftRouteArgs, route_spec

__all__ = ["OpenShiftRoute", "OpenShiftRouteArgs", "route_spec"]
