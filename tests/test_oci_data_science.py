"""The oci-data-science stack: vLLM as an OCI Data Science model deployment (no cluster), its model by
reference to weights in a versioned bucket, logs, IAM, outputs, and the errors for bad input."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.oci_datascience.artifact import ObjectVersion, StoredObject, model_description, pin_versions
from components.oci_datascience.deployment import contract_problem, split_image
from tests.harness import config_error, default_run, load_stack_config, merge, one, preview
from tools import estimates
from tools.mocks_oci_ods import MODEL_FILES

STACK = "oci-data-science"
REPO = Path(__file__).resolve().parent.parent
PREFIX = "Qwen--Qwen2.5-7B-Instruct/main"


def model(**changes: Any) -> list[dict[str, Any]]:
    """`models` override: the committed single entry with `changes` merged in (None deletes a key)."""
    (entry,) = load_stack_config(STACK)["llm-serving:models"]
    return [merge(entry, changes)]


def deployment_config(run=None) -> dict[str, Any]:
    return one(run or default_run(STACK), ":ModelDeployment").inputs["modelDeploymentConfigurationDetails"]


def container(run=None) -> dict[str, Any]:
    return deployment_config(run)["environmentConfigurationDetails"]


# ------------------------------------------------------------------------------------------
# The deployment: BYOC vLLM from OCIR, OpenAI route mapping, shape, instances, bandwidth, logs
# ------------------------------------------------------------------------------------------


def test_the_deployment_runs_vllm_serve_from_ocir_on_the_mounted_weights():
    c = container()
    assert c["environmentConfigurationType"] == "OCIR_CONTAINER"
    assert c["image"] == "iad.ocir.io/axofflinens01/vllm-openai:v0.33.0" and "imageDigest" not in c
    assert c["entrypoints"] == ["vllm", "serve"]
    cmd = c["cmds"]
    assert cmd[0] == f"/opt/ds/model/deployed_model/{PREFIX}"
    flags = dict(zip(cmd[1::2], cmd[2::2], strict=False))
    assert flags["--port"] == "8080" == str(c["serverPort"]) == str(c["healthCheckPort"])
    assert flags["--served-model-name"] == "Qwen2.5-7B-Instruct"
    assert flags["--max-model-len"] == "16384" and flags["--dtype"] == "bfloat16"


def test_predict_calls_reach_vllms_chat_completions_and_health_its_health_route():
    env = container()["environmentVariables"]
    assert env["MODEL_DEPLOY_PREDICT_ENDPOINT"] == "/v1/chat/completions"
    assert env["MODEL_DEPLOY_HEALTH_ENDPOINT"] == "/health"
    # Both are routes vLLM 0.33.0 registers, with the method the service uses.
    routes = {
        r["path"]: r["methods"] for r in yaml.safe_load((REPO / "tests/data/vllm-routes.yaml").read_text())["routes"]
    }
    assert (
        "POST" in routes[env["MODEL_DEPLOY_PREDICT_ENDPOINT"]] and "GET" in routes[env["MODEL_DEPLOY_HEALTH_ENDPOINT"]]
    )
    assert all(len(k) < 32 for k in env), "the service refuses keys of 32 characters or more"


def test_shape_instances_bandwidth_and_logs():
    details = deployment_config()
    assert details["deploymentType"] == "SINGLE_MODEL"
    model = details["modelConfigurationDetails"]
    assert model["instanceConfiguration"]["instanceShapeName"] == "VM.GPU.A10.1"
    assert model["scalingPolicy"] == {"policyType": "FIXED_SIZE", "instanceCount": 1}
    assert model["bandwidthMbps"] == 10
    run = default_run(STACK)
    logs = {r.name.rsplit("-", 2)[-2]: r for r in run.of_type("oci:Logging/log:Log")}
    group = one(run, ":LogGroup")
    wired = one(run, ":ModelDeployment").inputs["categoryLogDetails"]
    for role in ("access", "predict"):
        assert logs[role].inputs["logType"] == "CUSTOM" and logs[role].inputs["retentionDuration"] == 30
        assert wired[role] == {"logGroupId": run.outputs["logGroupId"], "logId": run.outputs[f"{role}LogId"]}
    assert run.outputs["logGroupId"].startswith("ocid1.loggroup.") and group.inputs["displayName"]


def test_instances_follow_the_models_replicas_and_a_digest_pins_the_image():
    digest = "sha256:" + "a" * 64
    run = preview(STACK, models=model(replicas=2, image=f"iad.ocir.io/axofflinens01/vllm-openai:v0.33.0@{digest}"))
    assert run.error is None, run.error
    assert deployment_config(run)["modelConfigurationDetails"]["scalingPolicy"]["instanceCount"] == 2
    assert container(run)["image"] == "iad.ocir.io/axofflinens01/vllm-openai:v0.33.0"
    assert container(run)["imageDigest"] == digest
    assert estimates.estimate_cost(run).lines[0].quantity == 2  # the cost covers every instance


def test_the_cost_estimate_covers_the_deployment_shape():
    (line,) = estimates.estimate_cost(default_run(STACK)).lines
    assert line.item == "VM.GPU.A10.1" and line.quantity == 1 and "model deployment" in line.note


# ------------------------------------------------------------------------------------------
# The model by reference
# ------------------------------------------------------------------------------------------


def test_the_model_artifact_pins_every_object_of_the_prefix_at_its_current_version():
    model = one(default_run(STACK), ":Model").inputs
    path = REPO / model["modelArtifact"]
    data = path.read_bytes()
    assert not Path(model["modelArtifact"]).is_absolute(), "the same path in state on every machine"
    assert model["artifactContentLength"] == str(len(data))
    description = json.loads(data)
    assert description["type"] == "modelOSSReferenceDescription" and description["version"] == "1.0"
    (entry,) = description["models"]
    assert (entry["namespace"], entry["bucketName"], entry["prefix"]) == ("axofflinens01", "vllm-models", PREFIX)
    listed = {f"{PREFIX}/{name}": size for name, size in MODEL_FILES[PREFIX]}
    assert {o["name"]: o["sizeInBytes"] for o in entry["objects"]} == listed
    versions = {o["name"]: o["version"] for o in entry["objects"]}
    assert len(set(versions.values())) == len(versions)
    metadata = {m["key"]: m["value"] for m in model["customMetadataLists"]}
    assert metadata == {"modelDescription": "true", "artifact_location": f"oci://vllm-models@axofflinens01/{PREFIX}"}


def test_a_reuploaded_object_is_pinned_to_its_current_version_and_delete_markers_are_ignored():
    objects = [StoredObject("m/config.json", "etag-new", 10), StoredObject("m/model.safetensors", "etag-w", 99)]
    versions = [ObjectVersion("m/config.json", "etag-new", "v2"), ObjectVersion("m/config.json", "etag-old", "v1"),
                ObjectVersion("m/model.safetensors", "etag-w", "v7"),
                ObjectVersion("m/gone.bin", "", "v9", is_delete_marker=True)]  # fmt: skip
    assert pin_versions(objects, versions) == [
        {"name": "m/config.json", "version": "v2", "sizeInBytes": 10},
        {"name": "m/model.safetensors", "version": "v7", "sizeInBytes": 99},
    ]
    with pytest.raises(ValueError, match=r"m/model\.safetensors has no version"):
        pin_versions(objects, versions[:2])
    with pytest.raises(ValueError, match="no objects under oci://b@ns/m/"):
        model_description("ns", "b", "m", [], [])


def test_the_deployment_serves_the_model_and_waits_for_the_iam_policy():
    run = default_run(STACK)
    deployment = one(run, ":ModelDeployment")
    assert deployment_config()["modelConfigurationDetails"]["modelId"] == run.outputs["dataScienceModelId"]
    assert one(run, ":Policy").urn in deployment.dependencies


# ------------------------------------------------------------------------------------------
# IAM and outputs
# ------------------------------------------------------------------------------------------


def test_iam_lets_the_compartments_model_deployments_pull_read_the_bucket_and_log():
    run = default_run(STACK)
    compartment = "ocid1.compartment.oc1..aaaaaaaareplacewithyourcompartmentocid00000000000000000000000"
    tenancy = "ocid1.tenancy.oc1..aaaaaaaareplacewithyourtenancyocid0000000000000000000000000000"
    group, policy = one(run, ":DynamicGroup").inputs, one(run, ":Policy").inputs
    assert group["compartmentId"] == tenancy == policy["compartmentId"]
    assert group["matchingRule"] == (
        f"ALL {{resource.type = 'datasciencemodeldeployment', resource.compartment.id = '{compartment}'}}"
    )
    statements = policy["statements"]
    assert all(s.startswith(f"allow dynamic-group {group['name']} to ") for s in statements)
    pull = next(s for s in statements if " read repos " in s)
    for operation in ("ReadDockerRepositoryMetadata", "ReadDockerRepositoryManifest", "PullDockerLayer"):
        assert f"request.operation='{operation}'" in pull
    assert [s for s in statements if "objects" in s] == [
        f"allow dynamic-group {group['name']} to read objects in compartment id {compartment} "
        "where target.bucket.name = 'vllm-models'"
    ]
    assert any("use log-content" in s for s in statements)
    assert run.outputs["dataSciencePolicyStatements"] == statements


def test_iam_goes_to_the_home_region_or_to_an_administrator():
    home = preview(STACK, dataScience={"iam": {"homeRegion": "us-phoenix-1"}})
    assert home.error is None, home.error
    (provider,) = [r for r in home.registered() if r.type == "pulumi:providers:oci"]
    assert provider.inputs["region"] == "us-phoenix-1"
    for iam in (one(home, ":DynamicGroup"), one(home, ":Policy")):
        assert str(iam.provider).startswith(provider.urn), f"{iam.name} is not created in the home region"
    admin = preview(STACK, dataScience={"iam": {"create": False, "tenancyId": None}})
    assert admin.error is None, admin.error
    assert not [r for r in admin.registered() if r.type.startswith("oci:Identity/")]
    assert admin.outputs["dataSciencePolicyStatements"] == default_run(STACK).outputs["dataSciencePolicyStatements"]


def test_outputs_give_the_invoke_url_and_a_ready_to_run_signed_predict_call():
    outputs = default_run(STACK).outputs
    url = outputs["invokeUrl"]
    assert url == (f"https://modeldeployment.us-ashburn-1.oci.customer-oci.com/{outputs['modelDeploymentId']}/predict")
    argv = shlex.split(outputs["predictExample"])
    assert argv[:2] == ["oci", "raw-request"]
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert options["--http-method"] == "POST" and options["--target-uri"] == url
    body = json.loads(options["--request-body"])
    assert body["model"] == outputs["servedModelName"] == "Qwen2.5-7B-Instruct"
    assert body["messages"][0]["role"] == "user"


def test_no_secret_and_no_kubernetes_in_the_plan():
    run = default_run(STACK)
    assert not [r for r in run.registered() if r.type.startswith(("kubernetes:", "random:"))]
    assert not [r for r in run.registered() if r.secret_digests]


# ------------------------------------------------------------------------------------------
# Bad input: one line naming the key, before anything is registered
# ------------------------------------------------------------------------------------------

BAD_INPUT = [
    ({"dataScience": {"shape": "BM.GPU.H100.4"}}, "dataScience.shape", "use one of VM.GPU.A10.1"),
    ({"dataScience": {"shape": "vm.gpu.a10.1"}}, "dataScience.shape", "did you mean 'VM.GPU.A10.1'"),
    # In Oracle's list, but the service does not offer it to the (mock) compartment.
    ({"dataScience": {"shape": "BM.GPU.H200.8"}}, "dataScience.shape", "not offered to model deployments"),
    ({"models": model(image="vllm/vllm-openai:v0.33.0")}, "models[0].image", "from OCIR only"),
    ({"models": model(tensorParallelSize=2)}, "models[0].tensorParallelSize", "VM.GPU.A10.1"),
    ({"models": model() + model(id="Qwen/Qwen2.5-0.5B-Instruct", architecture=None)}, "models", "serves one model"),
    # The fit check: 145 GB of weights on one 24 GB A10, with the shapes that would hold it.
    ({"models": model(id="Qwen/Qwen2.5-72B-Instruct", architecture=None)}, "models[0].id",
     "dataScience.shape=BM.GPU.H100.8"),
    ({"models": model(extraArgs=["--chat-template=" + "x" * 2100])}, "models[0].extraArgs", "less than 2048"),
    ({"models": model(memory="64Gi")}, "models[0].memory", "gets the whole VM.GPU.A10.1"),
    ({"dataScience": {"weights": {"bucket": "no-such-bucket"}}}, "dataScience.weights.bucket", "was not found"),
    ({"dataScience": {"weights": {"bucket": "vllm-models-unversioned"}}}, "dataScience.weights.bucket",
     "versioning Disabled"),
    ({"dataScience": {"weights": {"prefix": "nothing/here"}}}, "dataScience.weights.prefix",
     "oci os object bulk-upload"),
    ({"dataScience": {"logRetentionDays": 45}}, "dataScience.logRetentionDays", "multiple of 30"),
    ({"dataScience": {"iam": {"tenancyId": None}}}, "dataScience.iam.tenancyId", "needs the tenancy OCID"),
    ({"dataScience": {"region": "us-phoenix-1"}}, "oci:region", "set both to the same region"),
    ({"endpoint": {"kind": "clusterIP"}}, "endpoint", "does not read it"),
    ({"observability": {"install": True}}, "observability", "no cluster to scrape"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "key", "says"), BAD_INPUT, ids=[b[1] + ":" + b[2][:20] for b in BAD_INPUT])
def test_bad_input_is_one_line_naming_the_key(overrides, key, says):
    message = config_error(preview(STACK, **overrides))
    head = message.removeprefix("invalid stack config: ")
    assert head.startswith((f"llm-serving:{key}: ", f"{key}: ")), message
    assert says in message


def test_a_secret_is_refused_without_showing_it():
    value = "sk-0123456789abcdef0123456789abcdef"
    message = config_error(preview(STACK, secrets={"secrets": {"apiKey": value}}))
    assert message.removeprefix("invalid stack config: ").startswith("llm-serving:secrets.apiKey: ")
    assert "OCI IAM" in message
    assert value not in message


def test_the_container_contract_limits():
    assert contract_problem(["vllm", "serve"], ["x" * 2040], {}) is not None
    assert contract_problem(["vllm", "serve"], ["x"], {"K": "v" * 2050}) is not None
    assert contract_problem(["vllm", "serve"], ["x"], {"K": "v"}) is None
    assert split_image("iad.ocir.io/ns/vllm:v1@sha256:" + "0" * 64) == ("iad.ocir.io/ns/vllm:v1", "sha256:" + "0" * 64)
