"""The policy pack: each validate function fails a bad resource and passes a good one, and every stack's
offline plan passes every mandatory policy."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policy import policies as p
from tests.harness import KUBERNETES_STACKS, STACKS, default_run


def violations(validate: Any, resource_type: str, props: dict[str, Any]) -> list[str]:
    found: list[str] = []
    args = SimpleNamespace(resource_type=resource_type, props=props, urn=f"urn:test::{resource_type}", name="r")
    validate(args, lambda message, urn=None: found.append(message))
    return found


def vllm_deployment(
    gpus: str | None = "2",
    tp: int = 2,
    probe: bool = True,
    image: str = "vllm/vllm-openai:v0.33.0",
    env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "vllm",
        "image": image,
        "command": ["vllm", "serve"],
        "args": ["/models/x", "--tensor-parallel-size", str(tp)],
        "env": env or [],
    }
    if gpus is not None:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpus}}
    if probe:
        container["startupProbe"] = {"httpGet": {"path": "/health", "port": "http"}}
    return {"metadata": {"name": "vllm"}, "spec": {"template": {"spec": {"containers": [container]}}}}


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RAY = "kubernetes:ray.io/v1:RayCluster"

# (validate, resource type, failing props, passing props)
CASES: list[tuple[Any, str, dict[str, Any], dict[str, Any]]] = [
    (
        p.ssh_not_open,
        "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
        {
            "direction": "INGRESS",
            "protocol": "6",
            "source": "0.0.0.0/0",
            "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}},
        },
        {
            "direction": "INGRESS",
            "protocol": "6",
            "source": "10.0.0.0/16",
            "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}},
        },
    ),
    (
        p.ssh_not_open,
        "oci:Core/securityList:SecurityList",
        {"ingressSecurityRules": [{"protocol": "all", "source": "0.0.0.0/0"}]},
        {"ingressSecurityRules": [{"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"min": 443, "max": 443}}]},
    ),
    (
        p.ssh_not_open,
        "digitalocean:index/firewall:Firewall",
        {"inboundRules": [{"protocol": "tcp", "portRange": "22", "sourceAddresses": ["0.0.0.0/0"]}]},
        {"inboundRules": [{"protocol": "tcp", "portRange": "22", "sourceAddresses": ["10.10.0.0/16"]}]},
    ),
    (
        p.gpu_nodes_no_public_ip,
        "oci:Core/instanceConfiguration:InstanceConfiguration",
        {"instanceDetails": {"launchDetails": {"shape": "BM.GPU.H100.8", "createVnicDetails": {"subnetId": "s"}}}},
        {
            "instanceDetails": {
                "launchDetails": {"shape": "BM.GPU.H100.8", "createVnicDetails": {"assignPublicIp": False}}
            }
        },
    ),
    (
        p.gpu_nodes_no_public_ip,
        "oci:Core/instance:Instance",
        {"shape": "VM.GPU.A10.1", "createVnicDetails": {"assignPublicIp": True}},
        {"shape": "VM.Standard.E5.Flex", "createVnicDetails": {"assignPublicIp": True}},  # not a GPU node
    ),
    (
        p.kubernetes_api_not_open,
        "oci:ContainerEngine/cluster:Cluster",
        {"endpointConfig": {"isPublicIpEnabled": True, "subnetId": "s"}},
        {"endpointConfig": {"isPublicIpEnabled": True, "subnetId": "s", "nsgIds": ["nsg"]}},
    ),
    (
        p.kubernetes_api_not_open,
        "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
        {
            "direction": "INGRESS",
            "protocol": "6",
            "source": "0.0.0.0/0",
            "tcpOptions": {"destinationPortRange": {"min": 6443, "max": 6443}},
        },
        {
            "direction": "INGRESS",
            "protocol": "6",
            "source": "203.0.113.0/24",
            "tcpOptions": {"destinationPortRange": {"min": 6443, "max": 6443}},
        },
    ),
    (
        p.kubernetes_api_not_open,
        "oci:Core/securityList:SecurityList",
        {"ingressSecurityRules": [{"protocol": "all", "source": "0.0.0.0/0"}]},
        {"ingressSecurityRules": [{"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"min": 443, "max": 443}}]},
    ),
    (
        p.kubernetes_api_not_open,
        "digitalocean:index/kubernetesCluster:KubernetesCluster",
        {"controlPlaneFirewall": {"enabled": True, "allowedAddresses": ["0.0.0.0/0"]}},
        {"controlPlaneFirewall": {"enabled": True, "allowedAddresses": ["203.0.113.7/32"]}},
    ),
    (
        p.doks_api_firewall,
        "digitalocean:index/kubernetesCluster:KubernetesCluster",
        {"region": "nyc2"},
        {"controlPlaneFirewall": {"enabled": True, "allowedAddresses": ["203.0.113.7/32"]}},
    ),
    (
        p.load_balancer_source_ranges,
        "kubernetes:core/v1:Service",
        {"metadata": {"name": "vllm"}, "spec": {"type": "LoadBalancer"}},
        {"metadata": {"name": "vllm"}, "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}},
    ),
    (
        p.load_balancer_source_ranges,
        "kubernetes:core/v1:Service",
        {"metadata": {"name": "vllm"}, "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": []}},
        {
            "metadata": {
                "name": "vllm",
                "annotations": {"service.beta.kubernetes.io/oci-load-balancer-internal": "true"},
            },
            "spec": {"type": "LoadBalancer"},
        },
    ),
    (p.gpu_request_matches_tensor_parallel, DEPLOYMENT, vllm_deployment(gpus="1", tp=2), vllm_deployment()),
    (p.gpu_request_matches_tensor_parallel, DEPLOYMENT, vllm_deployment(gpus=None), vllm_deployment()),
    (
        p.gpu_request_matches_tensor_parallel,
        RAY,
        {
            "spec": {
                "headGroupSpec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "head",
                                    "command": [
                                        "/bin/bash",
                                        "-c",
                                        "ray start --head && vllm serve m --tensor-parallel-size 8",
                                    ],
                                    "resources": {"limits": {"nvidia.com/gpu": "4"}},
                                }
                            ]
                        }
                    }
                }
            }
        },
        {
            "spec": {
                "headGroupSpec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "head",
                                    "command": [
                                        "/bin/bash",
                                        "-c",
                                        "ray start --head && vllm serve m --tensor-parallel-size 8",
                                    ],
                                    "resources": {"limits": {"nvidia.com/gpu": "8"}},
                                }
                            ]
                        }
                    }
                }
            }
        },
    ),
    (p.vllm_startup_probe, DEPLOYMENT, vllm_deployment(probe=False), vllm_deployment()),
    (p.images_pinned, DEPLOYMENT, vllm_deployment(image="vllm/vllm-openai:latest"), vllm_deployment()),
    (
        p.images_pinned,
        "kubernetes:batch/v1:Job",
        {"spec": {"template": {"spec": {"containers": [{"name": "dl", "image": "python"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "dl", "image": "python@sha256:" + "a" * 64}]}}}},
    ),
    (
        p.storage_encrypted_in_transit,
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"metadata": {"name": "bv"}, "provisioner": "blockvolume.csi.oraclecloud.com", "parameters": {}},
        {
            "metadata": {"name": "bv"},
            "provisioner": "blockvolume.csi.oraclecloud.com",
            "parameters": {"attachment-type": "paravirtualized"},
        },
    ),
    (
        p.fss_encrypted_in_transit,
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"metadata": {"name": "fss"}, "provisioner": "fss.csi.oraclecloud.com", "parameters": {"mountTargetOcid": "m"}},
        {
            "metadata": {"name": "fss"},
            "provisioner": "fss.csi.oraclecloud.com",
            "parameters": {"encryptInTransit": "true"},
        },
    ),
    (
        p.buckets_private,
        "oci:ObjectStorage/bucket:Bucket",
        {"name": "models", "accessType": "ObjectRead"},
        {"name": "models", "accessType": "NoPublicAccess"},
    ),
    (
        p.buckets_private,
        "digitalocean:index/spacesBucket:SpacesBucket",
        {"name": "models", "acl": "public-read"},
        {"name": "models"},
    ),
    (
        p.nfs_exports_not_open,
        "oci:FileStorage/export:Export",
        {"path": "/models", "exportOptions": [{"source": "0.0.0.0/0", "access": "READ_WRITE"}]},
        {"path": "/models", "exportOptions": [{"source": "10.0.10.0/24", "access": "READ_WRITE"}]},
    ),
    (
        p.nfs_exports_not_open,
        "oci:FileStorage/export:Export",
        {"path": "/models"},
        {"path": "/models", "exportOptions": [{"source": "10.0.0.0/16"}]},
    ),
    (
        p.nfs_exports_not_open,
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"provisioner": "fss.csi.oraclecloud.com", "parameters": {"exportOptions": '[{"source": "0.0.0.0/0"}]'}},
        {"provisioner": "fss.csi.oraclecloud.com", "parameters": {"exportOptions": '[{"source": "10.0.16.0/20"}]'}},
    ),
    (
        p.no_secrets_in_configmaps,
        "kubernetes:core/v1:ConfigMap",
        {"data": {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz0123"}},
        {"data": {"MODEL_ID": "Qwen/Qwen2.5-0.5B-Instruct", "TOKEN_PATH": "/var/run/secrets/token"}},
    ),
    (
        p.no_secrets_in_configmaps,
        "kubernetes:core/v1:ConfigMap",
        {"data": {"settings": "[secret]"}},
        {"data": {"settings": "max_tokens=10"}},
    ),
    (
        p.no_literal_secret_env,
        DEPLOYMENT,
        vllm_deployment(env=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "abc123"}]),
        vllm_deployment(
            env=[
                {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "secret"}}},
                {"name": "HF_HUB_OFFLINE", "value": "1"},
            ]
        ),
    ),
]


@pytest.mark.parametrize(
    ("validate", "resource_type", "bad", "good"), CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_fails_bad_and_passes_good(validate: Any, resource_type: str, bad: dict, good: dict) -> None:
    assert violations(validate, resource_type, bad), f"{validate.__name__} let a bad {resource_type} through"
    assert violations(validate, resource_type, good) == []


def test_every_resource_policy_has_a_case() -> None:
    tested = {c[0] for c in CASES}
    missing = [pol.name for pol in p.RESOURCE_POLICIES if p.VALIDATE[pol.name] not in tested]
    assert missing == []
    assert len(p.RESOURCE_POLICIES) >= 10


def _subnet(name: str, prohibit: bool) -> SimpleNamespace:
    return SimpleNamespace(
        resource_type="oci:Core/subnet:Subnet",
        name=name,
        urn=f"urn:{name}",
        props={"prohibitPublicIpOnVnic": prohibit},
        dependencies=[],
        property_dependencies={},
    )


def _stack_violations(subnet: SimpleNamespace) -> list[str]:
    pool = SimpleNamespace(
        resource_type="oci:ContainerEngine/nodePool:NodePool",
        name="gpu",
        urn="urn:gpu",
        props={"nodeShape": "BM.GPU.H100.8"},
        dependencies=[subnet],
        property_dependencies={"nodeConfigDetails": [subnet]},
    )
    found: list[str] = []
    args: Any = SimpleNamespace(resources=[subnet, pool])
    p.gpu_node_pools_private(args, lambda m, urn=None: found.append(m))
    return found


def test_gpu_node_pool_in_public_subnet_fails_private_passes() -> None:
    assert _stack_violations(_subnet("workers", prohibit=False))
    assert _stack_violations(_subnet("workers", prohibit=True)) == []


# --------------------------------------------------------------------------------------------
# Every stack's plan passes every mandatory policy
# --------------------------------------------------------------------------------------------


def _mandatory(policy: Any) -> bool:
    return policy.enforcement_level == EnforcementLevel.MANDATORY


@pytest.mark.parametrize("stack", STACKS)
def test_stack_plan_passes_mandatory_policies(stack: str) -> None:
    run = default_run(stack)
    resources = [r for r in run.registered() if r.custom]
    found: list[str] = []
    for r in resources:
        args = SimpleNamespace(resource_type=r.type, props=r.inputs, urn=r.urn, name=r.name)
        for pol in filter(_mandatory, p.RESOURCE_POLICIES):
            pol.validate(args, lambda m, urn=None, pol=pol, r=r: found.append(f"{pol.name}: {r.name}: {m}"))  # type: ignore[arg-type]

    views = {r.urn: SimpleNamespace(resource_type=r.type, props=r.inputs, urn=r.urn, name=r.name) for r in resources}
    for r in resources:
        deps = [views[d] for d in r.dependencies if d in views]
        views[r.urn].dependencies = deps
        views[r.urn].property_dependencies = {}  # not captured offline: the policy falls back to dependencies
    stack_args = SimpleNamespace(resources=list(views.values()))
    for pol in filter(_mandatory, p.STACK_POLICIES):
        pol.validate(stack_args, lambda m, urn=None, pol=pol: found.append(f"{pol.name}: {m}"))  # type: ignore[arg-type]
    assert found == []


def _ray_head(gpus: str, probe: bool) -> SimpleNamespace:
    head = {
        "name": "ray-head",
        "args": ["bash /scripts/serve.sh & ray start --head"],
        "volumeMounts": [{"name": "scripts", "mountPath": "/scripts"}],
        "resources": {"limits": {"nvidia.com/gpu": gpus}},
    }
    if probe:
        head["startupProbe"] = {"httpGet": {"path": "/health", "port": "http"}}
    spec = {"containers": [head], "volumes": [{"name": "scripts", "configMap": {"name": "vllm-ray-scripts"}}]}
    return SimpleNamespace(
        resource_type=RAY, name="ray", urn="urn:ray", props={"spec": {"headGroupSpec": {"template": {"spec": spec}}}}
    )


def _script_violations(head: SimpleNamespace) -> list[str]:
    script = SimpleNamespace(
        resource_type="kubernetes:core/v1:ConfigMap",
        name="scripts",
        urn="urn:cm",
        props={
            "metadata": {"name": "vllm-ray-scripts"},
            "data": {"serve.sh": "exec vllm serve s3://m --tensor-parallel-size 8 --pipeline-parallel-size 2"},
        },
    )
    found: list[str] = []
    args: Any = SimpleNamespace(resources=[script, head])
    p.vllm_scripts(args, lambda m, urn=None: found.append(m))
    return found


def test_vllm_started_from_a_config_map_script_is_checked() -> None:
    assert _script_violations(_ray_head("4", probe=True))  # 4 GPUs for TP 8
    assert _script_violations(_ray_head("8", probe=False))  # no startup probe
    assert _script_violations(_ray_head("8", probe=True)) == []


@pytest.mark.parametrize("stack", KUBERNETES_STACKS)
def test_policies_see_the_stack_workload(stack: str) -> None:
    """The plan has what the workload policies look at, so passing them is not vacuous."""
    run = default_run(stack)
    resources = [SimpleNamespace(resource_type=r.type, props=r.inputs, name=r.name) for r in run.registered()]
    config_maps = p.stack_config_maps(resources)
    servers = [c for r in resources for c, _ in p.vllm_servers(r.resource_type, r.props, config_maps)]
    assert servers, f"{stack}: no vLLM server container found by the policies' workload walker"
