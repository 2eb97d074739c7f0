"""Observability: every scrape target selects the pods it means, every dashboard and alert query uses
metric names the pinned vLLM / dcgm-exporter / kube-state-metrics really export, Grafana stays private."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import promql_parser
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from components.observability import alerts, dashboards, gpu_metrics
from components.observability.queries import ModelSeries, RouterSeries
from components.workloads.types import GpuPlacement
from stacks import catalog
from tests.harness import config_error, default_run, k8s_objects, preview
from tools.k8s_semantics import Plan, _selector_matches

# ------------------------------------------------------------------------------------------
# Metric names


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression selects, from a real PromQL parser's syntax tree."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)
        elif isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                walk(arg)
        elif isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
        elif isinstance(node, promql_parser.AggregateExpr):
            walk(node.expr)
            if node.param is not None:
                walk(node.param)
        elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr):
            walk(node.expr)

    walk(promql_parser.parse(expr))
    return names


def unknown_metrics(expr: str) -> set[str]:
    return metric_names(expr) - catalog.exposed_metric_names()


def plan_queries(run) -> list[str]:
    """Every PromQL expression the stack would hand Prometheus and Grafana: rules and dashboard panels."""
    exprs = []
    for obj in k8s_objects(run):
        if obj["kind"] == "PrometheusRule":
            exprs += [rule["expr"] for group in obj["spec"]["groups"] for rule in group["rules"]]
        if obj["kind"] == "ConfigMap" and (obj["metadata"].get("labels") or {}).get("grafana_dashboard") == "1":
            for text in obj["data"].values():
                exprs += [t["expr"] for panel in json.loads(text)["panels"] for t in panel["targets"]]
    return exprs


def test_the_parser_finds_every_metric_of_a_query():
    expr = 'sum(rate(a_total{x="1"}[5m])) / clamp_min(sum(rate(b_total[5m])), 1) > bool histogram_quantile(0.9, sum by (le) (rate(c_bucket[1m])))'
    assert metric_names(expr) == {"a_total", "b_total", "c_bucket"}


@pytest.mark.parametrize("stack", ["doks", "existing-cluster"])
def test_every_dashboard_and_alert_query_uses_metrics_the_pinned_releases_export(stack):
    queries = plan_queries(default_run(stack))
    assert len(queries) > 20
    assert {q: unknown_metrics(q) for q in queries if unknown_metrics(q)} == {}


# One name of each kind of alert target (alerts.ServerTarget).
SERVER_KINDS = {"deployment": "vllm", "deployments": "m-predictor-[0-9]{5,}-deployment", "scrapeJob": "vllm"}


def test_every_query_of_every_server_kind_uses_known_metrics():
    assert set(SERVER_KINDS) == set(typing.get_args(typing.get_type_hints(alerts.ServerTarget)["kind"]))
    series = ModelSeries("ns", "m")
    groups = [
        *[
            alerts.model_rules(series, alerts.ServerTarget(kind, name), alerts.AlertThresholds())
            for kind, name in SERVER_KINDS.items()
        ],
        alerts.job_rules("ns"),
        alerts.gpu_rules(),
        alerts.front_door_rules(RouterSeries("ns", "vllm-entry"), alerts.AlertThresholds()),
    ]
    panels = [*dashboards.model_dashboard("u", series)["panels"], *dashboards.gpu_dashboard("g")["panels"],
              *dashboards.front_door_dashboard("d", RouterSeries("ns", "vllm-entry"))["panels"]]  # fmt: skip
    queries = alerts.rule_expressions(groups) + [t["expr"] for p in panels for t in p["targets"]]
    assert {q: unknown_metrics(q) for q in queries if unknown_metrics(q)} == {}


def test_the_check_rejects_names_the_pinned_vllm_no_longer_exports():
    # vLLM's V0 engine exported the KV cache as vllm:gpu_cache_usage_perc; 0.33's V1 logger has
    # vllm:kv_cache_usage_perc. A dashboard copied from an old release would silently show nothing.
    assert unknown_metrics("max(vllm:gpu_cache_usage_perc)") == {"vllm:gpu_cache_usage_perc"}
    assert unknown_metrics("max(vllm:kv_cache_usage_perc)") == set()


def test_the_metric_list_belongs_to_the_pinned_vllm_image():
    assert catalog.VLLM_IMAGE.endswith(f":v{catalog.VLLM_METRICS_VERSION}")


def test_exposed_names_follow_what_prometheus_client_prints():
    """vLLM registers its metrics with prometheus_client: the suffixes catalog.exposed_metric_names
    expects are the ones the library prints (counter `_total`, histogram `_bucket`/`_sum`/`_count`)."""
    registry = CollectorRegistry()
    makers = {"gauge": Gauge, "counter": Counter, "histogram": Histogram}
    for name, kind in catalog.VLLM_METRICS.items():
        makers[kind](name, "doc", ["model_name", "engine"], registry=registry).labels("m", "0")
    printed = {
        line.split("{")[0].split(" ")[0]
        for line in generate_latest(registry).decode().splitlines()
        if line and not line.startswith("#") and not line.split("{")[0].endswith("_created")
    }
    assert printed == {n for n in catalog.exposed_metric_names() if n.startswith("vllm:")}


def test_the_stack_exporter_collects_exactly_the_listed_dcgm_fields():
    run = default_run("doks")
    counters = next(
        o for o in k8s_objects(run) if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "dcgm-exporter-counters"
    )
    rows = [line.split(",")[0] for line in counters["data"]["counters.csv"].splitlines() if not line.startswith("#")]
    assert set(rows) == set(catalog.DCGM_METRICS)
    assert not any(r.startswith("DCGM_FI_PROF_") for r in rows)  # profiling fields need SYS_ADMIN


# ------------------------------------------------------------------------------------------
# Scrape targets select the pods they mean


def _pods(plan: Plan, namespace: str, selector: dict[str, Any]):
    return [t for t in plan.templates if t.namespace == namespace and _selector_matches(selector, t.labels)]


def _port_names(template) -> set[str]:
    return {p.get("name") for _, c in template.containers(include_init=False) for p in c.get("ports") or []}


def _pod_monitor(plan: Plan, name: str) -> dict[str, Any]:
    (monitor,) = [m for m in plan.of_kind("PodMonitor") if m["metadata"]["name"] == name]
    return monitor


def test_the_pod_monitor_scrapes_the_vllm_pods_on_their_api_port():
    run = default_run("doks")
    plan = Plan(k8s_objects(run))
    monitor = _pod_monitor(plan, "vllm")
    spec = monitor["spec"]
    pods = _pods(plan, spec["namespaceSelector"]["matchNames"][0], spec["selector"])
    assert [t.owner["kind"] for t in pods] == ["Deployment"]
    endpoint = spec["podMetricsEndpoints"][0]
    assert endpoint["path"] == "/metrics"
    vllm = next(c for _, c in pods[0].containers() if c["name"] == "vllm")
    assert {"name": endpoint["port"], "containerPort": 8000} in vllm["ports"]
    assert vllm["args"][vllm["args"].index("--port") + 1] == "8000"


def test_on_ray_only_the_head_is_scraped_where_vllm_serves():
    plan = Plan(k8s_objects(default_run("existing-cluster")))
    monitor = _pod_monitor(plan, "vllm")
    pods = _pods(plan, monitor["spec"]["namespaceSelector"]["matchNames"][0], monitor["spec"]["selector"])
    assert [(t.owner["kind"], t.path) for t in pods] == [("RayCluster", "spec.headGroupSpec.template")]
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] in _port_names(pods[0])
    # The no-ready-replica alert watches that scrape job: the PodMonitor names it after the pod label.
    job = pods[0].labels[monitor["spec"]["jobLabel"]]
    rules = next(o for o in plan.of_kind("PrometheusRule") if o["metadata"]["name"] == "vllm")
    no_replica = next(r for g in rules["spec"]["groups"] for r in g["rules"] if r["alert"] == "VllmNoReadyReplica")
    assert f'job="{job}"' in no_replica["expr"]


@pytest.mark.parametrize("stack", ["doks", "existing-cluster"])  # the stacks whose config turns monitoring on
def test_the_front_door_pod_monitor_scrapes_the_routers_metrics_port(stack):
    plan = Plan(k8s_objects(default_run(stack)))
    monitor = _pod_monitor(plan, "vllm-entry")
    pods = _pods(plan, monitor["spec"]["namespaceSelector"]["matchNames"][0], monitor["spec"]["selector"])
    assert [t.owner["metadata"]["name"] for t in pods] == ["vllm-entry"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (router,) = [c for _, c in pods[0].containers() if c["name"] == "router"]
    (port,) = [p for p in router["ports"] if p["name"] == endpoint["port"]]
    # The port the router serves its metrics on: its own --prometheus-port.
    assert str(port["containerPort"]) == router["args"][router["args"].index("--prometheus-port") + 1] == "29000"
    # Its alerts watch the job this PodMonitor names (the door pods' label it takes the job from).
    job = pods[0].labels[monitor["spec"]["jobLabel"]]
    rules = next(o for o in plan.of_kind("PrometheusRule") if o["metadata"]["name"] == "vllm-entry")
    assert all(f'job="{job}"' in r["expr"] for g in rules["spec"]["groups"] for r in g["rules"])


def test_prometheus_reaches_the_door_only_on_the_routers_metrics_port():
    """The door's pods: the metrics port admits the monitoring namespace and nobody else; no other rule
    lets that namespace (or anyone) reach the router's port."""
    plan = Plan(k8s_objects(default_run("doks")))
    door_labels = next(d for d in plan.of_kind("Deployment") if d["metadata"]["name"] == "vllm-entry")["spec"][
        "template"
    ]["metadata"]["labels"]
    rules = [
        (rule.get("from"), sorted(p["port"] for p in rule.get("ports") or []))
        for policy in plan.of_kind("NetworkPolicy")
        if _selector_matches(policy["spec"]["podSelector"], door_labels)
        for rule in policy["spec"].get("ingress") or []
    ]
    metrics_rules = [(peers, ports) for peers, ports in rules if 29000 in ports]
    monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert metrics_rules == [(monitoring, [29000])]
    assert [(peers, ports) for peers, ports in rules if peers == monitoring] == metrics_rules


def test_the_no_ready_replica_alert_watches_the_vllm_deployment():
    plan = Plan(k8s_objects(default_run("doks")))
    rules = next(o for o in plan.of_kind("PrometheusRule") if o["metadata"]["name"] == "vllm")
    expr = next(r["expr"] for g in rules["spec"]["groups"] for r in g["rules"] if r["alert"] == "VllmNoReadyReplica")
    deployments = {d["metadata"]["name"] for d in plan.of_kind("Deployment") if d["metadata"]["namespace"] == "vllm"}
    (named,) = re.findall(r'deployment="([^"]+)"', expr)[:1]
    assert named in deployments and "vllm" in named


def test_the_gpu_service_monitor_reaches_the_dcgm_exporter_on_every_gpu_node():
    plan = Plan(k8s_objects(default_run("doks")))
    (monitor,) = plan.of_kind("ServiceMonitor")
    namespace = monitor["spec"]["namespaceSelector"]["matchNames"][0]
    services = [s for s in plan.of_kind("Service") if s["metadata"]["namespace"] == namespace
                and _selector_matches(monitor["spec"]["selector"], s["metadata"].get("labels") or {})]  # fmt: skip
    assert [s["metadata"]["name"] for s in services] == ["dcgm-exporter"]
    (service,) = services
    port = next(p for p in service["spec"]["ports"] if p["name"] == monitor["spec"]["endpoints"][0]["port"])
    pods = _pods(plan, namespace, {"matchLabels": service["spec"]["selector"]})
    assert [t.owner["kind"] for t in pods] == ["DaemonSet"]
    assert port["targetPort"] in _port_names(pods[0])
    # On the GPU nodes: the vLLM pods' node selector and tolerations.
    vllm = next(t for t in plan.templates if t.owner["kind"] == "Deployment" and t.owner["metadata"]["name"] == "vllm")
    assert pods[0].spec["nodeSelector"] == vllm.spec["nodeSelector"]
    assert pods[0].spec["tolerations"] == vllm.spec["tolerations"]


def _admits(pod_spec: dict[str, Any], labels: dict[str, str], taints: list[dict[str, str]]) -> bool:
    """Whether the scheduler may put the pod on a node with these labels and NoSchedule taints."""
    if not (pod_spec.get("nodeSelector") or {}).items() <= labels.items():
        return False
    terms = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms")  # fmt: skip
    if terms is not None and not any(
        all(e["operator"] == "In" and labels.get(e["key"]) in e["values"] for e in t["matchExpressions"]) for t in terms
    ):
        return False
    tolerated = {t["key"] for t in pod_spec.get("tolerations") or [] if t["operator"] == "Exists"}
    return all(t["key"] in tolerated for t in taints if t["effect"] == "NoSchedule")


def test_the_dcgm_exporter_runs_on_the_nodes_of_every_gpu_pool():
    from tests.test_router import two_models  # the two-pool example, previewed once per session

    run = two_models()
    (exporter,) = [o for o in k8s_objects(run) if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "dcgm-exporter"]
    pod = exporter["spec"]["template"]["spec"]
    pools = [r.inputs for r in run.registered() if r.type == "digitalocean:index/kubernetesNodePool:KubernetesNodePool"]
    system = next(r.inputs for r in run.registered() if r.type.endswith("KubernetesCluster"))["nodePool"]
    assert len(pools) == 2
    for pool in pools:
        assert _admits(pod, pool["labels"], pool["taints"]), pool["name"]
    assert not _admits(pod, system["labels"], []), "not on the CPU nodes: no GPU there"


def test_a_failed_download_job_pages_once_however_many_models():
    from tests.test_router import two_models

    alerts_ = [r["alert"] for o in k8s_objects(two_models()) if o["kind"] == "PrometheusRule"
               for g in o["spec"]["groups"] for r in g["rules"]]  # fmt: skip
    assert alerts_.count("VllmNoReadyReplica") == 2
    assert alerts_.count("ModelStoreJobFailed") == 1


def test_one_gpu_pool_keeps_a_plain_node_selector():
    a = GpuPlacement(node_selector={"pool": "a"})
    assert gpu_metrics.exporter_scheduling([a, a]) == gpu_metrics.Scheduling({"pool": "a"}, None, a.tolerations())
    # A pool that selects no labels (an existing cluster's GPU nodes) leaves the exporter unrestricted.
    anywhere = gpu_metrics.exporter_scheduling([a, GpuPlacement(node_selector={})])
    assert (anywhere.node_selector, anywhere.affinity) == ({}, None)


def test_prometheus_namespace_may_reach_vllm_and_the_exporter_ports():
    plan = Plan(k8s_objects(default_run("doks")))
    admitted = {
        (policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name"), str(port["port"]))
        for policy in plan.of_kind("NetworkPolicy")
        for rule in policy["spec"].get("ingress") or []
        if any(
            (peer.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "monitoring"
            for peer in rule.get("from") or []
        )
        for port in rule.get("ports") or []
    }
    assert ("vllm", "8000") in admitted
    assert ("dcgm-exporter", "metrics") in admitted


def test_a_gpu_operator_exporter_is_scraped_instead_of_a_second_one():
    run = preview("existing-cluster", existing={"openshift": False, "installGpuOperator": True},
                  observability={"prometheusOperator": False, "install": True, "namespace": "monitoring"})  # fmt: skip
    assert run.error is None, run.error
    objects = k8s_objects(run)
    assert not [o for o in objects if o["kind"] == "DaemonSet"]
    (monitor,) = [o for o in objects if o["kind"] == "ServiceMonitor"]
    assert monitor["metadata"]["namespace"] == "gpu-operator"
    # oci-hpc-oke terraform/oke-addons.tf: the operator's exporter Service and port.
    assert monitor["spec"]["selector"] == {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
    assert monitor["spec"]["endpoints"][0]["port"] == "gpu-metrics"
    # The operator deletes a ServiceMonitor named like its own when its serviceMonitor is off.
    assert monitor["metadata"]["name"] != "nvidia-dcgm-exporter"


# ------------------------------------------------------------------------------------------
# The installed stack: small, private Grafana


def test_grafana_is_reachable_only_by_port_forward_with_a_generated_password():
    run = default_run("doks")
    release = next(
        r
        for r in run.registered()
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "kube-prometheus-stack"
    )
    values = release.inputs["values"]
    assert release.inputs["version"] == catalog.KUBE_PROMETHEUS_STACK_CHART["version"]
    assert values["grafana"]["service"]["type"] == "ClusterIP"
    assert "ingress" not in values["grafana"] or not values["grafana"]["ingress"].get("enabled")
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    secret = next(
        r for r in run.registered() if r.type == "kubernetes:core/v1:Secret" and r.name.endswith("grafana-admin")
    )
    assert secret.inputs["stringData"]["admin-password"] == "[secret]"
    assert run.outputs["grafanaAdminPassword"] == "[secret]"
    assert "port-forward" in run.outputs["grafanaPortForward"]
    # Prometheus selects every ServiceMonitor/PodMonitor/PrometheusRule, not only the chart's own.
    spec = values["prometheus"]["prometheusSpec"]
    assert not spec["serviceMonitorSelectorNilUsesHelmValues"] and not spec["podMonitorSelectorNilUsesHelmValues"]
    assert not spec["ruleSelectorNilUsesHelmValues"]


def test_no_monitoring_resources_without_a_prometheus_operator():
    run = preview("doks", observability={"install": False})
    assert run.error is None
    kinds = {o["kind"] for o in k8s_objects(run)}
    assert not kinds & {"PodMonitor", "ServiceMonitor", "PrometheusRule"}
    assert not [o for o in k8s_objects(run) if o["kind"] == "DaemonSet"]


def test_installing_next_to_an_existing_operator_is_refused_with_one_line():
    message = config_error(preview("doks", observability={"install": True, "prometheusOperator": True}))
    assert "observability.install" in message and "prometheusOperator" in message


# ------------------------------------------------------------------------------------------
# The exporter's pod on a real node


def _exporter_pod(run) -> dict[str, Any]:
    (exporter,) = [o for o in k8s_objects(run) if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "dcgm-exporter"]
    return exporter["spec"]["template"]["spec"]


def test_the_exporters_read_only_root_filesystem_keeps_a_writable_tmp():
    # NVIDIA/dcgm-exporter 4.5.3-4.8.2 deployment/values.yaml: "readOnlyRootFilesystem: true  # Enable if tmpfs
    # volumes are configured"; without one DCGM has nowhere to write.
    pod = _exporter_pod(default_run("doks"))
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert not tmp.get("readOnly") and "emptyDir" in volumes[tmp["name"]]


def test_the_exporter_runs_under_the_nvidia_runtime_class_when_configured():
    # It requests no GPU: only the NVIDIA runtime gives it NVML (dcgm-exporter issue #612).
    assert "runtimeClassName" not in _exporter_pod(default_run("doks"))
    run = preview("doks", observability={"install": True, "gpuRuntimeClass": "nvidia"})
    assert run.error is None, run.error
    assert _exporter_pod(run)["runtimeClassName"] == "nvidia"


def test_every_dashboard_uid_fits_grafanas_40_characters_and_stays_distinct():
    # Grafana: "uid too long, max 40 characters" (ErrDashboardUidTooLong); its sidecar then loads nothing.
    import yaml

    from tests.test_router import TWO_MODELS

    config = yaml.safe_load(TWO_MODELS.read_text())["config"]
    namespace = "serving-" + "n" * 32  # 40 characters, the longest llm-serving:namespace allows
    config["llm-serving:namespace"] = namespace
    run = preview("doks", raw=config)
    assert run.error is None, run.error
    uids = [json.loads(text)["uid"] for o in k8s_objects(run) if o["kind"] == "ConfigMap"
            and (o["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"
            for text in o["data"].values()]  # fmt: skip
    assert len(uids) == 4  # two models, the front door, the GPUs
    assert all(len(uid) <= 40 for uid in uids), uids
    assert len(set(uids)) == len(uids), uids
    assert dashboards.dashboard_uid("vllm", "gpus") == "vllm-gpus"  # short ones unchanged


def test_every_pod_of_the_installed_chart_but_node_exporter_stays_on_the_system_pool():
    # kube-prometheus-stack 87.2.1 values.yaml: the node selectors of the pods it runs by default (thanosRuler
    # and the CRD upgrade Job are off); node-exporter runs on every node (its chart tolerates every NoSchedule
    # taint: prometheus-node-exporter 4.55.0 values.yaml `tolerations: [{effect: NoSchedule, operator: Exists}]`).
    run = default_run("doks")
    values = next(r.inputs["values"] for r in run.registered()
                  if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "kube-prometheus-stack")  # fmt: skip
    system = next(r.inputs for r in run.registered() if r.type.endswith("KubernetesCluster"))["nodePool"]["labels"]
    placed = {
        "prometheus": values["prometheus"]["prometheusSpec"],
        "alertmanager": values["alertmanager"]["alertmanagerSpec"],
        "operator": values["prometheusOperator"],
        "webhook certificate Job": values["prometheusOperator"]["admissionWebhooks"]["patch"],
        "kube-state-metrics": values["kube-state-metrics"],
        "grafana": values["grafana"],
    }
    for component, spec in placed.items():
        assert spec.get("nodeSelector") and spec["nodeSelector"].items() <= system.items(), component
    assert "prometheus-node-exporter" not in values


def test_gpu_legends_and_alert_text_name_labels_dcgm_exporter_really_sets():
    # dcgm-exporter's labels (stacks/catalog/metrics.yaml, render_metrics.go at the pinned tags): a legend
    # or alert text naming another label prints nothing. Upstream renames Hostname to hostname after our pin.
    legends = [t["legendFormat"] for p in dashboards.gpu_dashboard("u")["panels"] for t in p.get("targets", [])]
    texts = [v for r in alerts.gpu_rules()["rules"] for v in r.get("annotations", {}).values()]
    used = {m for text in legends for m in re.findall(r"\{\{\s*(\w+)\s*\}\}", text)}
    used |= {m for text in texts for m in re.findall(r"\$labels\.(\w+)", text)}
    assert used and used <= catalog.DCGM_LABELS, used - catalog.DCGM_LABELS


def test_the_gpu_operators_service_monitor_waits_for_the_namespace_the_operator_chart_creates():
    # Its namespace is the GPU Operator's (created with its chart); with a Prometheus Operator already there
    # nothing else orders them, and a ServiceMonitor in a namespace not yet created fails the first `up`.
    run = preview("existing-cluster", existing={"openshift": False, "installGpuOperator": True},
                  observability={"prometheusOperator": True, "install": False, "namespace": "monitoring"})  # fmt: skip
    assert run.error is None, run.error
    by_urn = {r.urn: r for r in run.registered()}
    (namespace,) = [r for r in run.registered() if r.type == "kubernetes:core/v1:Namespace"
                    and r.inputs["metadata"]["name"] == "gpu-operator"]  # fmt: skip
    (monitor,) = [r for r in run.registered() if r.type.endswith("ServiceMonitor")]
    waits, seen = [monitor.urn], set()  # its own dependencies and, through its parents, theirs
    while waits:
        urn = waits.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        waits += by_urn[urn].dependencies + ([by_urn[urn].parent] if by_urn[urn].parent else [])
    assert namespace.urn in seen
