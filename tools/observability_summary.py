"""The preview summary's observability block, read from the plan: what is scraped, which alerts exist,
where the dashboards are and how to open them, and the autoscaling bounds."""

from __future__ import annotations

from typing import Any

from tools import estimates
from tools.engine import ProgramRun, ResourceRecord


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
        lines = ["", "Observability: off (no Prometheus Operator: set observability.install: true, or "
                     "observability.prometheusOperator: true where one runs)"]  # fmt: skip
    else:
        lines = ["", "Observability:", *body]
    scaling = scaling_lines(run)
    return lines + (["Autoscaling:", *scaling] if scaling else ["Autoscaling: off (fixed replicas and GPU nodes)"])


def _gpu_pools(run: ProgramRun) -> list[ResourceRecord]:
    return [r for r in run.registered() if estimates.is_gpu_provisioning(r)]


def scaling_lines(run: ProgramRun) -> list[str]:
    """Replica and node bounds, and what one more replica costs in time (the preview's estimates)."""
    lines: list[str] = []
    for so in _objects(run, "ScaledObject"):
        spec, meta = so["spec"], so["metadata"]
        triggers = {t["name"]: t["metadata"]["threshold"] for t in spec["triggers"]}
        down = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
        lines.append(
            f"  replicas {meta['namespace']}/{spec['scaleTargetRef']['name']}: {spec['minReplicaCount']}-"
            f"{spec['maxReplicaCount']} (KEDA ScaledObject: waiting requests per replica > {triggers['waiting-requests']}, "
            f"mean KV-cache usage > {triggers['kv-cache-usage']}; one replica at a time, after "
            f"{down['stabilizationWindowSeconds']} s of low load)"
        )
    for r in run.registered():
        if r.type == "digitalocean:index/kubernetesNodePool:KubernetesNodePool" and r.inputs.get("autoScale"):
            lines.append(
                f"  GPU nodes {r.inputs['name']}: {r.inputs['minNodes']}-{r.inputs['maxNodes']} (DOKS node-pool auto_scale)"
            )
        if r.type == "oci:ContainerEngine/addon:Addon" and r.inputs.get("addonName") == "ClusterAutoscaler":
            for c in r.inputs.get("configurations") or []:
                for bound in str(c.get("value", "")).split(","):
                    lo, hi, pool = bound.split(":", 2) if bound.count(":") >= 2 else ("?", "?", bound)
                    lines.append(f"  GPU nodes {pool}: {lo}-{hi} (OKE Cluster Autoscaler add-on)")
    targets = {so["spec"]["scaleTargetRef"]["name"] for so in _objects(run, "ScaledObject")}
    if lines and targets:
        deployment = next((r for r in run.registered() if r.type == "kubernetes:apps/v1:Deployment"
                           and r.inputs["metadata"].get("name") in targets), None)  # fmt: skip
        if deployment is not None:
            gb, _basis = estimates.model_size_gb(estimates.model_of(run))
            start, _, _ = estimates._duration(deployment, gb)
            node = max((estimates._duration(p, None)[0] for p in _gpu_pools(run)), default=0.0)
            lines.append(
                f"  cold start of one more replica ESTIMATE: ~{start / 60:.1f} min (image pull, engine start, "
                f"{gb or 0:.1f} GB of weights) on a free GPU node; ~{(start + node) / 60:.1f} min when a GPU node "
                "must be added first"
            )
            for so in _objects(run, "ScaledObject"):
                spec = so["spec"]
                if spec["minReplicaCount"] == 0:
                    lines.append(
                        f"  scale to zero {so['metadata']['namespace']}/{spec['scaleTargetRef']['name']}: after "
                        f"{spec['cooldownPeriod']} s without traffic. At zero the front door answers 503 (no available "
                        "workers) and that request wakes the model (within a scrape and a KEDA poll): clients retry "
                        f"until it serves again, ESTIMATE ~{start / 60:.1f} min later (~{(start + node) / 60:.1f} min "
                        "when a GPU node must be added first)"
                    )
    if any(r.type == "kubernetes:ray.io/v1:RayCluster" for r in run.registered()):
        lines.append("  multi-node Ray replica: not autoscaled (one replica spans every GPU node)")
    return lines
