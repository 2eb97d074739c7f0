"""Every PrometheusRule the program writes, checked by Prometheus's own promtool (from Debian's
`prometheus` package; `make promtool` takes the binary out of it): `promtool check rules` parses each
expression and template as Prometheus will, and `promtool test rules` evaluates the alerts on series
shaped as the exporters print them (names from stacks/catalog/metrics.yaml; the labels Prometheus adds
when scraping: namespace, job)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import knative
from tests.harness import EXAMPLES, KUBERNETES_STACKS, default_run, example_run, k8s_objects, preview

PROMTOOL = Path(__file__).resolve().parents[1] / ".tools" / "prometheus" / "usr" / "bin" / "promtool"


def rule_groups(run) -> list[dict[str, Any]]:
    return [g for o in k8s_objects(run) if o["kind"] == "PrometheusRule" for g in o["spec"]["groups"]]


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), "promtool missing: run `make promtool` (make test does)"
    return subprocess.run([str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def kserve_run(mode: str):
    """tests/configs/existing-rhoai-kserve.yaml (two InferenceServices, monitored by OpenShift's
    user-workload Prometheus) in a KServe deployment mode."""
    from tests.test_kserve import KNOWN, SERVERLESS, STACK, example

    kserve = SERVERLESS if mode == "Serverless" else {"deploymentMode": mode}
    run = preview(STACK, raw=example(existing={"kserve": kserve}), secrets={"secrets": KNOWN})
    assert run.error is None, run.error
    return run


def test_every_generated_rule_passes_promtool_check(tmp_path):
    from tests.test_router import two_models  # two models: two rule groups of each kind

    runs = {stack: default_run(stack) for stack in KUBERNETES_STACKS} | {"doks-two-models": two_models()}
    runs |= {f"kserve-{mode}": kserve_run(mode) for mode in ("RawDeployment", "Serverless")}
    runs |= {f"example-{name}": example_run(name) for name in EXAMPLES}  # tests/configs/*.yaml
    assert all(rule_groups(runs[f"kserve-{mode}"]) for mode in ("RawDeployment", "Serverless"))
    files = []
    for stack, run in runs.items():
        groups = rule_groups(run)
        if groups:
            path = tmp_path / f"{stack}.yaml"
            path.write_text(yaml.safe_dump({"groups": groups}))
            files.append(path.name)
    assert len(files) >= 3
    result = promtool("check", "rules", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_promtool_check_rejects_a_broken_expression(tmp_path):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "A", "expr": "sum(rate(vllm:num_requests_waiting[5m])"}]}]}))  # fmt: skip
    assert promtool("check", "rules", "bad.yaml", cwd=tmp_path).returncode != 0


def _alert(eval_time: str, name: str, labels: dict[str, str] | None = None, summary: str = "") -> dict[str, Any]:
    """An alert_rule_test: the alert firing once with these labels and summary, or (labels None) not firing."""
    fired = [{"exp_labels": labels, "exp_annotations": {"summary": summary}}] if labels is not None else []
    return {"eval_time": eval_time, "alertname": name, "exp_alerts": fired}


# The doks stack's rules: namespace vllm, the model Qwen/Qwen2.5-0.5B-Instruct served as its config names
# it, Deployment vllm, the door's scrape job vllm-entry.
NS = 'namespace="vllm"'
DOOR = f'{NS}, job="vllm-entry"'


def _cases(model: str, summaries: dict[str, str]) -> list[dict[str, Any]]:
    vllm = f'{NS}, model_name="{model}", engine="0"'
    ours = {"namespace": "vllm", "model_name": model}  # the model rules' own labels

    def fires(at: str, name: str, severity: str, **labels: str) -> dict[str, Any]:
        return _alert(at, name, {"severity": severity, **labels}, summaries[name])

    return [
        {   # The door answers 1 req/s and fails 0.2/s: 17 % of all requests, above the 5 % objective.
            "interval": "1m",
            "input_series": [
                {"series": f'vllm_router_requests_total{{{DOOR}, route="/v1/chat/completions"}}', "values": "0+60x40"},
                {"series": f'vllm_router_request_errors_total{{{DOOR}, route="/v1/chat/completions", '
                           'error_type="non_retryable_error"}', "values": "0+12x40"},
                {"series": f'up{{{DOOR}, pod="vllm-entry-a"}}', "values": "1x40"},
            ],
            "alert_rule_test": [fires("30m", "VllmFrontDoorErrors", "warning"), _alert("30m", "VllmFrontDoorDown")],
        },
        {   # No door pod answers its scrape.
            "interval": "1m",
            "input_series": [{"series": f'up{{{DOOR}, pod="vllm-entry-a"}}', "values": "0x20"}],
            "alert_rule_test": [fires("10m", "VllmFrontDoorDown", "critical")],
        },
        {   # A full KV cache on one replica, and a queue that keeps growing.
            "interval": "1m",
            "input_series": [
                {"series": f'vllm:kv_cache_usage_perc{{{vllm}, pod="vllm-a"}}', "values": "0.97x20"},
                {"series": f'vllm:num_requests_waiting{{{vllm}, pod="vllm-a"}}', "values": "1+1x20"},
            ],
            "alert_rule_test": [fires("15m", "VllmKvCacheFull", "warning", **ours),
                                fires("15m", "VllmQueueGrowing", "warning", **ours)],
        },
        {   # The Deployment wants a replica and none is available; at zero wanted (scaled down) no page.
            "interval": "1m",
            "input_series": [
                {"series": f'kube_deployment_spec_replicas{{{NS}, deployment="vllm"}}', "values": "1x10 0x10"},
                {"series": f'kube_deployment_status_replicas_available{{{NS}, deployment="vllm"}}', "values": "0x20"},
            ],
            "alert_rule_test": [fires("8m", "VllmNoReadyReplica", "critical", deployment="vllm", **ours),
                                _alert("19m", "VllmNoReadyReplica")],
        },
        {   # A GPU's last XID, and a failed weights download Job.
            "interval": "1m",
            "input_series": [
                {"series": f'DCGM_FI_DEV_XID_ERRORS{{{NS}, gpu="0", Hostname="node-1", UUID="GPU-1"}}', "values": "0 79x5"},
                {"series": f'kube_job_failed{{{NS}, job_name="model-download-ab12", condition="true"}}', "values": "1x5"},
            ],
            "alert_rule_test": [
                _alert("3m", "GpuXidError", {"severity": "critical", "namespace": "vllm", "gpu": "0",
                                             "Hostname": "node-1", "UUID": "GPU-1"}, "GPU 0 on node-1 reported XID 79"),
                fires("3m", "ModelStoreJobFailed", "critical", namespace="vllm", job_name="model-download-ab12",
                      condition="true"),
            ],
        },
    ]  # fmt: skip


def test_the_alerts_fire_on_the_series_the_exporters_print(tmp_path):
    run = default_run("doks")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(run)}))
    model = run.outputs["servedModelName"]
    summaries = {r["alert"]: r["annotations"]["summary"] for g in rule_groups(run) for r in g["rules"]}
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": _cases(model, summaries)}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", ["doks"])
def test_a_quiet_stack_pages_nobody(tmp_path, stack):
    """Healthy series (a ready replica, an idle door, no XID): no alert fires."""
    run = default_run(stack)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups(run)}))
    model = run.outputs["servedModelName"]
    vllm = f'{NS}, model_name="{model}", engine="0"'
    series = [
        (f'up{{{DOOR}, pod="vllm-entry-a"}}', "1x30"),
        (f'vllm_router_requests_total{{{DOOR}, route="/v1/chat/completions"}}', "0+30x30"),
        (f'vllm:kv_cache_usage_perc{{{vllm}, pod="vllm-a"}}', "0.3x30"),
        (f'vllm:num_requests_waiting{{{vllm}, pod="vllm-a"}}', "0x30"),
        (f'kube_deployment_spec_replicas{{{NS}, deployment="vllm"}}', "1x30"),
        (f'kube_deployment_status_replicas_available{{{NS}, deployment="vllm"}}', "1x30"),
        (f'DCGM_FI_DEV_XID_ERRORS{{{NS}, gpu="0", Hostname="node-1", UUID="GPU-1"}}', "0x30"),
    ]
    alerts = [r["alert"] for g in rule_groups(run) for r in g["rules"]]
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [_alert("25m", a) for a in alerts],
    }]}  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wake_signal_is_1_from_the_first_refused_request_and_0_when_idle(tmp_path):
    """The scale-to-zero trigger's query (components/observability/queries.RouterSeries.wake), evaluated by
    promtool as a recording rule: the router creates its refusal counter at the first refusal (5 with its
    retries), so a series that just appeared must already wake the model."""
    from components.observability.queries import ModelSeries, RouterSeries

    wake = RouterSeries("vllm", "vllm-entry").wake(ModelSeries("vllm", "m"))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "w", "rules": [
        {"record": "wake", "expr": wake}]}]}))  # fmt: skip
    refused = f'vllm_router_request_errors_total{{{DOOR}, route="/v1/chat/completions", error_type="no_available_workers", pod="a"}}'
    answered = f'vllm_router_requests_total{{{DOOR}, route="/v1/chat/completions", pod="a"}}'
    running = 'vllm:num_requests_running{namespace="vllm", model_name="m", pod="vllm-a"}'

    def case(series: list[tuple[str, str]], at: str, value: int) -> dict[str, Any]:
        return {"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series],
                "promql_expr_test": [{"expr": "wake", "eval_time": at, "exp_samples": [{"labels": "wake", "value": value}]}]}  # fmt: skip

    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [
        case([(refused, "_x5 5x10")], "6m", 1),        # the first refusal ever: a new series
        case([(refused, "5x5 10x5")], "6m", 1),        # a later refusal: the counter rises
        case([(refused, "5x20")], "15m", 0),           # long quiet: back to zero after the cooldown
        case([(answered, "0+30x10")], "8m", 1),        # traffic served: keep the replica
        case([(running, "1x10")], "8m", 1),            # a long generation still running
        case([(answered, "30x10"), (running, "0x10")], "8m", 0),
    ]}  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# The KServe example's rules: namespace private-ai, InferenceService mistral-small-24b-fp8 serving the model
# of that name; Prometheus takes the job from the isvc label (the PodMonitor's jobLabel).
KS_NS = "private-ai"
ISVC = "mistral-small-24b-fp8"


def _kserve_deployments(mode: str) -> list[str]:
    """The predictor's Deployments: KServe's one in RawDeployment, Knative's revisions 1 and 2 under
    Serverless (tests/knative.py)."""
    if mode == "RawDeployment":
        return [f"{ISVC}-predictor"]
    return [knative.deployment_name(knative.revision_name(f"{ISVC}-predictor", g)) for g in (1, 2)]


@pytest.mark.parametrize("mode", ["RawDeployment", "Serverless"])
def test_the_kserve_alerts_fire_for_the_predictor_series_and_stay_silent_when_healthy(tmp_path, mode):
    run = kserve_run(mode)
    groups = rule_groups(run)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    alerts = {r["alert"] for g in groups for r in g["rules"]}
    summaries = {
        r["alert"]: r["annotations"]["summary"] for g in groups if g["name"] == f"vllm-{ISVC}" for r in g["rules"]
    }
    ours = {"severity": "critical", "namespace": KS_NS, "model_name": ISVC}
    vllm = f'namespace="{KS_NS}", job="{ISVC}", model_name="{ISVC}", engine="0", pod="{ISVC}-predictor-a"'
    deployments = _kserve_deployments(mode)
    first, last = deployments[0], deployments[-1]

    def kube(deployment: str, wanted: str, available: str) -> list[dict[str, str]]:
        labels = f'namespace="{KS_NS}", deployment="{deployment}"'
        return [{"series": f"kube_deployment_spec_replicas{{{labels}}}", "values": wanted},
                {"series": f"kube_deployment_status_replicas_available{{{labels}}}", "values": available}]  # fmt: skip

    # RawDeployment's expression keeps the Deployment's label; Serverless sums the revisions' away.
    fired = {**ours, "deployment": first} if mode == "RawDeployment" else ours
    down = _alert("8m", "VllmNoReadyReplica", fired, summaries["VllmNoReadyReplica"])
    cases = [
        {"interval": "1m", "input_series": kube(first, "1x10", "0x10"), "alert_rule_test": [down]},
        {  # A full KV cache on the predictor: the model's rules read the series KServe's pods export.
            "interval": "1m",
            "input_series": [{"series": f"vllm:kv_cache_usage_perc{{{vllm}}}", "values": "0.97x10"}],
            "alert_rule_test": [
                _alert("8m", "VllmKvCacheFull", {**ours, "severity": "warning"}, summaries["VllmKvCacheFull"])
            ],
        },
        {  # Healthy: a ready replica, an idle model, no failed Job: nothing fires.
            "interval": "1m",
            "input_series": [
                *kube(first, "1x30", "1x30"),
                {"series": f"vllm:kv_cache_usage_perc{{{vllm}}}", "values": "0.3x30"},
                {"series": f"vllm:num_requests_waiting{{{vllm}}}", "values": "0x30"},
                {"series": f"up{{{vllm.rsplit(', model_name', 1)[0]}}}", "values": "1x30"},
            ],
            "alert_rule_test": [_alert("25m", a) for a in sorted(alerts)],
        },
    ]
    if mode == "Serverless":
        cases += [
            {   # A new revision starting while the old one serves: the model still has a ready replica.
                "interval": "1m",
                "input_series": [*kube(first, "1x20", "1x20"), *kube(last, "1x20", "0x20")],
                "alert_rule_test": [_alert("15m", "VllmNoReadyReplica")],
            },
            {   # Every revision at zero wanted (scaled to zero): no page.
                "interval": "1m",
                "input_series": [*kube(first, "0x20", "0x20"), *kube(last, "0x20", "0x20")],
                "alert_rule_test": [_alert("15m", "VllmNoReadyReplica")],
            },
            {   # The other model's revisions failing do not page for this one (nor this one's for it).
                "interval": "1m",
                "input_series": kube(knative.deployment_name(knative.revision_name("mistral-small-24b-tp4-predictor", 1)),
                                     "1x10", "0x10"),
                "alert_rule_test": [_alert("8m", "VllmNoReadyReplica", {**ours, "model_name": "mistral-small-24b-tp4"},
                                           summaries["VllmNoReadyReplica"].replace(ISVC, "mistral-small-24b-tp4"))],
            },
        ]  # fmt: skip
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": cases}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
