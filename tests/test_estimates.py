"""Cost and time-to-serving estimates in the preview summary (tools/estimates.py)."""

from __future__ import annotations

import re

import pytest

from stacks import capacity, catalog
from tests.harness import STACKS, default_run, one, preview
from tools import estimates
from tools.preview import summary

DO_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"


def rule_seconds(type_token: str, prefix: str | None = None) -> float:
    for rule in estimates.durations()["rules"]:
        cond = (rule.get("when") or {}).get("input_prefix")
        if rule["type"] == type_token and (prefix is None or (cond and cond["prefix"] == prefix)):
            return float(rule["seconds"])
    raise AssertionError(f"no duration rule for {type_token} {prefix}")


# ------------------------------------------------------------------------------------------
# Data tables
# ------------------------------------------------------------------------------------------


def test_every_price_row_has_a_source_url_and_a_date():
    table = estimates.prices()
    for section in ("compute", "control_planes", "load_balancers", "storage"):
        for key, row in table[section].items():
            assert str(row["source"]).startswith("https://"), f"{section}.{key} has no source URL"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row["date"])), f"{section}.{key} has no date"
            assert "hourly" in row or "monthly" in row, f"{section}.{key} has no price"
    for name, provider in table["providers"].items():
        assert provider["billing_hours_per_month"] > 0 and provider["source"].startswith("https://"), name


def test_every_duration_rule_says_what_it_is_based_on():
    table = estimates.durations()
    for rule in [*table["rules"], table["default"], table["model_download"], table["vllm_start"]]:
        assert rule["basis"] in ("estimate", "published"), rule
        assert rule.get("reasoning"), rule
    assert table["model_download"]["bandwidth_gbit_s"] > 0


# ------------------------------------------------------------------------------------------
# doks: exact figures from the tables
# ------------------------------------------------------------------------------------------


def test_doks_cost_counts_nodes_times_shape_price_plus_load_balancer():
    cost = estimates.estimate_cost(default_run("doks"))
    p = estimates.prices()
    hours = p["providers"]["digitalocean"]["billing_hours_per_month"]
    gpu, cpu = p["compute"]["gpu-h100x1-80gb"], p["compute"]["s-2vcpu-4gb"]
    lb = p["load_balancers"]["digitalocean"]
    # Pulumi.doks.yaml: 1 GPU node, system pool autoscaling 2-3 (priced at 2), a Gateway's LB.
    assert cost.hourly == pytest.approx(gpu["hourly"] + 2 * cpu["hourly"] + lb["monthly"] / hours)
    assert cost.monthly == pytest.approx(gpu["hourly"] * hours + 2 * cpu["monthly"] + lb["monthly"])
    items = {line.item: line for line in cost.lines}
    assert items["gpu-h100x1-80gb"].quantity == 1
    assert items["s-2vcpu-4gb"].quantity == 2
    assert items["control plane doks"].monthly == 0
    # Managed NFS has no published price in the table: listed, not guessed.
    assert [line.item for line in cost.unpriced] == ["Managed NFS share"]


def test_doks_ha_control_plane_is_priced():
    run = preview("doks", doks={"haControlPlane": True})
    assert run.error is None
    items = {line.item: line for line in estimates.estimate_cost(run).lines}
    assert items["control plane doks-ha"].monthly == pytest.approx(40.0)


def test_doks_critical_path_is_vpc_cluster_gpu_pool_vllm():
    run = default_run("doks")
    est = estimates.estimate_time(run)
    assert [s.type.rsplit(":", 1)[-1] for s in est.path] == [
        "Vpc",
        "KubernetesCluster",
        "KubernetesNodePool",
        "Deployment",
    ]
    vllm = estimates.durations()["vllm_start"]
    assert est.model_gb == pytest.approx(0.99)  # Qwen2.5-0.5B: 0.494B parameters (models.yaml) x 2 bytes
    expected = (
        rule_seconds("digitalocean:index/vpc:Vpc")
        + rule_seconds("digitalocean:index/kubernetesCluster:KubernetesCluster")
        + rule_seconds(DO_POOL, "gpu-")
        + vllm["fixed_seconds"]
        + 0.99 / vllm["load_gbyte_s"]
    )
    assert est.total_seconds == pytest.approx(expected)
    # The path is contiguous: each step starts when the previous one finishes.
    for before, after in zip(est.path, est.path[1:], strict=False):
        assert after.start == pytest.approx(before.finish)


def test_doks_model_download_overlaps_gpu_node_provisioning():
    run = default_run("doks")
    job = one(run, "batch/v1:Job", "download")
    gpu_pool = one(run, "KubernetesNodePool", "gpu")
    deployment = one(run, "apps/v1:Deployment", "vllm-vllm")
    # The download Job waits for the NFS share and the cluster, never for the GPU pool ...
    job_needs = estimates.ancestors(run, job.urn)
    assert gpu_pool.urn not in job_needs
    assert one(run, "index/nfs:Nfs").urn in job_needs
    assert one(run, "KubernetesCluster").urn in job_needs
    # ... and vLLM waits for both.
    assert {job.urn, gpu_pool.urn} <= estimates.ancestors(run, deployment.urn)
    assert estimates.download_overlaps_gpu(run) is True
    # So with the table's durations the download is done before the GPU nodes are.
    steps = estimates.estimate_time(run).steps
    assert steps[job.urn].start < steps[gpu_pool.urn].finish
    assert steps[job.urn].finish <= steps[gpu_pool.urn].finish
    assert steps[deployment.urn].start == pytest.approx(steps[gpu_pool.urn].finish)


def test_a_larger_model_makes_the_download_longer_but_still_overlapped():
    run = preview("doks", model={"id": "mistralai/Mistral-Small-24B-Instruct-2501"})
    assert run.error is None, run.error
    est = estimates.estimate_time(run)
    assert est.model_gb == pytest.approx(47.2)  # 23.6B parameters (stacks/catalog/models.yaml) x 2 bytes
    job = one(run, "batch/v1:Job", "download")
    assert estimates.download_overlaps_gpu(run) is True
    download = estimates.durations()["model_download"]
    assert est.steps[job.urn].seconds == pytest.approx(
        download["fixed_seconds"] + 47.2 * 8 / download["bandwidth_gbit_s"]
    )


@pytest.mark.parametrize(
    "model_id",
    ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct-AWQ", "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic",
     "openai/gpt-oss-20b"],
)  # fmt: skip
def test_the_download_is_as_large_as_the_capacity_planner_says_the_checkpoint_is(model_id):
    """One reading of a model's size: the time estimate downloads what the fit check stores (the
    checkpoint's own size, or parameters x the bytes of the format the repo's name implies)."""
    facts = capacity.lookup(model_id)
    assert facts is not None
    size, basis = estimates.model_size_gb(model_id)
    assert size == pytest.approx(capacity.stored_weights_gb(model_id, facts), abs=0.01), basis


def test_an_unknown_pre_quantized_repo_is_sized_from_its_name():
    size, basis = estimates.model_size_gb("someone/Custom-13B-Instruct-AWQ")
    assert size == pytest.approx(13 * catalog.BYTES_PER_PARAM["int4"]) and "4-bit checkpoint" in basis
    assert estimates.model_size_gb("someone/Custom-13B-Instruct")[0] == pytest.approx(26)


def test_preview_summary_shows_both_estimates_with_their_labels_and_sources():
    text = summary(default_run("doks"))
    assert "Cost ESTIMATE (list prices, on demand, not a quote)" in text
    assert "Time to serving ESTIMATE (critical path" in text
    assert "no price" in text
    assert "stacks/catalog/prices.yaml (source and date per row)" in text
    assert "stacks/catalog/durations.yaml (engineering estimates" in text
    assert "source: docs.digitalocean.com/products/droplets/details/pricing/, 2026-05-28" in text
    assert "runs while they provision" in text
    assert "unavailable" not in text


# ------------------------------------------------------------------------------------------
# Every stack (OKE stacks join as their Pulumi.<stack>.yaml lands)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_estimates_work_for_every_stack(stack: str):
    run = default_run(stack)
    lines = estimates.summary_lines(run)
    assert not any("unavailable" in line for line in lines), lines
    cost = estimates.estimate_cost(run)
    for line in cost.priced:
        assert line.source and line.source.startswith("https://") and line.date, line
        assert (line.hourly or 0) >= 0 and (line.monthly or 0) >= 0
    if cost.lines:
        assert any("Cost ESTIMATE" in line for line in lines)
    time = estimates.estimate_time(run)
    assert time.path and time.total_seconds > 0
    for before, after in zip(time.path, time.path[1:], strict=False):
        assert after.start == pytest.approx(before.finish)
    # The graph must let the model download run while GPU machines provision.
    assert estimates.download_overlaps_gpu(run) is not False
    data = estimates.to_json(run)
    assert data["cost"]["label"] == data["timeToServing"]["label"] == "estimate"


def test_an_autoscaled_pool_with_minimum_zero_says_what_it_is_priced_at():
    """A GPU pool that may autoscale to 0 nodes is priced at one node (a model with minReplicas >= 1 keeps one
    up); the note said "priced at the minimum" over that one node's price."""
    assert estimates._node_count({"autoScale": True, "minNodes": 2, "maxNodes": 3}) == (
        2,
        "autoscaling 2-3, priced at the minimum",
    )
    count, note = estimates._node_count({"autoScale": True, "minNodes": 0, "maxNodes": 3})
    assert count == 1 and "0-3" in note and "priced at the minimum" not in note
    assert "0 nodes only while every model on it is scaled to zero" in note
