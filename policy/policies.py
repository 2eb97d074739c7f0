"""The llm-serving policy pack: guard rails every stack's resources must pass.

Use with the Pulumi CLI: `uv run pulumi preview --policy-pack policy` (the pack itself is built in
`__main__.py`). Each validate function reads `args.resource_type` and `args.props` (the resource's
inputs as the engine sees them: camelCase wire names) and reports violations; the tests call them
directly, on hand-written resources and on every stack's offline plan.

Values unknown during a preview (ids of resources not created yet) are skipped, never reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

WORLD = "0.0.0.0/0"
KUBERNETES_API_PORT = 6443
UNKNOWN_MARKERS = ("[unknown]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")  # offline plan, engine sentinel
SECRET_MARKERS = ("[secret]",)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def get(data: Any, path: str, default: Any = None) -> Any:
    """`a.b.c` into nested mappings; `default` when any step is missing."""
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return default
        data = data[part]
    return data


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_MARKERS


def _k8s_kind(resource_type: str) -> str | None:
    """`kubernetes:apps/v1:Deployment` -> Deployment (None for other providers)."""
    if not resource_type.startswith("kubernetes:"):
        return None
    return resource_type.rsplit(":", 1)[-1]


def pod_specs(resource_type: str, props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every pod spec a Kubernetes workload object carries, whatever its kind (incl. KubeRay, LWS)."""
    kind = _k8s_kind(resource_type)
    if kind is None:
        return
    spec = props.get("spec") or {}
    candidates = [
        spec if kind == "Pod" else None,
        get(spec, "template.spec"),  # Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
        get(spec, "jobTemplate.spec.template.spec"),  # CronJob
        get(spec, "headGroupSpec.template.spec"),  # RayCluster
        get(spec, "rayClusterConfig.headGroupSpec.template.spec"),  # RayService
        get(spec, "rayClusterSpec.headGroupSpec.template.spec"),  # RayJob
        get(spec, "leaderWorkerTemplate.leaderTemplate.spec"),  # LeaderWorkerSet
        get(spec, "leaderWorkerTemplate.workerTemplate.spec"),
        spec if kind == "ServingRuntime" else None,  # KServe: the runtime's containers and volumes
        get(spec, "predictor") if kind == "InferenceService" else None,  # KServe: the predictor is a pod spec
    ]
    for groups in (
        spec.get("workerGroupSpecs"),
        get(spec, "rayClusterConfig.workerGroupSpecs"),
        get(spec, "rayClusterSpec.workerGroupSpecs"),
    ):
        candidates += [get(g, "template.spec") for g in groups or [] if isinstance(g, Mapping)]
    for pod in candidates:
        if isinstance(pod, Mapping):
            yield pod


def _pod_containers(
    resource_type: str, props: Mapping[str, Any]
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    for pod in pod_specs(resource_type, props):
        for key in ("initContainers", "containers"):
            yield from ((pod, c) for c in pod.get(key) or [] if isinstance(c, Mapping))


def containers(resource_type: str, props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for _, c in _pod_containers(resource_type, props):
        yield c


def command_line(container: Mapping[str, Any]) -> str:
    parts = [*(container.get("command") or []), *(container.get("args") or [])]
    return " ".join(str(p) for p in parts)


VLLM_SERVE = re.compile(r"\bvllm\s+serve\b|vllm\.entrypoints")


def is_vllm(container: Mapping[str, Any]) -> bool:
    """A container that runs the vLLM server from its own command and args."""
    return bool(VLLM_SERVE.search(command_line(container)))


def tensor_parallel_size(container: Mapping[str, Any], line: str | None = None) -> int:
    m = re.search(r"(?:--tensor-parallel-size|-tp)(?:=|\s+)(\d+)", line or command_line(container))
    return int(m.group(1)) if m else 1


ConfigMaps = Mapping[str, Mapping[str, Any]]
"""ConfigMap name -> its data, for scripts a container runs from a mounted ConfigMap."""


def vllm_servers(resource_type: str, props: Mapping[str, Any], config_maps: ConfigMaps | None = None,
                 ) -> Iterator[tuple[Mapping[str, Any], str]]:  # fmt: skip
    """vLLM server containers with the command line they run: their command and args, plus (given
    `config_maps`) the scripts they run from ConfigMaps they mount (a Ray head's serve.sh). KServe: the
    vLLM server of an InferenceService is its `predictor.model` of format vLLM (it carries the model's
    flags, GPUs and probes; the ServingRuntime's container is only the template KServe merges it into)."""
    kind = _k8s_kind(resource_type)
    if kind == "ServingRuntime":
        return
    model = get(props, "spec.predictor.model") if kind == "InferenceService" else None
    if isinstance(model, Mapping) and str(get(model, "modelFormat.name", "")).lower() == "vllm":
        yield model, " ".join(str(a) for a in ["vllm serve", *(model.get("args") or [])])
    for pod, c in _pod_containers(resource_type, props):
        line = command_line(c)
        if config_maps:
            volumes = {
                v.get("name"): get(v, "configMap.name") for v in pod.get("volumes") or [] if isinstance(v, Mapping)
            }
            for mount in c.get("volumeMounts") or []:
                data = config_maps.get(volumes.get(mount.get("name")) or "") or {}
                base = str(mount.get("mountPath", "")).rstrip("/")
                line += "".join(f" {text}" for key, text in data.items() if f"{base}/{key}" in line)
        if VLLM_SERVE.search(line):
            yield c, line


def _gpu_problem(c: Mapping[str, Any], line: str) -> str | None:
    resources = c.get("resources") or {}
    gpus = (resources.get("limits") or {}).get(
        "nvidia.com/gpu", (resources.get("requests") or {}).get("nvidia.com/gpu")
    )
    tp = tensor_parallel_size(c, line)
    if gpus is None:
        return f"vLLM container {c.get('name')} requests no nvidia.com/gpu (tensor parallel {tp})"
    if not is_unknown(gpus) and str(gpus) != str(tp):
        return f"vLLM container {c.get('name')} requests nvidia.com/gpu {gpus} but --tensor-parallel-size is {tp}"
    return None


def _probe_problem(c: Mapping[str, Any]) -> str | None:
    return None if c.get("startupProbe") else f"vLLM container {c.get('name')} has no startupProbe"


def _ports_cover(low: Any, high: Any, port: int) -> bool:
    try:
        return int(low) <= port <= int(high)
    except (TypeError, ValueError):
        return True  # unknown range: assume it does


def _tcp_rule_opens(rule: Mapping[str, Any], port: int, source_key: str) -> bool:
    """An ingress rule (security list or NSG) that lets the world reach `port` over TCP."""
    if rule.get(source_key) != WORLD or str(rule.get("protocol")) not in ("6", "all"):
        return False
    tcp = rule.get("tcpOptions")
    if not tcp:
        return True  # all ports
    low = get(tcp, "destinationPortRange.min", get(tcp, "min"))
    high = get(tcp, "destinationPortRange.max", get(tcp, "max"))
    if low is None and high is None:
        return True
    return _ports_cover(low, high, port)


def _is_gpu_shape(shape: Any) -> bool:
    return isinstance(shape, str) and ".GPU" in shape.upper()


Validate = Callable[[ResourceValidationArgs, ReportViolation], None]


# --------------------------------------------------------------------------------------------
# Validate functions (one per policy; the tests call them directly)
# --------------------------------------------------------------------------------------------


def gpu_nodes_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """GPU instances (instance configurations of cluster networks, plain instances) say assignPublicIp false.

    OCI assigns a public IP by default in a public subnet, so leaving it out is a violation too.
    Node pools are checked through their subnets by `gpu_node_pools_private` (a stack policy).
    DigitalOcean: n/a (DOKS nodes have no per-pool public IP switch; the cluster is in its VPC).
    """
    props = args.props
    if args.resource_type == "oci:Core/instanceConfiguration:InstanceConfiguration":
        launch = get(props, "instanceDetails.launchDetails") or {}
        shape, vnic = launch.get("shape"), launch.get("createVnicDetails") or {}
    elif args.resource_type == "oci:Core/instance:Instance":
        shape, vnic = props.get("shape"), props.get("createVnicDetails") or {}
    else:
        return
    if _is_gpu_shape(shape) and vnic.get("assignPublicIp") is not False:
        report(f"GPU shape {shape} must set createVnicDetails.assignPublicIp false (OCI defaults to a public IP "
               "in a public subnet)", None)  # fmt: skip


def kubernetes_api_not_open(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The Kubernetes API (6443) is not reachable from 0.0.0.0/0.

    OKE: a public endpoint needs NSGs on it; no NSG rule or security list lets 0.0.0.0/0 reach TCP 6443.
    DOKS: a control-plane firewall that lists 0.0.0.0/0 (no firewall at all is DOKS's default and is
    reported by the advisory `doks_api_firewall`).
    """
    t, props = args.resource_type, args.props
    if t == "oci:ContainerEngine/cluster:Cluster":
        endpoint = props.get("endpointConfig") or {}
        if endpoint.get("isPublicIpEnabled") and not endpoint.get("nsgIds"):
            report("a public OKE API endpoint needs endpointConfig.nsgIds that restrict who reaches port 6443", None)
    elif t == "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule":
        if props.get("direction") == "INGRESS" and props.get("sourceType", "CIDR_BLOCK") == "CIDR_BLOCK":  # noqa: SIM102
            if _tcp_rule_opens(props, KUBERNETES_API_PORT, "source"):
                report(f"NSG rule opens TCP {KUBERNETES_API_PORT} (Kubernetes API) to {WORLD}", None)
    elif t == "oci:Core/securityList:SecurityList":
        for rule in props.get("ingressSecurityRules") or []:
            if isinstance(rule, Mapping) and _tcp_rule_opens(rule, KUBERNETES_API_PORT, "source"):
                report(f"security list ingress rule opens TCP {KUBERNETES_API_PORT} (Kubernetes API) to {WORLD}", None)
    elif t == "digitalocean:index/kubernetesCluster:KubernetesCluster":
        firewall = props.get("controlPlaneFirewall") or {}
        if firewall.get("enabled") is not False and WORLD in (firewall.get("allowedAddresses") or []):
            report(f"the DOKS control-plane firewall allows {WORLD}; list the admin CIDRs instead", None)


SSH_PORT = 22


def ssh_not_open(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """SSH (22) is not reachable from 0.0.0.0/0: no NSG rule, security list rule or DigitalOcean firewall
    rule lets the world reach TCP 22 (GPU workers sit in private subnets; SSH comes from a bastion/VPN range)."""
    t, props = args.resource_type, args.props
    if t == "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule":
        if props.get("direction") == "INGRESS" and props.get("sourceType", "CIDR_BLOCK") == "CIDR_BLOCK":  # noqa: SIM102
            if _tcp_rule_opens(props, SSH_PORT, "source"):
                report(f"NSG rule opens TCP {SSH_PORT} (SSH) to {WORLD}", None)
    elif t == "oci:Core/securityList:SecurityList":
        for rule in props.get("ingressSecurityRules") or []:
            if isinstance(rule, Mapping) and _tcp_rule_opens(rule, SSH_PORT, "source"):
                report(f"security list ingress rule opens TCP {SSH_PORT} (SSH) to {WORLD}", None)
    elif t == "digitalocean:index/firewall:Firewall":
        for rule in props.get("inboundRules") or []:
            if not isinstance(rule, Mapping) or rule.get("protocol") != "tcp":
                continue
            ports = str(rule.get("portRange", ""))
            low, _, high = ports.partition("-")
            opens = ports in ("", "all") or _ports_cover(low, high or low, SSH_PORT)
            if opens and WORLD in (rule.get("sourceAddresses") or []):
                report(f"firewall inbound rule opens TCP {SSH_PORT} (SSH) to {WORLD}", None)


def doks_api_firewall(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Advisory: a DOKS cluster without a control-plane firewall takes API connections from anywhere."""
    if args.resource_type != "digitalocean:index/kubernetesCluster:KubernetesCluster":
        return
    firewall = args.props.get("controlPlaneFirewall") or {}
    if not firewall.get("enabled") or not firewall.get("allowedAddresses"):
        report("no control-plane firewall: the Kubernetes API accepts connections from any address (set "
               "doks.apiAllowedCidrs)", None)  # fmt: skip


INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-network-load-balancer-internal": "true",
}


def load_balancer_source_ranges(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A LoadBalancer Service lists loadBalancerSourceRanges or is internal (the Gateway's own load
    balancer is made by the Gateway controller, not by a Service in the program)."""
    if args.resource_type != "kubernetes:core/v1:Service":
        return
    spec = args.props.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return
    annotations = get(args.props, "metadata.annotations") or {}
    if any(str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return
    if not spec.get("loadBalancerSourceRanges"):
        name = get(args.props, "metadata.name", args.name)
        report(f"LoadBalancer Service {name} has no loadBalancerSourceRanges; list client CIDRs or use the "
               "Gateway", None)  # fmt: skip


def gpu_request_matches_tensor_parallel(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A vLLM container's nvidia.com/gpu limit equals its --tensor-parallel-size (a mismatch either
    wastes GPUs or makes vLLM fail to start). With pipeline parallelism over Ray, each node's pod holds
    one tensor-parallel group, so the same holds per pod. Scripts in ConfigMaps: `vllm_scripts`."""
    for c, line in vllm_servers(args.resource_type, args.props):
        if problem := _gpu_problem(c, line):
            report(problem, None)


def vllm_startup_probe(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """vLLM containers have a startup probe, so weight loading is not killed by the liveness probe."""
    for c, _ in vllm_servers(args.resource_type, args.props):
        if problem := _probe_problem(c):
            report(problem, None)


def images_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Every container image carries a version tag or a digest, never `latest`."""
    for c in containers(args.resource_type, args.props):
        image = c.get("image")
        if not isinstance(image, str) or is_unknown(image):
            continue
        name, _, digest = image.partition("@")
        last = name.rsplit("/", 1)[-1]
        if digest:
            continue
        if ":" not in last:
            report(f"container {c.get('name')} image {image} has no tag", None)
        elif last.rsplit(":", 1)[1] == "latest":
            report(f"container {c.get('name')} image {image} uses the moving tag latest", None)


BLOCK_VOLUME_PROVISIONERS = {"blockvolume.csi.oraclecloud.com", "oracle.com/oci"}
FSS_PROVISIONER = "fss.csi.oraclecloud.com"


def _storage_class(args: ResourceValidationArgs) -> tuple[Any, Mapping[str, Any], Any]:
    if args.resource_type != "kubernetes:storage.k8s.io/v1:StorageClass":
        return None, {}, None
    return (
        args.props.get("provisioner"),
        args.props.get("parameters") or {},
        get(args.props, "metadata.name", args.name),
    )


def storage_encrypted_in_transit(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """OCI block-volume StorageClasses attach paravirtualized, OCI's in-transit encryption path (with
    the node pool's isPvEncryptionInTransitEnabled). DigitalOcean volumes: n/a (no such setting)."""
    provisioner, params, name = _storage_class(args)
    if provisioner in BLOCK_VOLUME_PROVISIONERS and params.get("attachment-type") != "paravirtualized":
        report(f"block-volume StorageClass {name} must set parameters.attachment-type paravirtualized "
               "(in-transit encryption)", None)  # fmt: skip


def fss_encrypted_in_transit(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Advisory: File Storage StorageClasses set encryptInTransit "true" (needs oci-fss-utils on the
    nodes, hence advisory: NFS inside the VCN's private subnets is the usual setup)."""
    provisioner, params, name = _storage_class(args)
    if provisioner == FSS_PROVISIONER and str(params.get("encryptInTransit", "")).lower() != "true":
        report(f'File Storage StorageClass {name} does not set parameters.encryptInTransit "true"', None)


def buckets_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Object Storage buckets (OCI) and Spaces buckets (DO) allow no anonymous access."""
    if args.resource_type == "oci:ObjectStorage/bucket:Bucket":
        access = args.props.get("accessType", "NoPublicAccess")
        if access != "NoPublicAccess" and not is_unknown(access):
            report(f"bucket accessType is {access}; use NoPublicAccess", None)
    elif args.resource_type == "digitalocean:index/spacesBucket:SpacesBucket":
        acl = args.props.get("acl", "private")
        if acl != "private" and not is_unknown(acl):
            report(f"Spaces bucket acl is {acl}; use private", None)


def nfs_exports_not_open(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """OCI File Storage exports name their client CIDRs. Without exportOptions OCI exports to
    0.0.0.0/0 read-write, so leaving them out is a violation too. (DO Managed NFS is VPC-only: n/a.)"""
    provisioner, params, name = _storage_class(args)
    if provisioner == FSS_PROVISIONER:  # dynamically provisioned exports: options as a JSON string
        try:
            options = json.loads(params.get("exportOptions") or "[]")
        except (TypeError, ValueError):
            options = []
        if any(isinstance(o, Mapping) and o.get("source") == WORLD for o in options):
            report(f"File Storage StorageClass {name} exports to {WORLD}; name the cluster's subnets", None)
        return
    if args.resource_type != "oci:FileStorage/export:Export":
        return
    options = args.props.get("exportOptions")
    if not options:
        report(f"export has no exportOptions; OCI then exports to {WORLD} read-write", None)
        return
    for option in options:
        if isinstance(option, Mapping) and option.get("source") == WORLD:
            report(f"export option allows {WORLD}; name the cluster's subnets", None)


SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)", re.IGNORECASE)
NOT_A_SECRET_NAME = re.compile(r"_(PATH|FILE|DIR|NAME)$", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"^(hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|dop_v1_[0-9a-f]{20,}|AKIA[0-9A-Z]{16})$|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
HARMLESS_VALUES = {"", "0", "1", "true", "false", "yes", "no"}


def _looks_secret(name: str, value: Any) -> bool:
    if not isinstance(value, str) or is_unknown(value):
        return False
    if value in SECRET_MARKERS or SECRET_VALUE.search(value):
        return True
    return (
        bool(SECRET_NAME.search(name)) and not NOT_A_SECRET_NAME.search(name) and value.lower() not in HARMLESS_VALUES
    )


def no_secrets_in_configmaps(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """ConfigMaps hold no credentials (by key name, by value shape, or a Pulumi secret flowing in)."""
    if args.resource_type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (args.props.get("data") or {}).items():
        if _looks_secret(key, value):
            report(f"ConfigMap key {key} holds a credential; put it in a Secret", None)


def no_literal_secret_env(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Credentials reach containers through valueFrom.secretKeyRef, never a literal env value."""
    for c in containers(args.resource_type, args.props):
        for env in c.get("env") or []:
            if isinstance(env, Mapping) and "value" in env and _looks_secret(str(env.get("name")), env["value"]):
                report(f"container {c.get('name')} env {env.get('name')} is a literal credential; use "
                       "valueFrom.secretKeyRef", None)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Stack validation: GPU node pools sit in private subnets (needs the subnet a pool points at)
# --------------------------------------------------------------------------------------------


def gpu_node_pools_private(args: StackValidationArgs, report: ReportViolation) -> None:
    """An OKE node pool of a GPU shape places its nodes only in subnets that prohibit public IPs."""
    for pool in args.resources:
        if pool.resource_type != "oci:ContainerEngine/nodePool:NodePool" or not _is_gpu_shape(
            pool.props.get("nodeShape")
        ):
            continue
        subnets = [
            r
            for r in (pool.property_dependencies or {}).get("nodeConfigDetails", pool.dependencies)
            if r.resource_type == "oci:Core/subnet:Subnet"
        ]
        for subnet in subnets:
            if subnet.props.get("prohibitPublicIpOnVnic") is not True:
                report(f"GPU node pool {pool.name} ({pool.props.get('nodeShape')}) uses subnet {subnet.name}, which "
                       "allows public IPs (set prohibitPublicIpOnVnic true)", pool.urn)  # fmt: skip


def stack_config_maps(resources: Any) -> dict[str, Mapping[str, Any]]:
    return {
        get(r.props, "metadata.name"): r.props.get("data") or {}
        for r in resources
        if r.resource_type == "kubernetes:core/v1:ConfigMap" and isinstance(get(r.props, "metadata.name"), str)
    }


def vllm_scripts(args: StackValidationArgs, report: ReportViolation) -> None:
    """vLLM servers started from a script in a mounted ConfigMap (a Ray head) request nvidia.com/gpu
    equal to the script's --tensor-parallel-size and have a startup probe, like inline ones."""
    config_maps = stack_config_maps(args.resources)
    for r in args.resources:
        inline = {id(c) for c, _ in vllm_servers(r.resource_type, r.props)}
        for c, line in vllm_servers(r.resource_type, r.props, config_maps):
            if id(c) in inline:
                continue  # the resource policies check these
            for problem in (_gpu_problem(c, line), _probe_problem(c)):
                if problem:
                    report(f"{r.name}: {problem}", r.urn)


# --------------------------------------------------------------------------------------------
# The policies
# --------------------------------------------------------------------------------------------

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


VALIDATE: dict[str, Validate] = {}
"""Policy name -> its validate function (for the tests)."""


def _policy(validate: Validate, name: str, level: EnforcementLevel = MANDATORY) -> ResourceValidationPolicy:
    VALIDATE[name] = validate
    return ResourceValidationPolicy(
        name=name,
        description=(validate.__doc__ or name).strip().splitlines()[0],
        validate=validate,
        enforcement_level=level,
    )


RESOURCE_POLICIES: list[ResourceValidationPolicy] = [
    _policy(gpu_nodes_no_public_ip, "gpu-nodes-no-public-ip"),
    _policy(kubernetes_api_not_open, "kubernetes-api-not-open-to-world"),
    _policy(ssh_not_open, "ssh-not-open-to-world"),
    _policy(doks_api_firewall, "doks-api-firewall", ADVISORY),
    _policy(load_balancer_source_ranges, "load-balancer-source-ranges"),
    _policy(gpu_request_matches_tensor_parallel, "gpu-request-matches-tensor-parallel"),
    _policy(vllm_startup_probe, "vllm-startup-probe"),
    _policy(images_pinned, "images-pinned"),
    _policy(storage_encrypted_in_transit, "storage-encrypted-in-transit"),
    _policy(fss_encrypted_in_transit, "fss-encrypted-in-transit", ADVISORY),
    _policy(buckets_private, "buckets-private"),
    _policy(nfs_exports_not_open, "nfs-exports-not-open"),
    _policy(no_secrets_in_configmaps, "no-secrets-in-configmaps"),
    _policy(no_literal_secret_env, "no-literal-secret-env"),
]

STACK_POLICIES: list[StackValidationPolicy] = [
    StackValidationPolicy(
        name="gpu-node-pools-in-private-subnets",
        description="OKE GPU node pools place nodes only in subnets that prohibit public IPs.",
        validate=gpu_node_pools_private,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="vllm-scripts-gpu-and-probe",
        description="vLLM servers started from ConfigMap scripts request GPUs = TP and have startup probes.",
        validate=vllm_scripts,
        enforcement_level=MANDATORY,
    ),
]

POLICIES: list[Policy] = [*RESOURCE_POLICIES, *STACK_POLICIES]
