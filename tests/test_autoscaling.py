"""Autoscaling: KEDA scales the model's Deployment on its own vLLM metrics, the GPU pools follow within
bounds the fit check holds to, and scale-down never cuts a running request."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from components.autoscaling.keda import ScalerArgs, scaled_object_spec
from components.autoscaling.oke_cluster_autoscaler import nodes_value
from components.doks.gpu_node_pool import pool_size_args
from components.workloads.vllm import DRAIN_SCRIPT
from tests.harness import config_error, k8s_objects, merge, preview, stack_config
from tests.test_observability import unknown_metrics
from tools import manifests, observability_summary
from tools.k8s_semantics import Plan, _selector_matches
from tools.preview import load_stack_config

EXAMPLE = Path(__file__).parent / "configs" / "doks-autoscaling.yaml"
TWO_MODELS = Path(__file__).parent / "configs" / "doks-two-models.yaml"


@functools.cache
def example_run():
    run = preview("doks", raw=load_stack_config("doks", EXAMPLE))
    assert run.error is None, run.error
    return run


def _with_model(raw, **fields):
    """The config with its first model's entry changed (models is a list: a merge would replace it)."""
    models = [dict(m) for m in raw["llm-serving:models"]]
    models[0] = merge(models[0], fields)
    return {**raw, "llm-serving:models": models}


def _scaled_object(run):
    (so,) = [o for o in k8s_objects(run) if o["kind"] == "ScaledObject"]
    return so


def test_the_scaled_object_targets_the_vllm_deployment_on_its_own_metrics():
    run = example_run()
    so = _scaled_object(run)
    assert manifests.validate(so) == [], "valid against KEDA v2.20.2's ScaledObject CRD"
    target = so["spec"]["scaleTargetRef"]
    plan = Plan(k8s_objects(run))
    deployment = plan.get("Deployment", so["metadata"]["namespace"], target["name"])
    assert deployment is not None and target["kind"] == "Deployment"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["command"] == ["vllm", "serve"]
    served = run.outputs["servedModelName"]
    for trigger in so["spec"]["triggers"]:
        query = trigger["metadata"]["query"]
        assert unknown_metrics(query) == set(), query
        assert f'model_name="{served}"' in query and f'namespace="{so["metadata"]["namespace"]}"' in query
    waiting = next(t for t in so["spec"]["triggers"] if t["name"] == "waiting-requests")
    assert "vllm:num_requests_waiting{" in waiting["metadata"]["query"]
    # The Prometheus the stack installed: the chart's Service in observability.namespace.
    release = next(
        r
        for r in run.registered()
        if r.type.endswith("helm.sh/v3:Release") and r.inputs["chart"] == "kube-prometheus-stack"
    )
    assert (
        waiting["metadata"]["serverAddress"]
        == f"http://kube-prometheus-stack-prometheus.{release.inputs['namespace']}.svc:9090"
    )


def test_keda_owns_the_replica_count():
    run = example_run()
    plan = Plan(k8s_objects(run))
    assert "replicas" not in plan.get("Deployment", "vllm", "vllm")["spec"], "a `pulumi up` must not reset it"
    so = _scaled_object(run)
    config = yaml.safe_load(EXAMPLE.read_text())["config"]["llm-serving:models"][0]["autoscaling"]
    assert (so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]) == (
        config["minReplicas"],
        config["maxReplicas"],
    )
    keda = next(r for r in run.registered() if r.type.endswith("helm.sh/v3:Release") and r.inputs["chart"] == "keda")
    assert keda.inputs["version"] == "2.20.2", "the release whose CRDs ../shared/crds validates against"


def test_scale_down_never_cuts_a_running_request():
    run = example_run()
    plan = Plan(k8s_objects(run))
    so = _scaled_object(run)
    pod = plan.get("Deployment", "vllm", "vllm")["spec"]["template"]
    container = pod["spec"]["containers"][0]
    # A removed pod drains first: preStop waits until vLLM reports nothing running or waiting...
    assert container["lifecycle"]["preStop"]["exec"]["command"][-1] == DRAIN_SCRIPT % {"port": 8000}
    assert "vllm:num_requests_running" in DRAIN_SCRIPT and "vllm:num_requests_waiting" in DRAIN_SCRIPT
    # ...within the grace period the config gives it,
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert grace == load_stack_config("doks", EXAMPLE)["llm-serving:models"][0].get(
        "terminationGracePeriodSeconds", 120
    )
    # the HPA removes one pod at a time, only after load stayed low for the window,
    down = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]
    assert down["stabilizationWindowSeconds"] >= 300
    # and a node the autoscaler drains evicts through the PodDisruptionBudget, one replica at a time.
    (pdb,) = [
        p
        for p in plan.of_kind("PodDisruptionBudget")
        if _selector_matches(p["spec"]["selector"], pod["metadata"]["labels"])
    ]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_node_autoscaling_bounds_are_the_ones_the_fit_check_holds():
    run = example_run()
    pool = next(
        r
        for r in run.registered()
        if r.type.endswith("kubernetesNodePool:KubernetesNodePool") and r.name.endswith("gpu-pool")
    )
    bounds = yaml.safe_load(EXAMPLE.read_text())["config"]["llm-serving:doks"]["gpuPool"]["autoscale"]
    assert (pool.inputs["autoScale"], pool.inputs["minNodes"], pool.inputs["maxNodes"]) == (
        True,
        bounds["minNodes"],
        bounds["maxNodes"],
    )
    # No node count at all: the provider sends one on every update of the pool, which resets its size
    # (components/doks/gpu_node_pool.py pool_size_args).
    assert "nodeCount" not in pool.inputs and not pool.ignore_changes
    assert _scaled_object(run)["spec"]["maxReplicaCount"] <= pool.inputs["maxNodes"]
    # One more replica than the pool can hold: refused before anything is registered.
    raw = _with_model(load_stack_config("doks", EXAMPLE), autoscaling={"enabled": True, "maxReplicas": 4})
    message = config_error(preview("doks", raw=raw))
    assert "models[0].autoscaling.maxReplicas" in message and "doks.gpuPool.autoscale.maxNodes is 3" in message
    fixed = merge(raw, {"llm-serving:doks": {"gpuPool": {"autoscale": None, "nodeCount": 2}}})
    assert "doks.gpuPool.nodeCount is 2" in config_error(preview("doks", raw=fixed))


def test_an_autoscaled_doks_pool_sends_no_node_count_that_would_reset_its_size():
    """terraform-provider-digitalocean v2.99.1 digitalocean/kubernetes/resource_kubernetes_node_pool.go:
    every Update sends `node_count` when it is set (`d.GetOk("node_count")`), whatever changed, and the
    API then resizes the pool to it (docs/resources/kubernetes_node_pool.md: "If auto-scaling is enabled,
    this should only be set if the desired result is to explicitly reset the number of nodes"). With
    ignore_changes Pulumi sends the stale value of its state (pulumi/docs ignorechanges.md: "Pulumi will
    continue to send those stale values"): a later `pulumi up` that touched the pool's tags or maxNodes
    would have shrunk a pool the autoscaler had grown, under running replicas."""
    assert pool_size_args(2, None) == {"node_count": 2}
    assert pool_size_args(1, (1, 3)) == {"auto_scale": True, "min_nodes": 1, "max_nodes": 3}
    # The pool starts at minNodes (DOKS uses min_nodes when no count is given): a different nodeCount
    # would be a size the stack never sets, so the config refuses it.
    raw = merge(load_stack_config("doks", EXAMPLE), {"llm-serving:doks": {"gpuPool": {"nodeCount": 2}}})
    message = config_error(preview("doks", raw=raw))
    assert "doks.gpuPool.nodeCount" in message and "minNodes" in message


def test_a_dokS_gpu_pool_may_scale_down_to_zero_nodes():
    raw = merge(
        load_stack_config("doks", EXAMPLE),
        {"llm-serving:doks": {"gpuPool": {"nodeCount": 0, "autoscale": {"minNodes": 0}}}},
    )
    run = preview("doks", raw=raw)
    assert run.error is None, run.error
    pool = next(
        r
        for r in run.registered()
        if r.type.endswith("kubernetesNodePool:KubernetesNodePool") and r.name.endswith("gpu-pool")
    )
    assert pool.inputs["minNodes"] == 0


def test_oke_gpu_pool_follows_through_the_cluster_autoscaler_add_on():
    raw = _with_model(stack_config("oci-a10", oke={"gpuPool": {"autoscale": {"minNodes": 1, "maxNodes": 2}}},
                                   observability={"install": True}), autoscaling={"enabled": True, "maxReplicas": 2})  # fmt: skip
    run = preview("oci-a10", raw=raw)
    assert run.error is None, run.error
    (addon,) = [
        r
        for r in run.registered()
        if r.type == "oci:ContainerEngine/addon:Addon" and r.inputs["addonName"] == "ClusterAutoscaler"
    ]
    pool = next(
        r for r in run.registered() if r.type == "oci:ContainerEngine/nodePool:NodePool" and r.name.endswith("gpu-pool")
    )
    assert addon.inputs["configurations"] == [{"key": "nodes", "value": f"1:2:{run.outputs['gpuNodePoolId']}"}]
    assert pool.ignore_changes == ["nodeConfigDetails.size"]
    statements = run.outputs["clusterAutoscalerPolicyStatements"]
    assert any("manage cluster-node-pools" in s for s in statements)
    assert nodes_value([(0, 3, "a"), (1, 2, "b")]) == "0:3:a,1:2:b"


def test_multi_node_ray_replicas_are_not_autoscaled():
    message = config_error(
        preview("existing-cluster", raw=_with_model(stack_config("existing-cluster"), autoscaling={"enabled": True}))
    )
    assert "models[0].autoscaling.enabled" in message and "Ray" in message
    summary = observability_summary.scaling_lines(preview_default_ray())
    assert any("not autoscaled" in line for line in summary)


@functools.cache
def preview_default_ray():
    from tests.harness import default_run

    return default_run("existing-cluster")


ZERO = {"enabled": True, "minReplicas": 0, "scaleToZero": True, "maxReplicas": 1}


@functools.cache
def zero_run():
    """The doks stack (one model, Prometheus installed) with its model allowed to scale to zero."""
    run = preview("doks", raw=_with_model(stack_config("doks"), autoscaling=ZERO))
    assert run.error is None, run.error
    return run


def test_autoscaling_needs_prometheus_and_a_wake_signal_for_zero():
    doks = stack_config("doks")
    no_prometheus = _with_model(
        stack_config("doks", observability={"install": False}), autoscaling={"enabled": True, "maxReplicas": 1}
    )
    message = config_error(preview("doks", raw=no_prometheus))
    assert "models[0].autoscaling.enabled" in message and "observability.install" in message
    # The door's counters are not per model: with two models nothing says which one to wake.
    two = yaml.safe_load(TWO_MODELS.read_text())["config"]
    message = config_error(preview("doks", raw=_with_model(two, autoscaling=ZERO)))
    assert "models[0].autoscaling.scaleToZero" in message and "one model" in message
    # The wake signal is the door's metrics, scraped through the PodMonitor the stack writes.
    unscraped = _with_model(stack_config("doks", observability={"install": False, "prometheusUrl": "http://p:9090"}),
                            autoscaling=ZERO)  # fmt: skip
    message = config_error(preview("doks", raw=unscraped))
    assert "models[0].autoscaling.scaleToZero" in message and "observability.install" in message
    assert "autoscaling.minReplicas" in config_error(
        preview("doks", raw=_with_model(doks, autoscaling={"minReplicas": 0}))
    )


def test_at_zero_the_door_traffic_wakes_the_model():
    plan = Plan(k8s_objects(zero_run()))
    (so,) = plan.of_kind("ScaledObject")
    spec = so["spec"]
    assert spec["minReplicaCount"] == 0
    (wake,) = [t for t in spec["triggers"] if t["name"] == "incoming-requests"]
    # Active above 0: KEDA takes the Deployment from 0 to 1; a 0/1 value at 1 per replica never asks for more.
    assert wake["metadata"]["activationThreshold"] == "0" and wake["metadata"]["threshold"] == "1"
    query = wake["metadata"]["query"]
    assert query.endswith("> bool 0") and unknown_metrics(query) == set()
    # It reads the series of the door's pods as their PodMonitor labels them (its job, their namespace).
    (door_monitor,) = [m for m in plan.of_kind("PodMonitor") if m["metadata"]["name"] == "vllm-entry"]
    door = next(d for d in plan.of_kind("Deployment") if d["metadata"]["name"] == "vllm-entry")
    job = door["spec"]["template"]["metadata"]["labels"][door_monitor["spec"]["jobLabel"]]
    assert f'namespace="{door["metadata"]["namespace"]}", job="{job}"' in query
    assert 'error_type="no_available_workers"' in query


def _scaler_args(**fields) -> ScalerArgs:
    base = dict(namespace="vllm", deployment="vllm", prometheus_url="http://p:9090", waiting_query="w",
                kv_cache_query="k", min_replicas=1, max_replicas=3, waiting_per_replica=4, kv_cache_usage=0.8)  # fmt: skip
    return ScalerArgs(**{**base, **fields})


def test_keda_polling_and_cooldown_are_set_only_where_keda_uses_them():
    """KEDA v2.20.2 apis/keda/v1alpha1/scaledobject_webhook.go verifyScaledObjects: with minReplicaCount > 0
    (no idleReplicaCount, no cached metrics) its admission webhook warns "PollingInterval is configured but is
    not relevant" and "CooldownPeriod is configured but is not relevant": between 1 and max replicas the HPA
    polls KEDA's metrics server itself, and cooldownPeriod only delays the step to zero. The ScaledObject
    carries them only for a model that scales to zero, and config refuses them elsewhere."""
    spec = scaled_object_spec(_scaler_args(min_replicas=1, polling_seconds=30, cooldown_seconds=600))
    assert "pollingInterval" not in spec and "cooldownPeriod" not in spec
    zero = scaled_object_spec(_scaler_args(min_replicas=0, polling_seconds=30, cooldown_seconds=600, wake_query="q"))
    assert (zero["pollingInterval"], zero["cooldownPeriod"]) == (30, 600)
    so = _scaled_object(example_run())["spec"]
    assert so["minReplicaCount"] == 1 and "cooldownPeriod" not in so and "pollingInterval" not in so
    zero_so = Plan(k8s_objects(zero_run())).of_kind("ScaledObject")[0]["spec"]
    down = zero_so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert zero_so["cooldownPeriod"] >= down["stabilizationWindowSeconds"]
    for key in ("cooldownSeconds", "pollingSeconds"):
        raw = _with_model(load_stack_config("doks", EXAMPLE), autoscaling={"enabled": True, key: 60})
        message = config_error(preview("doks", raw=raw))
        assert f"models[0].autoscaling.{key}" in message and "scaleToZero" in message


def test_the_summary_states_the_cold_start_of_a_model_at_zero():
    (line,) = [line for line in observability_summary.scaling_lines(zero_run()) if "scale to zero" in line]
    assert "503" in line and "ESTIMATE ~" in line and "after 1800 s without traffic" in line


def test_the_summary_shows_the_bounds_and_the_cold_start():
    lines = observability_summary.scaling_lines(example_run())
    assert any(line.startswith("  replicas vllm/vllm: 1-3") for line in lines)
    assert any("GPU nodes" in line and "1-3" in line for line in lines)
    assert any("cold start of one more replica ESTIMATE" in line for line in lines)


def test_autoscaling_is_off_by_default_on_every_committed_stack():
    for stack in ("doks", "oci-a10"):
        assert not any(m.get("autoscaling", {}).get("enabled") for m in stack_config(stack)["llm-serving:models"])


def test_each_trigger_query_gives_keda_one_value_with_several_replicas_and_none_when_idle(tmp_path):
    """KEDA v2.20.2 pkg/scalers/prometheus_scaler.go ExecutePromQuery: a result of more than one series is
    an error ("returned multiple elements"), an empty result is 0 while ignoreNullValues keeps its default
    (true), NaN/Inf likewise; a trigger is active above activationThreshold (default 0). Each query of the
    ScaledObjects, evaluated by promtool on two replicas' series as vLLM labels them: one sample each; with
    no vLLM pod left (at zero) the vLLM queries are empty, i.e. 0 and inactive, and only the wake query,
    which always has a value, decides."""
    from tests.test_promtool import promtool

    triggers = {t["name"]: t for t in _scaled_object(example_run())["spec"]["triggers"]}
    triggers |= {
        t["name"]: t for t in _scaled_object(zero_run())["spec"]["triggers"] if t["name"] == "incoming-requests"
    }
    assert set(triggers) == {"waiting-requests", "kv-cache-usage", "incoming-requests"}
    assert all("ignoreNullValues" not in t["metadata"] for t in triggers.values()), "KEDA's default: empty is 0"
    record = {name: name.replace("-", "_") for name in triggers}
    rules = [{"record": record[n], "expr": t["metadata"]["query"]} for n, t in triggers.items()]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "keda", "rules": rules}]}))
    served = example_run().outputs["servedModelName"]
    replica = 'namespace="vllm", model_name="%s", engine="0", pod="vllm-%s"'
    series = [
        (f"vllm:num_requests_waiting{{{replica % (served, 'a')}}}", "3x5"),
        (f"vllm:num_requests_waiting{{{replica % (served, 'b')}}}", "5x5"),
        (f"vllm:kv_cache_usage_perc{{{replica % (served, 'a')}}}", "0.5x5"),
        (f"vllm:kv_cache_usage_perc{{{replica % (served, 'b')}}}", "0.7x5"),
    ]

    def samples(name: str, value: float | None) -> dict:
        expected = [] if value is None else [{"labels": name, "value": value}]
        return {"expr": name, "eval_time": "4m", "exp_samples": expected}

    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [
        {"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series], "promql_expr_test": [
            samples("waiting_requests", 8), samples("kv_cache_usage", 0.6)]},
        {"interval": "1m", "input_series": [], "promql_expr_test": [
            samples("waiting_requests", None), samples("kv_cache_usage", None), samples("incoming_requests", 0)]},
    ]}  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
