"""A served model's replicas scaled by KEDA on its own vLLM metrics in Prometheus, and the pinned KEDA
chart for clusters without KEDA.

The ScaledObject (keda.sh/v1alpha1, CRD of kedacore/keda v2.20.2 in ../shared/crds) drives an HPA on the
Deployment with two Prometheus triggers, as the vLLM production-stack's KEDA tutorial scales on
`vllm:num_requests_waiting`:

- waiting requests (`AverageValue`, KEDA's default: the HPA divides the sum by the replicas, so each
  replica aims at `waiting_per_replica` queued requests);
- the mean KV-cache usage (`Value`: above the target, replicas grow in proportion).

Scale-down never cuts a request off: the HPA removes one pod at a time after the stabilization window,
and a removed pod first leaves the Service's endpoints, then its preStop hook waits until vLLM reports
no running or waiting request (components/workloads/vllm.py DRAIN_SCRIPT) within the termination grace
period. KEDA's `cooldownPeriod` only delays the last step to zero.

Scale to zero (`min_replicas` 0) needs a signal that outlives the last vLLM pod: `wake_query`, a 0/1
expression on the front door's traffic, as the vLLM production-stack does it (vllm-project/production-stack
@a6c01db tutorials/20-keda-autoscaling.md "Scale Down to Zero": a keepalive trigger
`sum(rate(vllm:num_incoming_requests_total[1m]) > bool 0)` on its router's counter, threshold 1; its router
answers 503 while no replica is up, src/vllm_router/services/request_service/request.py). Its trigger is
active above 0 (`activationThreshold` 0: KEDA takes the Deployment from 0 to 1) and, at 1 per replica, never
asks the HPA for more than one replica itself. Requests that arrive at zero are refused (503), not held: the
client retries after the cold start. (Holding them needs a proxy in the request path that waits for a
replica, the KEDA HTTP add-on's interceptor: kedacore/http-add-on@59b2f6a, not used here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.helm import HelmChart, helm_release


@dataclass(frozen=True)
class ScalerArgs:
    namespace: str
    deployment: str
    prometheus_url: str
    waiting_query: str
    kv_cache_query: str
    min_replicas: int
    max_replicas: int
    waiting_per_replica: float
    kv_cache_usage: float
    polling_seconds: int = 15
    cooldown_seconds: int = 1800
    scale_down_stabilization_seconds: int = 600
    wake_query: str | None = None
    """With min_replicas 0: a query that is nonzero when requests arrive while no replica runs (vLLM's own
    metrics vanish with its last pod)."""


def _number(value: float) -> str:
    return f"{value:g}"


def scaled_object_spec(args: ScalerArgs) -> dict[str, Any]:
    prometheus_url = args.prometheus_url

    def trigger(name: str, query: str, threshold: float, metric_type: str | None = None) -> dict[str, Any]:
        t: dict[str, Any] = {
            "type": "prometheus",
            "name": name,
            "metadata": {"serverAddress": prometheus_url, "query": query, "threshold": _number(threshold)},
        }
        if metric_type:
            t["metricType"] = metric_type
        return t

    triggers = [
        trigger("waiting-requests", args.waiting_query, args.waiting_per_replica),
        trigger("kv-cache-usage", args.kv_cache_query, args.kv_cache_usage, "Value"),
    ]
    if args.min_replicas == 0 and args.wake_query:
        wake = trigger("incoming-requests", args.wake_query, 1)
        wake["metadata"]["activationThreshold"] = "0"
        triggers.append(wake)
    # KEDA itself polls the triggers and waits cooldownPeriod only for the steps between 0 and 1 replica; from
    # 1 replica up the HPA polls KEDA's metrics server. With minReplicaCount > 0 KEDA's webhook warns that both
    # are "configured but ... not relevant" (kedacore/keda v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go
    # verifyScaledObjects): they are set only for a model that scales to zero.
    at_zero = {"pollingInterval": args.polling_seconds, "cooldownPeriod": args.cooldown_seconds}
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": args.deployment},
        "minReplicaCount": args.min_replicas,
        "maxReplicaCount": args.max_replicas,
        **(at_zero if args.min_replicas == 0 else {}),
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    # One replica at a time, after load stayed low for the whole window.
                    "scaleDown": {
                        "stabilizationWindowSeconds": args.scale_down_stabilization_seconds,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                    },
                    "scaleUp": {
                        "stabilizationWindowSeconds": 0,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                    },
                }
            }
        },
        "triggers": triggers,
    }


class ReplicaScaler(pulumi.ComponentResource):
    """A KEDA ScaledObject for one served model's Deployment."""

    name: str

    def __init__(self, name: str, args: ScalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:ReplicaScaler", name, None, opts)
        self.name = args.deployment
        k8s.apiextensions.CustomResource(
            f"{name}-scaled-object",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={
                "name": args.deployment,
                "namespace": args.namespace,
                "labels": {"app.kubernetes.io/name": "vllm-autoscaling", "app.kubernetes.io/instance": args.deployment},
            },
            spec=scaled_object_spec(args),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


@dataclass(frozen=True)
class KedaArgs:
    chart: HelmChart
    namespace: str = "keda"
    node_selector: dict[str, str] | None = None


class KedaOperator(pulumi.ComponentResource):
    """KEDA and its CRDs from the official chart at a pinned version."""

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:KedaOperator", name, None, opts)
        self.release = helm_release(
            name,
            self,
            args.chart,
            release_name="keda",
            namespace=args.namespace,
            create_namespace=True,
            values={"nodeSelector": args.node_selector} if args.node_selector else {},
            atomic=True,
        )
        self.register_outputs({})
