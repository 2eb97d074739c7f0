"""Destroy safety, checked on each stack's plan graph.

- Every Kubernetes object goes through the cluster component's own provider, which depends on the
  cluster: `pulumi destroy` deletes Services (and the cloud load balancers their controllers made)
  while the cluster still runs, before the cluster and its subnets go (a load balancer left behind
  blocks the subnet delete: oracle/oci-cloud-controller-manager#321).
- OCI RDMA: the ClusterNetwork depends on the InstanceConfiguration it launches from, so destroy
  removes the network first (oracle-terraform-modules/terraform-oci-oke#939).
- The model store's data survives `pulumi destroy` when `modelStore.retainOnDelete` is set.
- OCI Data Science (no cluster): the model deployment depends on its model, project, logs and IAM policy,
  the model on its project, each log on its log group, the policy on its dynamic group; destroy deletes
  in reverse, so nothing is deleted while something that still exists uses it (a project that holds
  models, a log group that holds logs, a model a deployment serves, a policy a running deployment needs
  cannot or should not go first).

The OCI parts look for the resource types and check whatever the plan has, so they bite as stacks land.
"""

from __future__ import annotations

import pytest

from tests.harness import STACKS, default_run, load_stack_config, preview
from tools.engine import ProgramRun, ResourceRecord

K8S_PROVIDER = "pulumi:providers:kubernetes"
CLUSTER_NETWORK = "oci:Core/clusterNetwork:ClusterNetwork"
INSTANCE_CONFIGURATION = "oci:Core/instanceConfiguration:InstanceConfiguration"
# Where a stack keeps model weights: DO Managed NFS, OCI File Storage, OCI Object Storage, DO Spaces.
STORE_TYPES = {
    "digitalocean:index/nfs:Nfs",
    "oci:FileStorage/fileSystem:FileSystem",
    "oci:ObjectStorage/bucket:Bucket",
    "digitalocean:index/spacesBucket:SpacesBucket",
}


# Platforms with no Kubernetes cluster at all: nothing to check about cluster providers.
NO_KUBERNETES = {"oci-data-science"}
MODEL_DEPLOYMENT = "oci:DataScience/modelDeployment:ModelDeployment"


def has_cluster(stack: str) -> bool:
    return load_stack_config(stack).get("llm-serving:platform") not in NO_KUBERNETES


def cluster_providers(run: ProgramRun) -> dict[str, ResourceRecord]:
    """Kubernetes providers created by a cluster component (`llm-serving:<platform>:*Cluster`)."""
    by_urn = run.by_urn()
    return {
        r.urn: r
        for r in run.of_type(K8S_PROVIDER)
        if r.parent in by_urn and by_urn[r.parent].type.startswith("llm-serving:") and by_urn[r.parent].type.endswith("Cluster")
    }  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_cluster_provider(stack: str) -> None:
    if not has_cluster(stack):
        assert not [r for r in default_run(stack).registered() if r.type.startswith("kubernetes:")]
        pytest.skip(f"{stack}: no Kubernetes cluster")
    run = default_run(stack)
    providers = cluster_providers(run)
    assert providers, f"{stack}: no Kubernetes provider under a cluster component"
    k8s = [r for r in run.registered() if r.type.startswith("kubernetes:") and r.custom]
    assert k8s, f"{stack}: no Kubernetes resources"
    strays = [f"{r.type} {r.name} -> {r.provider}" for r in k8s if r.provider not in providers]
    assert strays == [], f"{stack}: Kubernetes resources not on the cluster's provider (default kubeconfig?)"


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_provider_depends_on_the_cluster(stack: str) -> None:
    """Destroy order follows dependencies: objects -> provider -> cluster -> subnets and VCN/VPC."""
    if not has_cluster(stack):
        pytest.skip(f"{stack}: no Kubernetes cluster")
    run = default_run(stack)
    by_urn = run.by_urn()
    for provider in cluster_providers(run).values():
        on = [by_urn[d] for d in provider.dependencies if d in by_urn]
        clusters = [d for d in on if d.custom and d.type.rsplit(":", 1)[-1] in ("Cluster", "KubernetesCluster")]
        component = by_urn[provider.parent] if provider.parent else None
        existing = component is not None and "existing" in component.type.lower()  # a cluster it does not own
        assert clusters or existing, f"{stack}: provider {provider.name} does not depend on the cluster resource"


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_network_depends_on_its_instance_configuration(stack: str) -> None:
    run = default_run(stack)
    configurations = {r.urn for r in run.of_type(INSTANCE_CONFIGURATION)}
    for network in run.of_type(CLUSTER_NETWORK):
        used = [d for d in network.dependencies if d in configurations]
        assert used, f"{stack}: ClusterNetwork {network.name} does not depend on an InstanceConfiguration"
        for urn in used:
            config = run.by_urn()[urn]
            # Replacing the configuration first would delete one a live cluster network still uses.
            assert not config.delete_before_replace, f"{stack}: {config.name} is deleted before it is replaced"


def _stores(run: ProgramRun) -> list[ResourceRecord]:
    return [r for r in run.registered() if r.type in STORE_TYPES]


@pytest.mark.parametrize("stack", STACKS)
def test_model_store_can_be_kept_across_destroy(stack: str) -> None:
    default = _stores(default_run(stack))
    if not default:
        pytest.skip(f"{stack} creates no cloud model store")
    store_config = load_stack_config(stack).get("llm-serving:modelStore") or {}
    committed = bool(store_config.get("retainOnDelete", False))
    assert all(r.retain_on_delete is committed for r in default), f"{stack}: retain_on_delete differs from config"

    flipped = preview(stack, modelStore={**store_config, "retainOnDelete": not committed})
    assert flipped.error is None, f"{stack}: modelStore.retainOnDelete is not accepted: {flipped.error!r}"
    stores = _stores(flipped)
    assert stores and all(r.retain_on_delete is (not committed) for r in stores), (
        f"{stack}: modelStore.retainOnDelete={not committed} does not reach {[r.name for r in stores]}"
    )


def _depends_on_type(run: ProgramRun, resource: ResourceRecord, type_token: str) -> bool:
    by_urn = run.by_urn()
    return any(by_urn[d].type == type_token for d in resource.dependencies if d in by_urn)


@pytest.mark.parametrize("stack", STACKS)
def test_model_deployment_is_destroyed_before_what_it_uses(stack: str) -> None:
    run = default_run(stack)
    deployments = run.of_type(MODEL_DEPLOYMENT)
    if not deployments:
        pytest.skip(f"{stack} has no OCI Data Science model deployment")
    for deployment in deployments:
        for used in ("oci:DataScience/model:Model", "oci:DataScience/project:Project", "oci:Logging/log:Log",
                     "oci:Logging/logGroup:LogGroup", "oci:Identity/policy:Policy"):  # fmt: skip
            assert _depends_on_type(run, deployment, used), f"{stack}: {deployment.name} does not depend on a {used}"
    for model in run.of_type("oci:DataScience/model:Model"):
        assert _depends_on_type(run, model, "oci:DataScience/project:Project"), f"{stack}: {model.name}"
    for log in run.of_type("oci:Logging/log:Log"):
        assert _depends_on_type(run, log, "oci:Logging/logGroup:LogGroup"), f"{stack}: {log.name}"
    for policy in run.of_type("oci:Identity/policy:Policy"):
        assert _depends_on_type(run, policy, "oci:Identity/dynamicGroup:DynamicGroup"), f"{stack}: {policy.name}"
