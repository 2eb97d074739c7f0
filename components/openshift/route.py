"""An OpenShift Route: the cluster's router publishes a Service on https with a certificate of the
router's (edge termination; `reencrypt` when the backend itself speaks TLS), and redirects http.

Schema: route.openshift.io/v1 Route (openshift/api route/v1, ../shared/crds/route.openshift.io_routes.yaml).
The fields follow what OpenShift AI's own controller writes for an InferenceService
(opendatahub-io/odh-model-controller, commit 57b43aad41aea718861b6c70b38a16794fc4ac8e,
internal/controller/serving/reconcilers/kserve_raw_route_reconciler.go: `to` a Service with weight 100,
`port.targetPort` by name, `tls.termination` edge, or reencrypt to the `https` port when
security.opendatahub.io/enable-auth is on, `insecureEdgeTerminationPolicy: Redirect`,
`wildcardPolicy: None`; with auth the predictor Service's only port is the auth proxy's `https`, served
with an OpenShift service-serving certificate: opendatahub-io/kserve commit
3cf0a0416662e3db328f6ddf4755ce730f41c747, reconcilers/service/service_reconciler_odh.go) and its timeout annotation `haproxy.router.openshift.io/timeout`
(internal/controller/constants/constants.go RouteTimeoutAnnotationKey; the router's default is 30 s,
too short for a long generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

TIMEOUT_ANNOTATION = "haproxy.router.openshift.io/timeout"


@dataclass(frozen=True)
class OpenShiftRouteArgs:
    namespace: pulumi.Input[str]
    name: str
    service_name: pulumi.Input[str]
    target_port: str | int
    """The pods' port, by name or number (Route API: looked up in the Service's endpoints)."""
    termination: Literal["edge", "reencrypt"] = "edge"
    hostname: str | None = None
    """None: the router generates `<name>-<namespace>.<apps domain>`."""
    timeout_seconds: int = 600


def route_spec(args: OpenShiftRouteArgs) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "to": {"kind": "Service", "name": args.service_name, "weight": 100},
        "port": {"targetPort": args.target_port},
        "tls": {"termination": args.termination, "insecureEdgeTerminationPolicy": "Redirect"},
        "wildcardPolicy": "None",
    }
    if args.hostname:
        spec["host"] = args.hostname
    return spec


class OpenShiftRoute(pulumi.ComponentResource):
    route_name: pulumi.Output[str]
    host_command: pulumi.Output[str]
    """Reads the host the router assigned (a CustomResource does not surface status)."""

    def __init__(self, name: str, args: OpenShiftRouteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:openshift:Route", name, None, opts)
        route = k8s.apiextensions.CustomResource(
            f"{name}-route",
            api_version="route.openshift.io/v1",
            kind="Route",
            metadata={
                "name": args.name,
                "namespace": args.namespace,
                "annotations": {TIMEOUT_ANNOTATION: f"{args.timeout_seconds}s"},
            },
            spec=route_spec(args),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.route_name = route.id.apply(lambda _: args.name)
        self.host_command = pulumi.Output.concat(
            "oc get route ", self.route_name, " -n ", args.namespace, " -o jsonpath='{.spec.host}'"
        )
        self.register_outputs({"routeName": self.route_name})
