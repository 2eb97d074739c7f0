"""kube-prometheus-stack (Prometheus Operator, Prometheus, Alertmanager, Grafana, kube-state-metrics,
node-exporter) from the prometheus-community chart at a pinned version, sized for one serving cluster.

Values follow oracle-quickstart/oci-hpc-oke terraform/files/kube-prometheus/values.yaml.tftpl @61d210a
(`*SelectorNilUsesHelmValues: false`: Prometheus picks up every ServiceMonitor, PodMonitor and
PrometheusRule, not only the chart's own; Grafana's dashboard sidecar on). Grafana is a ClusterIP
Service only (reach it with `kubectl port-forward`), its admin password a generated Pulumi secret
instead of the chart's well-known default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.helm import HelmChart, helm_release, privileged_namespace

RELEASE = "kube-prometheus-stack"
# Service names for release `kube-prometheus-stack` (oci-hpc-oke terraform/output.tf @61d210a:
# `svc/kube-prometheus-stack-prometheus 9090`, `svc/kube-prometheus-stack-grafana 3000:80`).
PROMETHEUS_SERVICE, PROMETHEUS_PORT = f"{RELEASE}-prometheus", 9090
GRAFANA_SERVICE, GRAFANA_PORT = f"{RELEASE}-grafana", 80
GRAFANA_SECRET = "grafana-admin"


@dataclass(frozen=True)
class PrometheusStackArgs:
    chart: HelmChart
    """kube-prometheus-stack from https://prometheus-community.github.io/helm-charts at a pinned version."""
    namespace: str = "monitoring"
    node_selector: dict[str, str] = field(default_factory=dict)
    """Where Prometheus, Grafana and the operators run (a CPU pool)."""
    retention: str = "7d"
    retention_size: str = "8GB"
    storage_gi: int = 10


def chart_values(args: PrometheusStackArgs) -> dict[str, Any]:
    placed = {"nodeSelector": args.node_selector} if args.node_selector else {}
    return {
        "defaultRules": {"create": True},
        "alertmanager": {
            "alertmanagerSpec": {
                **placed,
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
            }
        },
        # The operator's admission webhook certificates come from a hook Job (kube-webhook-certgen) with a node
        # selector of its own (values.yaml prometheusOperator.admissionWebhooks.patch.nodeSelector at 87.2.1).
        "prometheusOperator": {**placed, "admissionWebhooks": {"patch": {**placed}}},
        "kube-state-metrics": {**placed},
        "prometheus": {
            "prometheusSpec": {
                **placed,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "retention": args.retention,
                "retentionSize": args.retention_size,
                "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "3Gi"}},
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{args.storage_gi}Gi"}},
                        }
                    }
                },
            }
        },
        "grafana": {
            **placed,
            "service": {"type": "ClusterIP"},
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            # Dashboards come as ConfigMaps labelled grafana_dashboard=1 from the serving namespaces.
            "sidecar": {"dashboards": {"enabled": True, "searchNamespace": "ALL"}},
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        },
    }


class PrometheusStack(pulumi.ComponentResource):
    namespace: str
    prometheus_url: str
    grafana_password: pulumi.Output[str]
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: PrometheusStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:PrometheusStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # node-exporter uses the host's network, PID namespace and filesystem: privileged Pod Security.
        namespace = privileged_namespace(name, self, args.namespace)
        password = random.RandomPassword(f"{name}-grafana-password", length=32, special=False, opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": GRAFANA_SECRET, "namespace": args.namespace},
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": pulumi.Output.secret(password.result)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.release = helm_release(
            name,
            self,
            args.chart,
            release_name=RELEASE,
            namespace=args.namespace,
            values=chart_values(args),
            atomic=True,
            depends_on=[namespace, secret],
        )
        self.namespace = args.namespace
        self.prometheus_url = f"http://{PROMETHEUS_SERVICE}.{args.namespace}.svc:{PROMETHEUS_PORT}"
        self.grafana_password = pulumi.Output.secret(password.result)
        self.register_outputs({"prometheusUrl": self.prometheus_url})
