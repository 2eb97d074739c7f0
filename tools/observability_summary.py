"""The preview summary's observability block, read from the plan: what is scraped, which alerts exist,
where the dashboards are and how to open them, and the autoscaling bounds."""

from __future__ import annotations

from typing import Any

from tools.engine import ProgramRun


def _objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [r.inputs for r in run.registered() if r.type.endswith(f":{kind}") and r.type.startswith("kubernetes:")]


def _labels(selector: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items()))


def scrape_lines(run: ProgramRun) -> list[str]:
    lines = []
    for pm in _objects(run, "PodMonitor"):
        spec, meta = pm["spec"], pm["metadata"]
        for ep in spec["podMetricsEndpoints"]:
            lines.append(f"  scraped: pods {_labels(spec['selector'])} in {','.join(spec['namespaceSelector']['matchNames'])}, "
                         f"port {ep['port']} {ep.get('path', '/metrics')} every {ep.get('interval', 'default')} "
                         f"(PodMonitor {meta['namespace']}/{meta['name']})")  # fmt: skip
    for sm in _objects(run, "ServiceMonitor"):
        spec, meta = sm["spec"], sm["metadata"]
        for ep in spec["endpoints"]:
            lines.append(f"  scraped: services {_labels(spec['selector'])} in {','.join(spec['namespaceSelector']['matchNames'])}, "
                         f"port {ep['port']} {ep.get('path', '/metrics')} every {ep.get('interval', 'default')} "
                         f"(ServiceMonitor {meta['namespace']}/{meta['name']})")  # fmt: skip
    return lines


def alert_lines(run: ProgramRun) -> list[str]:
    lines = []
    for rule in _objects(run, "PrometheusRule"):
        for group in rule["spec"]["groups"]:
            alerts = [f"{r['alert']} (for {r.get('for', '0m')})" for r in group["rules"] if "alert" in r]
            lines.append(f"  alerts {group['name']}: {', '.join(alerts)}")
    return lines


def dashboard_lines(run: ProgramRun) -> list[str]:
    names = [
        f"{cm['metadata']['namespace']}/{cm['metadata']['name']}"
        for cm in _objects(run, "ConfigMap")
        if (cm["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"
    ]
    lines = [f"  dashboards (Grafana sidecar ConfigMaps): {', '.join(sorted(names))}"] if names else []
    forward = run.outputs.get("grafanaPortForward")
    if forward:
        lines.append(f"  Grafana: {forward}, then http://localhost:3000 (user admin, "
                     "password: pulumi stack output grafanaAdminPassword --show-secrets)")  # fmt: skip
    return lines


def summary_lines(run: ProgramRun) -> list[str]:
    body = scrape_lines(run) + alert_lines(run) + dashboard_lines(run)
    if not body and run.of_type("oci:DataScience/modelDeployment:ModelDeployment"):
        return ["", "Observability: OCI Monitoring and the deployment's access and predict logs (no cluster to scrape)"]
    if not body:
        return ["", "Observability: off (no Prometheus Operator: set observability.install: true, or "
                    "observability.prometheusOperator: true where one runs)"]  # fmt: skip
    return ["", "Observability:", *body]
