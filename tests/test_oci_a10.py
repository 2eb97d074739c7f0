"""The oci-a10 stack: OKE in its own VCN, a CPU system pool and a tainted A10 pool, File Storage for the
weights, vLLM behind an OCI load balancer. And the same program on BM.GPU.H100.8 with TP=8."""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import pytest

from tests.harness import (
    all_of,
    config_error,
    containers,
    default_run,
    k8s_object,
    k8s_objects,
    one,
    preview,
)
from tools import estimates, manifests
from tools.engine import SECRET, ProgramRun, ResourceRecord
from tools.mocks_base import ocid
from tools.preview import load_stack_config

STACK = "oci-a10"
H100_CONFIG = Path(__file__).parent / "configs" / "oci-h100-tp8.yaml"
OSN = "all-iad-services-in-oracle-services-network"
WORKERS, API, LBS, FSS, PODS = "10.0.16.0/20", "10.0.0.0/28", "10.0.2.0/24", "10.0.3.0/24", "10.0.64.0/18"
OCIR_TOKEN = {"secrets": {"ocirAuthToken": "an-auth-token"}}
OCIR = {"tenancyNamespace": "axaxnpcrorw5", "username": "jane@example.com"}


def a10() -> ProgramRun:
    return default_run(STACK)


@functools.cache
def h100() -> ProgramRun:
    run = preview(STACK, raw=load_stack_config(STACK, H100_CONFIG))
    assert run.error is None, f"{H100_CONFIG.name} failed: {run.error!r}"
    return run


def rules(run: ProgramRun, role: str) -> list[dict]:
    """The NSG rules of one role (api, workers, pods, fss), as sent."""
    return [r.inputs for r in all_of(run, "NetworkSecurityGroupSecurityRule") if f"-net-{role}-" in r.name]


def ports(rule: dict) -> tuple[int, int] | None:
    options = rule.get("tcpOptions") or rule.get("udpOptions")
    if not options:
        return None
    span = options["destinationPortRange"]
    return span["min"], span["max"]


def peer(rule: dict) -> str:
    return rule["source"] if rule["direction"] == "INGRESS" else rule["destination"]


def user_data(pool: ResourceRecord) -> str:
    return base64.b64decode(pool.inputs["nodeMetadata"]["user_data"]).decode()


def resource_id(record: ResourceRecord, kind: str) -> str:
    """The OCID the mocks hand out for a resource (tools/mocks_oci.py)."""
    return ocid(kind, record.name, "iad")


# --- network ---------------------------------------------------------------------------------


def test_worker_subnet_is_private_and_routes_through_nat_and_service_gateway():
    run = a10()
    workers = one(run, "subnet:Subnet", "-net-workers")
    assert workers.inputs["cidrBlock"] == WORKERS
    assert workers.inputs["prohibitPublicIpOnVnic"] is True
    assert workers.inputs["prohibitInternetIngress"] is True
    private_rt = one(run, "routeTable:RouteTable", "private")
    assert workers.inputs["routeTableId"] == resource_id(private_rt, "routetable")
    routes = {r["destination"]: r for r in private_rt.inputs["routeRules"]}
    assert routes[OSN]["destinationType"] == "SERVICE_CIDR_BLOCK"
    assert routes[OSN]["networkEntityId"] == resource_id(one(run, "ServiceGateway"), "servicegateway")
    assert routes["0.0.0.0/0"]["networkEntityId"] == resource_id(one(run, "NatGateway"), "natgateway")


def test_service_gateway_reaches_all_regional_services():
    sgw = one(a10(), "ServiceGateway")
    assert sgw.inputs["services"] == [{"serviceId": ocid("service", OSN, "iad")}]


def test_public_subnets_route_only_to_the_internet_gateway():
    run = a10()
    public_rt = one(run, "routeTable:RouteTable", "public")
    assert [r["destination"] for r in public_rt.inputs["routeRules"]] == ["0.0.0.0/0"]
    assert public_rt.inputs["routeRules"][0]["networkEntityId"] == resource_id(
        one(run, "InternetGateway"), "internetgateway"
    )
    lb = one(run, "subnet:Subnet", "-net-lb")
    assert lb.inputs["prohibitPublicIpOnVnic"] is False
    assert lb.inputs["routeTableId"] == resource_id(public_rt, "routetable")


def test_subnets_never_use_the_vcn_default_security_list():
    run = a10()
    nsg_only = one(run, "securityList:SecurityList", "nsg-only")
    assert nsg_only.inputs.get("ingressSecurityRules", []) == []
    assert nsg_only.inputs.get("egressSecurityRules", []) == []
    for subnet in all_of(run, "subnet:Subnet"):
        expected = "lb-sl" if subnet.name.endswith("-lb") else "nsg-only"
        sl = one(run, "securityList:SecurityList", expected)
        assert subnet.inputs["securityListIds"] == [resource_id(sl, "securitylist")], subnet.name


def test_api_endpoint_rules_are_oracles_and_clients_come_from_the_allow_list():
    api = rules(a10(), "api")
    ingress = {(r["protocol"], r["source"], ports(r)) for r in api if r["direction"] == "INGRESS"}
    assert ("6", WORKERS, (6443, 6443)) in ingress
    assert ("6", WORKERS, (12250, 12250)) in ingress
    assert ("6", "203.0.113.10/32", (6443, 6443)) in ingress
    assert ("1", WORKERS, None) in ingress  # ICMP 3/4 path discovery
    assert len(ingress) == 4
    osn = [r for r in api if r["direction"] == "EGRESS" and r["destinationType"] == "SERVICE_CIDR_BLOCK"]
    assert [(r["destination"], ports(r)) for r in osn] == [(OSN, (443, 443))]


def test_worker_rules_are_oracles():
    workers = rules(a10(), "workers")
    ingress = {(r["protocol"], r["source"], ports(r)) for r in workers if r["direction"] == "INGRESS"}
    egress = {(r["protocol"], r["destination"], ports(r)) for r in workers if r["direction"] == "EGRESS"}
    assert ("all", WORKERS, None) in ingress and ("all", WORKERS, None) in egress
    assert ("6", API, None) in ingress  # API -> kubelets and webhooks (flannel)
    assert ("6", LBS, (30000, 32767)) in ingress and ("6", LBS, (10256, 10256)) in ingress
    assert ("6", OSN, None) in egress
    assert ("6", API, (6443, 6443)) in egress and ("6", API, (12250, 12250)) in egress
    assert {
        ("6", FSS, (111, 111)),
        ("6", FSS, (2048, 2050)),
        ("17", FSS, (111, 111)),
        ("17", FSS, (2048, 2048)),
    } <= egress


@pytest.mark.parametrize("run", [a10, h100], ids=["a10", "h100"])
def test_nothing_is_open_to_the_internet_but_path_discovery(run):
    for rule in [r.inputs for r in all_of(run(), "NetworkSecurityGroupSecurityRule")]:
        if rule["direction"] == "INGRESS" and rule["source"] == "0.0.0.0/0":
            assert rule["protocol"] == "1" and rule["icmpOptions"] == {"type": 3, "code": 4}, rule


def test_file_storage_mount_target_accepts_nfs_from_workers_only():
    fss = rules(a10(), "fss")
    assert {(r["direction"], r["protocol"], r["source"], ports(r)) for r in fss} == {
        ("INGRESS", "6", WORKERS, (111, 111)),
        ("INGRESS", "6", WORKERS, (2048, 2050)),
        ("INGRESS", "17", WORKERS, (111, 111)),
        ("INGRESS", "17", WORKERS, (2048, 2048)),
    }
    mount_target = one(a10(), "MountTarget")
    fss_nsg = one(a10(), "/networkSecurityGroup:NetworkSecurityGroup", "fss")
    assert mount_target.inputs["nsgIds"] == [resource_id(fss_nsg, "networksecuritygroup")]
    assert mount_target.inputs["subnetId"] == resource_id(one(a10(), "subnet:Subnet", "-net-fss"), "subnet")


def test_load_balancer_subnet_admits_only_the_endpoint_allow_list():
    sl = one(a10(), "securityList:SecurityList", "lb-sl").inputs
    assert [(r["source"], r["tcpOptions"]) for r in sl["ingressSecurityRules"]] == [
        ("203.0.113.0/24", {"min": 80, "max": 80})
    ]
    assert {(r["destination"], r["tcpOptions"]["min"], r["tcpOptions"]["max"]) for r in sl["egressSecurityRules"]} == {
        (WORKERS, 30000, 32767),
        (WORKERS, 10256, 10256),
    }


def test_vcn_native_pods_get_their_subnet_and_nsg():
    run = h100()
    pods = one(run, "subnet:Subnet", "-net-pods")
    assert pods.inputs["cidrBlock"] == PODS and pods.inputs["prohibitPublicIpOnVnic"] is True
    pool = one(run, "NodePool", "gpu-pool").inputs["nodeConfigDetails"]["nodePoolPodNetworkOptionDetails"]
    assert pool["cniType"] == "OCI_VCN_IP_NATIVE"
    assert pool["podSubnetIds"] == [resource_id(pods, "subnet")]
    assert {("all", PODS)} <= {(r["protocol"], r["source"]) for r in rules(run, "pods") if r["direction"] == "INGRESS"}


def test_vcn_native_pods_reach_hostnetwork_pods_on_workers_and_do_path_discovery_both_ways():
    # terraform-oci-oke modules/network/nsg-pods.tf: pods -> workers for NodePorts and hostNetwork pods
    # (the KubeRay operator reaching a hostNetwork Ray head), ICMP 3/4 in and out.
    pods = {(r["direction"], r["protocol"], peer(r), str(r.get("icmpOptions"))) for r in rules(h100(), "pods")}
    assert ("EGRESS", "all", WORKERS, "None") in pods
    assert ("INGRESS", "1", "0.0.0.0/0", str({"type": 3, "code": 4})) in pods
    assert ("EGRESS", "1", "0.0.0.0/0", str({"type": 3, "code": 4})) in pods


# --- cluster ---------------------------------------------------------------------------------


def test_cluster_is_enhanced_with_the_configured_version_cni_and_ranges():
    run = a10()
    cluster = one(run, "cluster:Cluster").inputs
    assert cluster["type"] == "ENHANCED_CLUSTER"
    assert cluster["kubernetesVersion"] == "v1.33.1"
    assert cluster["clusterPodNetworkOptions"] == [{"cniType": "FLANNEL_OVERLAY"}]
    assert cluster["options"]["kubernetesNetworkConfig"] == {
        "podsCidr": "10.244.0.0/16",
        "servicesCidr": "10.96.0.0/16",
    }
    assert cluster["options"]["serviceLbSubnetIds"] == [resource_id(one(run, "subnet:Subnet", "-net-lb"), "subnet")]
    assert cluster["endpointConfig"]["isPublicIpEnabled"] is True
    assert cluster["endpointConfig"]["nsgIds"] == [
        resource_id(one(run, "/networkSecurityGroup:NetworkSecurityGroup", "api"), "networksecuritygroup")
    ]


def test_private_api_endpoint_sits_in_a_private_subnet():
    run = h100()
    assert one(run, "cluster:Cluster").inputs["endpointConfig"]["isPublicIpEnabled"] is False
    assert one(run, "subnet:Subnet", "-net-api").inputs["prohibitPublicIpOnVnic"] is True


def test_kubeconfig_is_a_secret_and_feeds_the_cluster_provider():
    run = a10()
    assert run.outputs["kubeconfig"] == SECRET
    provider = one(run, "providers:kubernetes")
    assert provider.inputs["kubeconfig"] == SECRET
    assert provider.parent == one(run, "oke:Cluster").urn


def test_every_kubernetes_resource_uses_the_cluster_provider():
    run = a10()
    provider = one(run, "providers:kubernetes").urn
    k8s_resources = [r for r in run.registered() if r.custom and r.type.startswith("kubernetes:")]
    assert k8s_resources
    assert all(r.provider == provider for r in k8s_resources), [r.name for r in k8s_resources if r.provider != provider]


# --- node pools ------------------------------------------------------------------------------


def test_gpu_pool_is_tainted_and_only_vllm_tolerates_it():
    run = a10()
    gpu, system = one(run, "NodePool", "gpu-pool"), one(run, "NodePool", "system-pool")
    assert '--kubelet-extra-args "--register-with-taints=nvidia.com/gpu=present:NoSchedule"' in user_data(gpu)
    assert "register-with-taints" not in user_data(system)
    labels = {label["key"]: label["value"] for label in gpu.inputs["initialNodeLabels"]}
    pod = k8s_object(run, "Deployment", "vllm")["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["nodeSelector"].items() <= labels.items()
    job = next(o for o in k8s_objects(run) if o["kind"] == "Job")["spec"]["template"]["spec"]
    system_labels = {label["key"]: label["value"] for label in system.inputs["initialNodeLabels"]}
    assert job["nodeSelector"].items() <= system_labels.items()
    assert "tolerations" not in job


@pytest.mark.parametrize(("run", "gpus"), [(a10, "1"), (h100, "8")], ids=["a10", "h100"])
def test_gpu_requests_equal_tensor_parallel_size(run, gpus):
    (vllm,) = [c for c in containers(k8s_object(run(), "Deployment", "vllm")) if c["name"] == "vllm"]
    assert vllm["resources"]["requests"]["nvidia.com/gpu"] == gpus
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == gpus
    assert vllm["args"][vllm["args"].index("--tensor-parallel-size") + 1] == gpus


def test_root_filesystem_is_grown_before_the_node_joins():
    for pool in all_of(a10(), "nodePool:NodePool"):
        script = user_data(pool).splitlines()
        grow = next(i for i, line in enumerate(script) if "oci-growfs -y" in line)
        join = next(i for i, line in enumerate(script) if line.startswith("bash /var/run/oke-init.sh"))
        assert script[0] == "#!/bin/bash" and "oke_init_script" in script[1] and grow < join
    assert one(a10(), "NodePool", "gpu-pool").inputs["nodeSourceDetails"]["bootVolumeSizeInGbs"] == "250"


def test_images_are_the_oke_images_of_the_exact_version():
    run = a10()
    gpu_image = "Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.33.1-1301"  # not ...-OKE-1.33.10-...
    cpu_image = "Oracle-Linux-8.10-2025.10.23-0-OKE-1.33.1-1301"
    assert one(run, "NodePool", "gpu-pool").inputs["nodeSourceDetails"]["imageId"] == ocid("image", gpu_image, "iad")
    assert one(run, "NodePool", "system-pool").inputs["nodeSourceDetails"]["imageId"] == ocid("image", cpu_image, "iad")


def test_image_lookup_matches_the_exact_version_architecture_and_gpu_kind():
    from types import SimpleNamespace

    from components.oke import pick_image

    def source(name: str) -> SimpleNamespace:
        return SimpleNamespace(source_type="IMAGE", source_name=name, image_id=f"id:{name}")

    sources = [
        source("Oracle-Linux-8.10-Gen2-GPU-2025.09.16-0-OKE-1.33.1-1"),
        source("Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.33.10-2"),
        source("Oracle-Linux-8.10-aarch64-2025.10.23-0-OKE-1.33.1-3"),
        source("Oracle-Linux-8.10-2025.10.23-0-OKE-1.33.1-4"),
        source("Oracle-Linux-8.9-Gen2-GPU-2025.11.01-0-OKE-1.33.1-5"),
    ]
    assert pick_image(sources, "v1.33.1", gpu=True) == "id:Oracle-Linux-8.10-Gen2-GPU-2025.09.16-0-OKE-1.33.1-1"
    assert pick_image(sources, "v1.33.1", gpu=False) == "id:Oracle-Linux-8.10-2025.10.23-0-OKE-1.33.1-4"
    with pytest.raises(ValueError, match=re.escape("no GPU OKE image named *-OKE-1.34.2-*")):
        pick_image(sources, "v1.34.2", gpu=True)


def test_idle_gpus_are_called_out():
    run = preview(STACK, oke={"gpuPool": {"shape": "VM.GPU.A10.2"}})
    assert any(level == "warning" and "1 GPU(s) per node stay idle" in message for level, message in run.logs)
    assert not any("stay idle" in message for _, message in a10().logs)


def test_an_image_id_from_config_is_used_as_is():
    # An image that exists (the mock tenancy's GetImage knows it) and is built for the cluster's version.
    image = ocid("image", "Oracle-Linux-8.10-Gen2-GPU-2025.09.16-0-OKE-1.33.1-1234", "iad")
    run = preview(STACK, oke={"gpuPool": {"imageId": image}})
    assert run.error is None, run.error
    assert one(run, "NodePool", "gpu-pool").inputs["nodeSourceDetails"]["imageId"] == image


def test_gpu_pool_placement_and_shape():
    run = a10()
    gpu = one(run, "NodePool", "gpu-pool").inputs
    assert gpu["nodeShape"] == "VM.GPU.A10.1" and "nodeShapeConfig" not in gpu
    details = gpu["nodeConfigDetails"]
    assert [p["availabilityDomain"] for p in details["placementConfigs"]] == [
        "Uocm:US-ASHBURN-AD-2",
        "Uocm:US-ASHBURN-AD-3",
    ]
    workers = resource_id(one(run, "subnet:Subnet", "-net-workers"), "subnet")
    assert {p["subnetId"] for p in details["placementConfigs"]} == {workers}
    assert details["size"] == 1 and details["isPvEncryptionInTransitEnabled"] is True
    system = one(run, "NodePool", "system-pool").inputs
    assert system["nodeShapeConfig"] == {"ocpus": 2, "memoryInGbs": 16}


def test_fault_domains_and_ssh_key_are_optional_extras():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly jane@laptop"
    run = preview(STACK, oke={"gpuPool": {"faultDomains": ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2"], "sshPublicKey": key}})
    assert run.error is None, run.error
    gpu = one(run, "NodePool", "gpu-pool").inputs
    assert gpu["sshPublicKey"] == key
    assert all(
        p["faultDomains"] == ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2"] for p in gpu["nodeConfigDetails"]["placementConfigs"]
    )
    assert "sshPublicKey" not in one(a10(), "NodePool", "gpu-pool").inputs


def test_gpu_device_plugin_is_okes_add_on_and_vllm_waits_for_it():
    run = a10()
    addon = one(run, "addon:Addon")
    assert addon.inputs["addonName"] == "NvidiaGpuPlugin"
    deployment = one(run, "apps/v1:Deployment", "vllm-vllm")
    assert addon.urn in deployment.dependencies or one(run, "oke:GpuEnablement").urn in deployment.dependencies
    pinned = preview(STACK, oke={"gpuPluginVersion": "v0.17.2"})
    assert one(pinned, "addon:Addon").inputs["version"] == "v0.17.2"


# --- storage ---------------------------------------------------------------------------------


def test_storage_classes():
    run = a10()
    bv = k8s_object(run, "StorageClass", "oci-bv-encrypted")
    assert bv["provisioner"] == "blockvolume.csi.oraclecloud.com"
    assert bv["parameters"]["attachment-type"] == "paravirtualized"
    assert bv["volumeBindingMode"] == "WaitForFirstConsumer" and bv["allowVolumeExpansion"] is True
    # No dynamic File Storage class: it would need a cluster-principal IAM policy (tests/test_storage.py).
    assert [o["metadata"]["name"] for o in k8s_objects(run) if o["kind"] == "StorageClass"] == ["oci-bv-encrypted"]


def test_export_options_are_limited_to_the_nfs_clients():
    export = one(a10(), "export:Export").inputs
    assert export["path"] == "/models"
    assert export["exportOptions"] == [
        {"source": WORKERS, "access": "READ_WRITE", "identitySquash": "NONE", "requirePrivilegedSourcePort": True}
    ]
    assert [o["source"] for o in one(h100(), "export:Export").inputs["exportOptions"]] == [WORKERS, PODS]


def test_model_store_is_the_nfs_store_on_file_storage():
    run = a10()
    pv = k8s_object(run, "PersistentVolume")
    assert pv["spec"]["nfs"] == {"server": "10.0.3.10", "path": "/models"}  # the mount target's IP
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    assert run.outputs["nfsServer"] == "10.0.3.10"


def test_weights_volume_waits_for_the_export_and_the_system_pool():
    run = a10()
    pv = one(run, "core/v1:PersistentVolume")
    waits_for = estimates.ancestors(run, pv.urn)
    assert one(run, "export:Export").urn in waits_for
    assert one(run, "nodePool:NodePool", "system-pool").urn in waits_for


def test_the_committed_placeholder_compartment_is_flagged():
    assert any(level == "warning" and "placeholder" in message for level, message in a10().logs)


@pytest.mark.parametrize(
    ("stack", "keys"),
    [
        ("oci-a10", ["oke.compartmentId"]),
        ("oci-h100-rdma", ["oke.compartmentId", "rdma.imageId", "rdma.iam.tenancyId"]),
        ("oci-data-science", ["dataScience.compartmentId", "dataScience.iam.tenancyId"]),
    ],
)
def test_every_committed_placeholder_ocid_is_named_with_the_command_that_replaces_it(stack, keys):
    warned = [m for level, m in default_run(stack).logs if level == "warning" and "committed placeholder" in m]
    assert sorted(warned) == sorted(
        f"{key} is the committed placeholder; set yours with `pulumi config set --path '{key}' ...` before `pulumi up`"
        for key in keys
    )


def test_file_system_survives_destroy_only_when_asked():
    assert not one(a10(), "fileSystem:FileSystem").retain_on_delete
    kept = preview(STACK, modelStore={"retainOnDelete": True})
    assert one(kept, "fileSystem:FileSystem").retain_on_delete
    # The export goes with its mount target on OCI, so Pulumi must not pretend to keep it (tests/test_storage.py).
    assert not one(kept, "export:Export").retain_on_delete


# --- exposure and credentials ----------------------------------------------------------------


def test_flexible_load_balancer_annotations_and_source_ranges():
    service = k8s_object(a10(), "Service", "vllm-entry")
    annotations = service["metadata"]["annotations"]
    assert annotations["oci.oraclecloud.com/load-balancer-type"] == "lb"
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-shape"] == "flexible"
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-shape-flex-min"] == "10"
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-shape-flex-max"] == "100"
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-security-list-management-mode"] == "None"
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]


def test_network_load_balancer_passes_client_ips_to_allowed_clients_only():
    run = h100()
    annotations = k8s_object(run, "Service", "vllm-entry")["metadata"]["annotations"]
    assert annotations["oci.oraclecloud.com/load-balancer-type"] == "nlb"
    assert annotations["oci-network-load-balancer.oraclecloud.com/security-list-management-mode"] == "None"
    assert annotations["oci-network-load-balancer.oraclecloud.com/is-preserve-source"] == "true"
    node_ports = {(r["source"], ports(r)) for r in rules(run, "workers") if r["direction"] == "INGRESS"}
    assert ("203.0.113.0/24", (30000, 32767)) in node_ports


def test_ocir_pull_secret_is_a_secret_dockerconfigjson_used_by_vllm():
    run = preview(
        STACK, secrets=OCIR_TOKEN, oke={"ocir": OCIR}, vllm={"image": "iad.ocir.io/axaxnpcrorw5/vllm-openai:v0.33.0"}
    )
    assert run.error is None, run.error
    secret = k8s_object(run, "Secret", "ocir-pull")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["stringData"] == {".dockerconfigjson": SECRET}
    pod = k8s_object(run, "Deployment", "vllm")["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "ocir-pull"}]
    assert "an-auth-token" not in str(run.to_plan())


def test_docker_config_json_logs_in_to_ocir_as_namespace_slash_user():
    import json

    from components.workloads.registry_secret import docker_config_json

    config = json.loads(docker_config_json("iad.ocir.io", "axaxnpcrorw5/jane@example.com", "tok"))
    entry = config["auths"]["iad.ocir.io"]
    assert entry["username"] == "axaxnpcrorw5/jane@example.com"
    assert base64.b64decode(entry["auth"]).decode() == "axaxnpcrorw5/jane@example.com:tok"


def test_no_pull_secret_without_ocir():
    assert not [o for o in k8s_objects(a10()) if o.get("type") == "kubernetes.io/dockerconfigjson"]
    assert "imagePullSecrets" not in k8s_object(a10(), "Deployment", "vllm")["spec"]["template"]["spec"]


def test_outputs_name_what_users_need():
    outputs = a10().outputs
    for key in ["clusterId", "kubeconfig", "vcnId", "workerSubnetId", "fileSystemId", "mountTargetId", "exportId",
                "gpuNodePoolId", "endpoint", "apiKey"]:  # fmt: skip
        assert key in outputs, key
    assert outputs["clusterId"].startswith("ocid1.cluster.oc1.")
    assert outputs["apiKey"] == SECRET


@pytest.mark.parametrize("run", [a10, h100], ids=["a10", "h100"])
def test_manifests_are_schema_valid(run):
    objects = k8s_objects(run())
    assert objects
    for obj in objects:
        assert manifests.validate(obj) == [], manifests.file_name(obj)


def test_h100_tp8_previews_cleanly_on_the_bare_metal_shape():
    run = h100()
    gpu = one(run, "NodePool", "gpu-pool").inputs
    assert gpu["nodeShape"] == "BM.GPU.H100.8" and "nodeShapeConfig" not in gpu
    assert gpu["nodeConfigDetails"]["isPvEncryptionInTransitEnabled"] is False  # no paravirtualized attachments on BM
    vllm = next(c for c in containers(k8s_object(run, "Deployment", "vllm")) if c["name"] == "vllm")
    assert "Qwen2.5-72B-Instruct" in vllm["args"][0]


# --- bad configs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        ({"oke": {"compartmentId": "ocid1.tenancy.oc1..short"}}, "oke.compartmentId", "not a compartment OCID"),
        ({"oke": {"compartmentId": "my-compartment"}}, "oke.compartmentId", "not a compartment OCID"),
        ({"oke": {"gpuPool": {"shape": "VM.GPU.A10.3"}}}, "oke.gpuPool.shape", "must be one of"),
        ({"vllm": {"tensorParallelSize": 2}}, "models[0].tensorParallelSize", "has 1 GPU(s) per node"),
        ({"vllm": {"replicas": 2}}, "models[0].replicas", "oke.gpuPool.nodeCount is 1"),
        ({"oke": {"network": {"workerSubnet": "10.0.2.0/23"}}}, "oke.network", "overlaps"),
        ({"oke": {"network": {"servicesCidr": "10.0.128.0/17"}}}, "oke.network", "overlaps"),
        ({"oke": {"network": {"podsCidr": "10.96.0.0/12"}}}, "oke.network", "overlaps"),
        ({"oke": {"network": {"fileStorageSubnet": "10.1.3.0/24"}}}, "oke.network.fileStorageSubnet", "not inside"),
        ({"oke": {"kubernetesVersion": "1.33"}}, "oke.kubernetesVersion", "leading v"),
        ({"oke": {"region": "us-nowhere-1"}}, "oke.region", "unknown OCI region"),
        ({"oke": {"apiEndpoint": {"allowedCidrs": []}}}, "oke.apiEndpoint.allowedCidrs", "at least one"),
        ({"oke": {"systemPool": {"shape": "VM.Standard2.4"}}}, "oke.systemPool.ocpus", "not a Flex shape"),
        (
            {"oke": {"gpuPool": {"availabilityDomains": [4]}}},
            "oke.gpuPool.availabilityDomains[0]",
            "less than or equal",
        ),
        ({"oke": {"gpuPool": {"imageId": "ami-123"}}}, "oke.gpuPool.imageId", "not an image OCID"),
        ({"oke": {"ocir": OCIR}}, "secrets.ocirAuthToken", "needs the auth token"),
        ({"vllm": {"image": "iad.ocir.io/ns/vllm:v1"}}, "oke.ocir", "set oke.ocir"),
        ({"endpoint": {"kind": "gateway"}}, "endpoint.kind", "OCI load balancer"),
        ({"oke": {"loadBalancer": {"minMbps": 200}}}, "oke.loadBalancer.maxMbps", "100 must be >= minMbps"),
        ({"doks": {}}, "doks", "belongs to another platform"),
        ({"oke": {"gpuPool": {"sku": "x"}}}, "oke.gpuPool.sku", "unknown key"),
    ],
)
def test_bad_config_is_one_clear_line_and_nothing_is_registered(overrides, key, words):
    message = config_error(preview(STACK, **overrides))
    assert f"llm-serving:{key}:" in message, message
    assert words in message, message


def test_the_oci_provider_region_must_be_the_configured_region():
    config = load_stack_config(STACK)
    config["oci:region"] = "eu-frankfurt-1"
    message = config_error(preview(STACK, raw=config))
    assert "oci:region: is 'eu-frankfurt-1' but llm-serving:oke.region is 'us-ashburn-1'" in message
    del config["oci:region"]
    assert "oci:region: is None" in config_error(preview(STACK, raw=config))


def test_tp_above_the_h100_node_is_rejected():
    config = load_stack_config(STACK, H100_CONFIG)
    config["llm-serving:models"] = [{**config["llm-serving:models"][0], "tensorParallelSize": 16}]
    message = config_error(preview(STACK, raw=config))
    assert "llm-serving:models[0].tensorParallelSize" in message and "8 GPU(s)" in message
