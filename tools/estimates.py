"""Cost and time-to-serving ESTIMATES for a plan (a ProgramRun), from two data tables.

    stacks/catalog/prices.yaml      list prices, each row with its source URL and date
    stacks/catalog/durations.yaml   typical create durations per resource type, with their basis

Cost: every billable resource in the plan (nodes x shape price, control plane, load balancers,
storage) is priced from the table; anything the table has no price for is listed as "no price"
rather than guessed. Time to serving: the longest path through the plan's dependency graph
(recorded dependencies, provider references, and a dependency on a component meaning its whole
subtree), each resource weighted with its duration; the path itself is printed.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.conventions import GPU_RESOURCE
from stacks import capacity, catalog
from tools.engine import ProgramRun, ResourceRecord, lookup

CATALOG = Path(__file__).resolve().parent.parent / "stacks" / "catalog"
PRICES_FILE = CATALOG / "prices.yaml"
DURATIONS_FILE = CATALOG / "durations.yaml"

DO_CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
DO_NODE_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
DO_NFS = "digitalocean:index/nfs:Nfs"
OKE_CLUSTER = "oci:ContainerEngine/cluster:Cluster"
OKE_NODE_POOL = "oci:ContainerEngine/nodePool:NodePool"
OCI_CLUSTER_NETWORK = "oci:Core/clusterNetwork:ClusterNetwork"
OCI_INSTANCE_CONFIGURATION = "oci:Core/instanceConfiguration:InstanceConfiguration"
OCI_INSTANCE = "oci:Core/instance:Instance"
OCI_FILE_SYSTEM = "oci:FileStorage/fileSystem:FileSystem"
OCI_BUCKET = "oci:ObjectStorage/bucket:Bucket"
OCI_MODEL_DEPLOYMENT = "oci:DataScience/modelDeployment:ModelDeployment"
K8S_GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_JOB = "kubernetes:batch/v1:Job"


def prices() -> dict[str, Any]:
    return catalog.prices()


def durations() -> dict[str, Any]:
    return catalog.durations()


def _short_source(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url)


def _money(value: float) -> str:
    return f"${value:,.2f}"


# ------------------------------------------------------------------------------------------
# Cost
# ------------------------------------------------------------------------------------------


@dataclass
class CostLine:
    resource: str
    """The plan resource the line comes from (its logical name)."""
    item: str
    """What is billed, e.g. a size slug, `control plane doks`, `NFS share`."""
    quantity: float
    unit: str
    hourly: float | None = None
    monthly: float | None = None
    source: str | None = None
    date: str | None = None
    note: str = ""

    @property
    def priced(self) -> bool:
        return self.hourly is not None and self.monthly is not None


@dataclass
class CostEstimate:
    lines: list[CostLine] = field(default_factory=list)

    @property
    def priced(self) -> list[CostLine]:
        return [line for line in self.lines if line.priced]

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if not line.priced]

    @property
    def hourly(self) -> float:
        return sum(line.hourly or 0.0 for line in self.priced)

    @property
    def monthly(self) -> float:
        return sum(line.monthly or 0.0 for line in self.priced)


def _platform(run: ProgramRun) -> str | None:
    types = {r.type.split(":", 1)[0] for r in run.registered()}
    if "digitalocean" in types:
        return "digitalocean"
    if "oci" in types:
        return "oci"
    return None


def _priced_line(line: CostLine, row: dict[str, Any] | None, provider: str | None, per_gb: bool = False) -> CostLine:
    """Fill a line's prices from a table row (hourly and/or monthly, the other derived)."""
    if row is None:
        return line
    hours = prices()["providers"].get(row.get("provider") or provider or "", {}).get("billing_hours_per_month")
    hourly, monthly = row.get("hourly"), row.get("monthly")
    if hourly is None and monthly is not None and hours:
        hourly = monthly / hours
    if monthly is None and hourly is not None and hours:
        monthly = hourly * hours
    if hourly is None or monthly is None:
        return line
    line.hourly, line.monthly = hourly * line.quantity, monthly * line.quantity
    line.source, line.date = row.get("source"), str(row.get("date", ""))
    if per_gb:
        line.note = (line.note + " " if line.note else "") + f"at {_money(float(monthly))}/GB-month"
    return line


def _node_count(pool: dict[str, Any]) -> tuple[int, str]:
    if pool.get("autoScale"):
        low = int(pool.get("minNodes") or 0)
        high = int(pool.get("maxNodes") or low or 1)
        if low == 0:  # a model with minReplicas >= 1 keeps a node up
            return 1, f"autoscaling 0-{high}, priced at 1 node (0 nodes only while every model on it is scaled to zero)"
        return low, f"autoscaling {low}-{high}, priced at the minimum"
    return int(pool.get("nodeCount") or pool.get("size") or 1), ""


def _compute_line(resource: ResourceRecord, size: Any, count: int, note: str, provider: str | None) -> CostLine:
    size = str(size) if size else "unknown size"
    line = CostLine(resource.name, size, count, "node", note=note)
    return _priced_line(line, prices()["compute"].get(size), provider)


def _load_balancer_key(resource: ResourceRecord, platform: str | None) -> str | None:
    if platform == "digitalocean":
        return "digitalocean"
    if platform == "oci":
        annotations = lookup(resource.inputs, "metadata.annotations") or {}
        lb_type = (
            str(annotations.get("oci.oraclecloud.com/load-balancer-type", "")) if isinstance(annotations, dict) else ""
        )
        return "oci-network-load-balancer" if lb_type == "nlb" else "oci-load-balancer"
    return None


def _cost_lines(run: ProgramRun) -> Iterator[CostLine]:
    platform = _platform(run)
    by_urn = run.by_urn()
    table = prices()
    for r in run.registered():
        if not r.custom:
            continue
        i = r.inputs
        if r.type == DO_CLUSTER:
            key = "doks-ha" if i.get("ha") is True else "doks"
            yield _priced_line(
                CostLine(r.name, f"control plane {key}", 1, "cluster"), table["control_planes"].get(key), platform
            )
            pool = i.get("nodePool") or {}
            count, note = _node_count(pool)
            yield _compute_line(
                r, pool.get("size"), count, f"default pool; {note}" if note else "default pool", platform
            )
        elif r.type == DO_NODE_POOL:
            count, note = _node_count(i)
            yield _compute_line(r, i.get("size"), count, note, platform)
        elif r.type == DO_NFS:
            size = float(i.get("size") or 0)
            row = table["storage"].get("digitalocean-nfs")
            yield _priced_line(
                CostLine(r.name, "Managed NFS share", size, "GB", note=f"{size:g} GB"), row, platform, True
            )
        elif r.type == OKE_CLUSTER:
            key = "oke-enhanced" if str(i.get("type", "")).upper() == "ENHANCED_CLUSTER" else "oke-basic"
            yield _priced_line(
                CostLine(r.name, f"control plane {key}", 1, "cluster"), table["control_planes"].get(key), platform
            )
        elif r.type == OKE_NODE_POOL:
            count = int(lookup(i, "nodeConfigDetails.size") or 0)
            yield _compute_line(r, i.get("nodeShape"), count, "", platform)
        elif r.type == OCI_CLUSTER_NETWORK:
            shapes = [
                lookup(by_urn[d].inputs, "instanceDetails.launchDetails.shape")
                for d in r.dependencies
                if d in by_urn and by_urn[d].type == OCI_INSTANCE_CONFIGURATION
            ]
            count = sum(int(p.get("size") or 0) for p in i.get("instancePools") or [] if isinstance(p, dict))
            yield _compute_line(r, shapes[0] if shapes else None, count, "cluster network (RDMA)", platform)
        elif r.type == OCI_INSTANCE:
            yield _compute_line(r, i.get("shape"), 1, "", platform)
        elif r.type == OCI_FILE_SYSTEM:
            yield CostLine(r.name, "File Storage file system", 0, "GB", note="billed on GB stored")
        elif r.type == OCI_MODEL_DEPLOYMENT:
            # Data Science bills a deployment's instances as the shape's compute (prices.yaml not_found:
            # no list price for OCI GPU shapes), times the instance count.
            model = lookup(i, "modelDeploymentConfigurationDetails.modelConfigurationDetails") or {}
            shape = lookup(model, "instanceConfiguration.instanceShapeName")
            count = int(lookup(model, "scalingPolicy.instanceCount") or 1)
            mbps = lookup(model, "bandwidthMbps")
            note = f"model deployment instances; load balancer {mbps} Mbps" if mbps else "model deployment instances"
            yield _compute_line(r, shape, count, note, platform)
        elif r.type == OCI_BUCKET:
            yield CostLine(r.name, "Object Storage bucket", 0, "GB", note="billed on GB stored")
        elif r.type == K8S_GATEWAY or (r.type == K8S_SERVICE and lookup(i, "spec.type") == "LoadBalancer"):
            key = _load_balancer_key(r, platform)
            what = "Gateway" if r.type == K8S_GATEWAY else "Service type LoadBalancer"
            line = CostLine(r.name, f"load balancer ({what})", 1, "load balancer")
            yield _priced_line(line, table["load_balancers"].get(key or ""), platform)


def estimate_cost(run: ProgramRun) -> CostEstimate:
    return CostEstimate(lines=list(_cost_lines(run)))


# ------------------------------------------------------------------------------------------
# Time to serving
# ------------------------------------------------------------------------------------------


@dataclass
class Step:
    urn: str
    type: str
    name: str
    seconds: float
    basis: str
    reasoning: str
    start: float = 0.0
    predecessor: str | None = None

    @property
    def finish(self) -> float:
        return self.start + self.seconds


@dataclass
class TimeEstimate:
    steps: dict[str, Step]
    path: list[Step]
    model_id: str | None
    model_gb: float | None
    model_gb_basis: str

    @property
    def total_seconds(self) -> float:
        return self.path[-1].finish if self.path else 0.0


def _has_gpu_request(value: Any) -> bool:
    if isinstance(value, dict):
        return GPU_RESOURCE in value or any(_has_gpu_request(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_gpu_request(v) for v in value)
    return False


def _matches(rule: dict[str, Any], r: ResourceRecord) -> bool:
    if not fnmatch.fnmatchcase(r.type, rule["type"]):
        return False
    when = rule.get("when") or {}
    if "input_prefix" in when:
        cond = when["input_prefix"]
        value = lookup(r.inputs, cond["path"])
        wanted = cond["prefix"] if isinstance(cond["prefix"], list) else [cond["prefix"]]
        if not (isinstance(value, str) and any(value.startswith(p) for p in wanted)):
            return False
    if "name_contains" in when and when["name_contains"] not in r.name:
        return False
    return not ("requests_gpu" in when and _has_gpu_request(lookup(r.inputs, "spec")) != bool(when["requests_gpu"]))


def model_of(run: ProgramRun) -> str | None:
    """The model the stack serves: the `modelId` output, else a download Job's MODEL_ID."""
    model = run.outputs.get("modelId")
    if isinstance(model, str) and "/" in model:
        return model
    for job in run.of_type(K8S_JOB):
        for container in lookup(job.inputs, "spec.template.spec.containers") or []:
            for env in container.get("env") or []:
                if env.get("name") == "MODEL_ID" and isinstance(env.get("value"), str):
                    return env["value"]
    return None


CHECKPOINT_BITS = {"int4": "4-bit", "int8": "8-bit", "fp8": "8-bit"}
"""How the summary names the checkpoint format a repo's name implies (stacks/capacity.implied_quantization)."""


def model_size_gb(model_id: str | None) -> tuple[float | None, str]:
    """Size of the weights to download, in GB, and how it was obtained: the size table in
    durations.yaml, the checkpoint size the model catalog gives, else parameters (model catalog, else the
    id's "...-7B-...") x the bytes per parameter of the format the repo's name implies (the capacity
    planner's parser and bytes, stacks/capacity.py and stacks/catalog/models.yaml)."""
    table = durations()["model_download"]
    if model_id is None:
        return None, "no model id in the plan"
    known = (table.get("model_sizes_gb") or {}).get(model_id)
    if known is not None:
        return float(known), "model size table"
    facts = capacity.lookup(model_id)
    if facts is not None and facts.checkpoint_gb is not None:
        return facts.checkpoint_gb, "the published checkpoint's size from stacks/catalog/models.yaml"
    implied = capacity.implied_quantization(model_id)
    per_param = catalog.BYTES_PER_PARAM[implied or "bf16"]
    precision = f"{CHECKPOINT_BITS.get(implied or '', '16-bit')} checkpoint"
    params = facts.params_b if facts is not None else None
    origin = "stacks/catalog/models.yaml"
    if params is None:
        match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])", model_id.split("/")[-1])
        if match is None:
            return None, f"size of {model_id} unknown (add it to model_sizes_gb)"
        params, origin = float(match.group(1)), "the model id"
    size = round(params * per_param, 2)
    return size, f"{params:g}B parameters from {origin} x {per_param:g} bytes, {precision}; estimate"


def _serving_nodes(r: ResourceRecord) -> int:
    """Nodes that load weights in parallel: a RayCluster's head plus its workers, else one."""
    groups = lookup(r.inputs, "spec.workerGroupSpecs")
    if not isinstance(groups, list):
        return 1
    return 1 + sum(int(g.get("replicas") or 0) for g in groups if isinstance(g, dict))


@dataclass
class StagingRate:
    gbit_s: float
    basis: str
    """How the rate was obtained, for the summary."""


def staging_rate(run: ProgramRun, job: ResourceRecord) -> StagingRate:
    """The staging Job's rate: the bandwidth of the node pool its nodeSelector picks (OCI flexible VMs:
    per OCPU, capped), no more than the assumed source rate (durations.yaml `model_staging`)."""
    table = durations()["model_staging"]
    selector = lookup(job.inputs, "spec.template.spec.nodeSelector") or {}
    for pool in run.of_type(OKE_NODE_POOL):
        labels = {lab.get("key"): lab.get("value") for lab in pool.inputs.get("initialNodeLabels") or []}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        shape, ocpus = pool.inputs.get("nodeShape"), lookup(pool.inputs, "nodeShapeConfig.ocpus")
        nic = (table.get("node_bandwidth") or {}).get(shape)
        if nic is None or ocpus is None:
            break
        node = min(float(ocpus) * float(nic["gbit_s_per_ocpu"]), float(nic["max_gbit_s"]))
        source = float(table["source_gbit_s"])
        return StagingRate(
            min(node, source),
            f"min({shape} x {float(ocpus):g} OCPU = {node:g} Gbit/s, assumed source {source:g} Gbit/s)",
        )
    rate = float(durations()["model_download"]["bandwidth_gbit_s"])
    return StagingRate(rate, f"{rate:g} Gbit/s: {table['fallback']}")


def _duration(r: ResourceRecord, model_gb: float | None, staging: StagingRate | None = None) -> tuple[float, str, str]:
    if not r.custom:
        return 0.0, "component", "a component finishes when its children do"
    table = durations()
    for rule in table["rules"]:
        if not _matches(rule, r):
            continue
        model = rule.get("model")
        if model == "staging" and staging is not None:
            st = table["model_staging"]
            transfer = (model_gb or 0.0) * 8 / staging.gbit_s
            return float(st["fixed_seconds"]) + transfer, rule["basis"], f"{rule['reasoning']} Rate: {staging.basis}"
        if model in ("download", "staging"):
            dl = table["model_download"]
            factor = float(rule.get("transfer_factor", 1))
            transfer = factor * (model_gb or 0.0) * 8 / float(dl["bandwidth_gbit_s"])
            return float(dl["fixed_seconds"]) + transfer, rule["basis"], rule["reasoning"]
        if model == "vllm":
            vs = table["vllm_start"]
            load = (model_gb or 0.0) / (float(vs["load_gbyte_s"]) * _serving_nodes(r))
            return (
                float(vs["fixed_seconds"]) + load + float(rule.get("extra_seconds", 0)),
                rule["basis"],
                rule["reasoning"],
            )
        return float(rule["seconds"]), rule["basis"], rule["reasoning"]
    default = table["default"]
    return float(default["seconds"]), default["basis"], default["reasoning"]


def _children(run: ProgramRun) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in run.resources:
        if r.parent:
            out.setdefault(r.parent, []).append(r.urn)
    return out


def predecessors(run: ProgramRun) -> dict[str, set[str]]:
    """For each resource, what must be created before it starts: its recorded dependencies (a
    component standing for its whole subtree, as `depends_on` a component means in Pulumi), the
    provider it is created with, and its parent component (children are registered under their
    parent's URN, which the engine hands out once the parent's own dependencies are done)."""
    kids = _children(run)
    registered = {r.urn for r in run.registered()}

    def subtree(urn: str) -> Iterator[str]:
        yield urn
        for child in kids.get(urn, []):
            yield from subtree(child)

    preds: dict[str, set[str]] = {}
    for r in run.registered():
        direct = [*r.dependencies, *([r.provider] if r.provider else [])]
        preds[r.urn] = {u for d in direct for u in subtree(d) if u in registered and u != r.urn}
        if r.parent in registered:
            preds[r.urn].add(r.parent)
    return preds


def ancestors(run: ProgramRun, urn: str) -> set[str]:
    """Everything that must exist before `urn` can be created (transitively)."""
    preds = predecessors(run)
    seen: set[str] = set()
    stack = list(preds.get(urn, ()))
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            stack.extend(preds.get(u, ()))
    return seen


def estimate_time(run: ProgramRun) -> TimeEstimate:
    model_id = model_of(run)
    model_gb, basis = model_size_gb(model_id)
    preds = predecessors(run)
    steps: dict[str, Step] = {}
    # URN order throughout, so equal-length paths resolve the same way on every run.
    for r in sorted(run.registered(), key=lambda r: r.urn):
        staging = staging_rate(run, r) if r.type == K8S_JOB else None
        seconds, step_basis, reasoning = _duration(r, model_gb, staging)
        steps[r.urn] = Step(r.urn, r.type, r.name, seconds, step_basis, reasoning)

    done: set[str] = set()
    visiting: set[str] = set()

    def schedule(urn: str) -> float:
        step = steps[urn]
        if urn in done or urn in visiting:  # a cycle cannot happen in a valid plan; never loop
            return step.finish
        visiting.add(urn)
        for p in sorted(preds.get(urn, ())):
            finish = schedule(p)
            if step.predecessor is None or finish > step.start:
                step.start, step.predecessor = finish, p
        visiting.discard(urn)
        done.add(urn)
        return step.finish

    for urn in steps:
        schedule(urn)
    path: list[Step] = []
    if steps:
        last = max(steps.values(), key=lambda s: (s.finish, s.seconds))
        cursor: Step | None = last
        while cursor is not None:
            path.append(cursor)
            cursor = steps.get(cursor.predecessor) if cursor.predecessor else None
        path.reverse()
        # Drop zero-length components/providers from the printed path; keep the real work.
        path = [s for s in path if s.seconds > 0] or path
    return TimeEstimate(steps=steps, path=path, model_id=model_id, model_gb=model_gb, model_gb_basis=basis)


def is_gpu_provisioning(r: ResourceRecord) -> bool:
    """A resource that brings up GPU machines (a GPU node pool, cluster network or instance)."""
    if r.type == DO_NODE_POOL:
        return str(r.inputs.get("size", "")).startswith("gpu-")
    if r.type == OKE_NODE_POOL:
        return "GPU" in str(r.inputs.get("nodeShape", ""))
    if r.type == OCI_INSTANCE:
        return "GPU" in str(r.inputs.get("shape", ""))
    return r.type == OCI_CLUSTER_NETWORK


def download_jobs(run: ProgramRun) -> list[ResourceRecord]:
    return run.of_type(K8S_JOB)


def download_overlaps_gpu(run: ProgramRun) -> bool | None:
    """True when no model download Job waits for GPU machines (so the download runs while they
    provision); None when the plan has no download Job or no GPU machines."""
    jobs = download_jobs(run)
    gpus = {r.urn for r in run.registered() if is_gpu_provisioning(r)}
    if not jobs or not gpus:
        return None
    return all(not (ancestors(run, job.urn) & gpus) for job in jobs)


# ------------------------------------------------------------------------------------------
# Summary lines
# ------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _span(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def cost_lines(run: ProgramRun) -> list[str]:
    est = estimate_cost(run)
    if not est.lines:
        return ["Cost ESTIMATE: $0 from this plan: it creates nothing billable that the price table knows (no price)."]
    partial = " (partial: see 'no price')" if est.unpriced else ""
    out = [
        f"Cost ESTIMATE (list prices, on demand, not a quote){partial}: "
        f"{_money(est.hourly)}/hour, {_money(est.monthly)}/month"
    ]
    for line in est.lines:
        qty = f"{line.quantity:g} x " if line.unit == "node" else ""
        label = f"{qty}{line.item}  [{line.resource}]"
        note = f"  ({line.note})" if line.note else ""
        if line.priced:
            source = f"  source: {_short_source(line.source or '')}, {line.date}"
            out.append(f"  {label}: {_money(line.hourly or 0)}/h, {_money(line.monthly or 0)}/mo{note}{source}")
        else:
            out.append(f"  {label}: no price{note}")
    hours = ", ".join(
        f"{name} {p['billing_hours_per_month']} h"
        for name, p in prices()["providers"].items()
        if "billing_hours_per_month" in p
    )
    out.append(
        f"  Prices: {PRICES_FILE.relative_to(PRICES_FILE.parents[2])} (source and date per row); month = {hours}"
    )
    return out


def time_lines(run: ProgramRun) -> list[str]:
    est = estimate_time(run)
    dl = durations()["model_download"]
    out = [f"Time to serving ESTIMATE (critical path through the plan's dependency graph): ~{_span(est.total_seconds)}"]
    for step in est.path:
        out.append(f"  +{_clock(step.start):>5}  {_span(step.seconds):>8}  {step.type}  {step.name}  [{step.basis}]")
    size = f"{est.model_gb:g} GB" if est.model_gb is not None else "unknown size"
    out.append(
        f"  model {est.model_id or '-'}: {size} ({est.model_gb_basis}); download at {dl['bandwidth_gbit_s']:g} Gbit/s "
        f"+ {dl['fixed_seconds']} s"
    )
    overlap = download_overlaps_gpu(run)
    gpu_ready = max((est.steps[r.urn].finish for r in run.registered() if is_gpu_provisioning(r)), default=None)
    for job in download_jobs(run):
        step = est.steps[job.urn]
        gpu = f"; GPU nodes ready at +{_clock(gpu_ready)}" if gpu_ready is not None else ""
        out.append(f"  model download {job.name}: +{_clock(step.start)} to +{_clock(step.finish)}{gpu}")
        if "Rate: " in step.reasoning:  # the staging rule (durations.yaml model_staging) names its rate
            out.append(
                f"    staging at {staging_rate(run, job).gbit_s:g} Gbit/s = {step.reasoning.split('Rate: ', 1)[1]}"
            )
    if overlap is True:
        out.append("  the model download does not wait for GPU nodes: it runs while they provision")
    elif overlap is False:
        out.append("  WARNING: the model download waits for GPU nodes (it could run while they provision)")
    rel = DURATIONS_FILE.relative_to(DURATIONS_FILE.parents[2])
    out.append(f"  Durations: {rel} (engineering estimates, reasoning per row; tune from real `pulumi up` timings)")
    return out


def summary_lines(run: ProgramRun) -> list[str]:
    """The estimate block for the preview summary. Never raises: an estimate is not worth failing a preview."""
    lines = [""]
    for part in (cost_lines, time_lines):
        try:
            lines += part(run)
        except Exception as exc:  # a stack's new resource shape must not break the preview
            lines.append(f"{part.__name__.replace('_lines', '')} estimate unavailable: {type(exc).__name__}: {exc}")
    return lines


def to_json(run: ProgramRun) -> dict[str, Any]:
    """The estimates as data (for tools and tests)."""
    cost, time = estimate_cost(run), estimate_time(run)
    return json.loads(
        json.dumps(
            {
                "cost": {
                    "label": "estimate",
                    "hourly": round(cost.hourly, 4),
                    "monthly": round(cost.monthly, 2),
                    "lines": [line.__dict__ for line in cost.lines],
                    "source": str(PRICES_FILE.name),
                },
                "timeToServing": {
                    "label": "estimate",
                    "seconds": round(time.total_seconds),
                    "path": [
                        {"type": s.type, "name": s.name, "start": s.start, "seconds": s.seconds} for s in time.path
                    ],
                    "model": {"id": time.model_id, "gb": time.model_gb, "basis": time.model_gb_basis},
                    "downloadOverlapsGpu": download_overlaps_gpu(run),
                    "source": str(DURATIONS_FILE.name),
                },
            }
        )
    )
