"""Bad input never gets through (issue 14): every class of mistake stops the preview before anything is
registered, with one line that names the key, and never prints a secret back."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from stacks import catalog
from stacks.config.source import parse_stack_file
from stacks.errors import ConfigError
from tests.harness import PROJECT, config_error, preview, stack_config
from tools import preview as preview_cli

SECRET = "s3cr3t-Value-That-Must-Never-Print-0123456789"


def rejects(stack: str, key: str, hint: str = "", secrets: dict | None = None, raw: dict | None = None,
            **overrides: object) -> str:  # fmt: skip
    """Run `stack` with the mistake; it must fail on `key` with one line, nothing registered."""
    message = config_error(preview(stack, secrets=secrets, raw=raw, **overrides))
    assert message.startswith(f"invalid stack config: {key}: "), message
    assert hint in message, message
    assert SECRET not in message
    return message


# --------------------------------------------------------------------------------------------
# Secrets that slip through
# --------------------------------------------------------------------------------------------

CREDENTIAL_FLAGS = [
    (["--api-key=" + SECRET], "llm-serving:models[0].extraArgs[0]", "secrets.apiKey"),
    (["--hf-token=" + SECRET], "llm-serving:models[0].extraArgs[0]", "secrets.hfToken"),
    (["--hf-token"], "llm-serving:models[0].extraArgs[0]", "secrets.hfToken"),
    (["--enable-prefix-caching", "--api-key"], "llm-serving:models[0].extraArgs[1]", "secrets.apiKey"),
    (
        ["--kv-transfer-config=hf_abcdefghijklmnopqrstuvwxyz0123"],
        "llm-serving:models[0].extraArgs[0]",
        "looks like a credential",
    ),
    (
        ["--served-model-name-x=sk-abcdefghijklmnopqrstuvwxyz"],
        "llm-serving:models[0].extraArgs[0]",
        "looks like a credential",
    ),
]


@pytest.mark.parametrize(("extra", "key", "hint"), CREDENTIAL_FLAGS, ids=lambda v: str(v)[:30])
def test_credentials_in_extra_args_are_refused_and_pointed_to_their_secret(extra, key, hint):
    message = rejects("doks", key, hint, vllm={"extraArgs": extra})
    for item in extra:
        value = item.partition("=")[2]
        assert not value or value not in message


def _with_secrets(stack: str, secrets_block: object) -> dict:
    config = stack_config(stack)
    config[f"{PROJECT}:secrets"] = secrets_block
    return config


@pytest.mark.parametrize(
    ("block", "key", "hint"),
    [
        ({"apiKey": {"secure": "v1:abc"}, "hfToken": SECRET}, "llm-serving:secrets.hfToken", "committed to git"),
        ({"hfToken": SECRET, "apiKey": {"secure": "v1:abc"}}, "llm-serving:secrets.hfToken", "--secret"),
        (
            {"s3AccessKeyId": {"secure": "v1:a"}, "s3SecretAccessKey": SECRET},
            "llm-serving:secrets.s3SecretAccessKey",
            "",
        ),
        (
            {"kubeconfig": f"apiVersion: v1\nusers:\n- user: {{token: {SECRET}}}\n"},
            "llm-serving:secrets.kubeconfig",
            "",
        ),
        ({"secure": "v1:the-whole-map"}, "llm-serving:secrets", "each credential on its own"),
        ({"apiKey": {"secure": 42}}, "llm-serving:secrets.apiKey", "ciphertext"),
    ],
    ids=["plain-sibling-after", "plain-sibling-before", "s3-secret", "kubeconfig", "whole-map", "not-a-string"],
)
def test_every_secret_is_a_secure_value_of_its_own(block, key, hint):
    rejects("doks", key, hint, raw=_with_secrets("doks", block))


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("vllm", {"image": {"secure": "v1:x"}}, "models[0].image"),
        ("model", {"id": {"secure": "v1:x"}}, "models[0].id"),
        ("vllm", {"extraArgs": [{"secure": "v1:x"}]}, "models[0].extraArgs[0]"),
    ],
)
def test_a_secure_value_outside_secrets_is_refused(path, value, key):
    config = stack_config("doks", **{path: value})
    message = rejects("doks", f"llm-serving:{key}", "only keys under `secrets`", raw=config)
    assert "v1:x" not in message


WEAK_KEYS = ["", "short", "a" * 40, "abcabcabcabcabcabcabcabc", "0123456789", "has a space in it 0123456789abcdef"]


@pytest.mark.parametrize("weak", WEAK_KEYS, ids=lambda v: f"{len(v)}-chars")
def test_a_weak_api_key_is_refused_without_printing_it(weak):
    message = rejects("doks", "llm-serving:secrets.apiKey", "", secrets={"secrets": {"apiKey": weak}})
    if weak:
        assert weak not in message


def test_a_strong_api_key_is_accepted():
    run = preview("doks", secrets={"secrets": {"apiKey": "9f2c4e1ab7d03e58c6a1f0b2d4e6a8c0"}})
    assert run.error is None, run.error


def test_a_secret_value_is_never_echoed_by_another_keys_error():
    # The API key pasted into another field: that field's error must not print it.
    secret_like = "Abcdefghij0123456789-klmnop"
    message = rejects(
        "doks", "llm-serving:endpoint.hostname", "", secrets={"secrets": {"apiKey": secret_like}},
        endpoint={"hostname": secret_like},
    )  # fmt: skip
    assert secret_like not in message and "[secret]" in message


def test_long_values_are_cut_in_messages():
    kubeconfig_like = "apiVersion: v1\nclusters:\n" + "- cluster: {server: https://10.0.0.1}\n" * 80
    message = rejects("doks", "llm-serving:models[0].image", "", vllm={"image": kubeconfig_like})
    assert len(message) < 400 and "characters)" in message


def test_the_preview_cli_checks_a_secure_values_shape(tmp_path, capsys, monkeypatch):
    document = yaml.safe_load((preview_cli.REPO / "Pulumi.doks.yaml").read_text())
    document["config"]["llm-serving:secrets"] = {"apiKey": {"secure": "v1:ciphertext"}}
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("WEAK_API_KEY", "abc123")
    out = tmp_path / "build"
    argv = ["--stack", "doks", "--config", str(path), "--out", str(out), "--secret-env", "secrets.apiKey=WEAK_API_KEY"]
    assert preview_cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "llm-serving:secrets.apiKey" in err[0] and "abc123" not in err[0]
    assert not (out / "doks").exists()


# --------------------------------------------------------------------------------------------
# Files that are not what they should be
# --------------------------------------------------------------------------------------------

GOOD = (preview_cli.REPO / "Pulumi.doks.yaml").read_bytes()

BAD_FILES = [
    (b"", "Pulumi.doks.yaml", "is empty"),
    (b"# only a comment\n", "Pulumi.doks.yaml", "is empty"),
    (b"- config\n- llm-serving:platform: doks\n", "Pulumi.doks.yaml", "not a list"),
    (b"just a string\n", "Pulumi.doks.yaml", "not a string"),
    (b"config:\n- llm-serving:platform: doks\n", "Pulumi.doks.yaml: config", "not a list"),
    (b"config: doks\n", "Pulumi.doks.yaml: config", "not a string"),
    (b"encryptionsalt: v1:abc\n", "Pulumi.doks.yaml: config", "is missing"),
    (b"configs:\n  llm-serving:platform: doks\n", "Pulumi.doks.yaml: 'configs'", "did you mean 'config'"),
    (b"config:\n\tllm-serving:platform: doks\n", "Pulumi.doks.yaml:2:1", "never tabs"),
    (b"config:\n  llm-serving:platform: doks\n\tllm-serving:name: x\n", "Pulumi.doks.yaml:3:1", "tab"),
    (b"config:\n  llm-serving:vllm: {replicas: 1\n", "Pulumi.doks.yaml:3:1", "YAML syntax error"),
    (b"config:\n  llm-serving:name: 'unterminated\n", "Pulumi.doks.yaml:3:1", "YAML syntax error"),
    (b"config:\n  llm-serving:platform: doks\n  llm-serving:platform: oke\n", "Pulumi.doks.yaml:3:3", "duplicate key"),
    (
        b"config:\n  llm-serving:vllm:\n    replicas: 1\n    replicas: 2\n",
        "Pulumi.doks.yaml:4:5",
        "duplicate key 'replicas'",
    ),
    (b"config:\n  llm-serving:name: caf\xe9\n", "Pulumi.doks.yaml:2:24", "not UTF-8"),
    (b"\xff\xfe c\x00o\x00n\x00", "Pulumi.doks.yaml:1:1", "not UTF-8"),
]


@pytest.mark.parametrize(("data", "where", "hint"), BAD_FILES, ids=lambda v: str(v)[:24])
def test_a_malformed_stack_file_is_one_line_naming_file_line_and_column(data, where, hint):
    with pytest.raises(ConfigError) as caught:
        parse_stack_file(data, "Pulumi.doks.yaml")
    message = str(caught.value)
    assert message.startswith(f"invalid stack config: {where}"), message
    assert hint in message and "\n" not in message


@pytest.mark.parametrize(("data", "where", "hint"), BAD_FILES[::4], ids=lambda v: str(v)[:24])
def test_the_preview_cli_stops_on_a_malformed_file_and_writes_nothing(data, where, hint, tmp_path, capsys):
    path = tmp_path / "Pulumi.doks.yaml"
    path.write_bytes(data)
    out = tmp_path / "build"
    assert preview_cli.main(["--stack", "doks", "--config", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and hint in err[0] and "Traceback" not in err[0], err
    assert not (out / "doks").exists()


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("llm_serving:vllm", "misspelled project prefix"),
        ("llm-servng:vllm", "misspelled project prefix"),
        ("LLM-SERVING:vllm", "misspelled project prefix"),
        ("other-project:vllm", "another project"),
        ("aws:region", "another project"),
        ("vllm", "namespaced"),
    ],
)
def test_keys_under_another_prefix_are_refused_not_ignored(key, hint):
    config = stack_config("doks")
    config[key] = {"replicas": 2} if key.endswith("vllm") else "us-east-1"
    message = config_error(preview("doks", raw=config))
    assert key in message and hint in message


def test_the_committed_stack_files_parse_cleanly():
    for path in preview_cli.REPO.glob("Pulumi.*.yaml"):
        assert parse_stack_file(path.read_bytes(), path.name)


# --------------------------------------------------------------------------------------------
# Values that only fail later: extraArgs against vLLM's own flag list
# --------------------------------------------------------------------------------------------


def test_the_flag_list_is_of_the_pinned_vllm_image():
    tag = catalog.VLLM_IMAGE.rsplit(":", 1)[1]
    assert tag == f"v{catalog.VLLM_FLAGS_VERSION}", (
        "regenerate stacks/catalog/vllm_flags.json (tools/vllm_flags_gen.py)"
    )
    data = json.loads((preview_cli.REPO / "stacks" / "catalog" / "vllm_flags.json").read_text())
    assert f"vllm {catalog.VLLM_FLAGS_VERSION} wheel" in data["source"]


def test_every_flag_the_stack_itself_passes_is_in_the_flag_list():
    from tests.harness import containers, default_run, k8s_objects

    used = set()
    for stack in ("doks", "oci-h100-rdma"):
        for obj in k8s_objects(default_run(stack)):
            for c in containers(obj):
                line = " ".join(str(a) for a in [*c.get("command", []), *c.get("args", [])])
                if "vllm serve" in line or c.get("name") == "vllm":
                    used |= set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", line))
        for obj in k8s_objects(default_run(stack)):
            if obj["kind"] == "ConfigMap":
                for text in obj.get("data", {}).values():
                    if "vllm serve" in text:
                        used |= set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text.split("vllm serve", 1)[1]))
    assert {"--tensor-parallel-size", "--max-model-len", "--served-model-name"} <= used
    assert used - set(catalog.VLLM_FLAGS) == set()


BAD_EXTRA_ARGS = [
    (["--enable-prefix-cache"], "[0]", "did you mean --enable-prefix-caching"),
    (["--no-such-flag=1"], "[0]", "has no flag --no-such-flag"),
    (["--max_num_seqs=64"], "[0]", "did you mean --max-num-seqs"),
    (["--max-num-seqs", "64"], "[0]", "write --max-num-seqs=<value> in one item"),
    (["--enable-prefix-caching", "64"], "[1]", "one `--flag`"),
    (["--max-num-seqs"], "[0]", "needs a value"),
    (["--enforce-eager=true"], "[0]", "takes no value"),
    (["-tp=2"], "[0]", "one `--flag`"),
    (["--pipeline-parallel-size=2"], "[0]", "ray.pipelineParallelSize"),
    (["--data-parallel-size=2"], "[0]", "from replicas"),
    (["--data-parallel-size-local=2"], "[0]", "from replicas"),
    (["--headless"], "[0]", "from replicas"),
    (["--prefill-context-parallel-size=2"], "[0]", "from tensorParallelSize"),
    (["--tensor-parallel-size=2"], "[0]", "from tensorParallelSize"),
    (["--model=meta-llama/Llama-3.1-8B"], "[0]", "from id"),
    (["--served-model-name=x"], "[0]", "from servedName"),
    (["--port=9000"], "[0]", "endpoint.kind"),
    (["--host=127.0.0.1"], "[0]", "endpoint.kind"),
    (["--max-model-len=4096"], "[0]", "from maxModelLen"),
    (["--kv-cache-memory-bytes=10g"], "[0]", "from gpuMemoryUtilization"),
    (["--distributed-executor-backend=mp"], "[0]", "platform"),
    (["--load-format=dummy"], "[0]", "modelStore.kind"),
    (["--config=/etc/vllm.yaml"], "[0]", "the stack config"),
    (["--enable-lora"], "[0]", "from lora;"),
    (["--lora-modules=a=/models/a"], "[0]", "from lora.adapters"),
    (["--enable-prefix-caching", "--disable-prefix-caching"], "[1]", "already given in extraArgs[0]"),
]


@pytest.mark.parametrize(("extra", "index", "hint"), BAD_EXTRA_ARGS, ids=lambda v: str(v)[:36])
def test_extra_args_are_checked_against_vllms_flags(extra, index, hint):
    rejects("doks", f"llm-serving:models[0].extraArgs{index}", hint, vllm={"extraArgs": extra})


def test_valid_extra_args_pass_through_to_vllm():
    extra = ["--enable-prefix-caching", "--max-num-seqs=64", "--kv-cache-dtype=fp8", "--enable-log-requests"]
    assert all(e.split("=")[0] in catalog.VLLM_FLAGS for e in extra)
    run = preview("doks", vllm={"extraArgs": extra})
    assert run.error is None, run.error


# --------------------------------------------------------------------------------------------
# Values that only fail later: names, paths, labels, images, namespaces, hosts
# --------------------------------------------------------------------------------------------

EXISTING_NFS = {"kind": "nfs", "server": "10.0.0.5", "path": "/exports/models"}

LATER_FAILURES = [
    # (stack, overrides, key, hint)
    ("doks", {"model": {"revision": ".."}}, "models[0].revision", "outside"),
    ("doks", {"model": {"revision": "."}}, "models[0].revision", "outside"),
    ("doks", {"model": {"revision": ".hidden"}}, "models[0].revision", "outside"),
    ("doks", {"model": {"revision": "v1..2"}}, "models[0].revision", "outside"),
    ("existing-cluster", {"modelStore": {**EXISTING_NFS, "path": "/exports/../etc"}}, "modelStore.path", "`..`"),
    ("existing-cluster", {"modelStore": {**EXISTING_NFS, "path": "exports/models"}}, "modelStore.path", "absolute"),
    ("doks", {"model": {"id": "Qwen/Qwen2.5-0.5B-Instru\u0441t"}}, "models[0].id", "U+0441"),
    ("doks", {"model": {"id": "Qw\u0435n/Qwen2.5-0.5B-Instruct"}}, "models[0].id", "look-alike"),
    ("doks", {"model": {"id": "meta-llama/Llama--3"}}, "models[0].id", "no `--`"),
    ("doks", {"model": {"id": "org/name.git"}}, "models[0].id", ".git"),
    ("doks", {"model": {"id": "org//name"}}, "models[0].id", "Hugging Face"),
    ("doks", {"model": {"servedName": "qw\u00e9n"}}, "models[0].servedName", "ASCII"),
    (
        "existing-cluster",
        {"existing": {"gpuNodes": {"nodeSelector": {"nvidia.com/gpu present": "true"}}}},
        "existing.gpuNodes.nodeSelector",
        "label/taint key",
    ),
    (
        "existing-cluster",
        {"existing": {"gpuNodes": {"nodeSelector": {"gpu": "yes please"}}}},
        "existing.gpuNodes.nodeSelector",
        "label value",
    ),
    (
        "existing-cluster",
        {"existing": {"gpuNodes": {"nodeSelector": {"Nvidia.COM/gpu": "true"}}}},
        "existing.gpuNodes.nodeSelector",
        "key prefix",
    ),
    (
        "existing-cluster",
        {"existing": {"gpuNodes": {"taintKeys": ["-gpu"]}}},
        "existing.gpuNodes.taintKeys[0]",
        "taint key",
    ),
    ("existing-cluster", {"existing": {"gpuNodes": {"taintKeys": ["g" * 64]}}}, "existing.gpuNodes.taintKeys[0]", "63"),
    ("existing-cluster", {"existing": {"systemNodeSelector": {"role": "x" * 64}}}, "existing.systemNodeSelector", "63"),
    ("doks", {"vllm": {"image": "vllm/vllm-openai:"}}, "models[0].image", "empty tag"),
    ("doks", {"vllm": {"image": " vllm/vllm-openai:v0.33.0"}}, "models[0].image", "whitespace"),
    ("doks", {"vllm": {"image": "vllm/vllm-openai:v0.33.0\n"}}, "models[0].image", "whitespace"),
    ("doks", {"vllm": {"image": "vllm/vllm-openai: v0.33.0"}}, "models[0].image", "whitespace"),
    ("doks", {"vllm": {"image": "VLLM/vllm-openai:v0.33.0"}}, "models[0].image", "lower case"),
    ("doks", {"vllm": {"image": "vllm/vllm-openai@sha256:abc"}}, "models[0].image", "sha256"),
    ("doks", {"namespace": "default"}, "namespace", "reserved"),
    ("doks", {"namespace": "kube-system"}, "namespace", "reserved"),
    ("doks", {"namespace": "kube-public"}, "namespace", "reserved"),
    ("doks", {"namespace": "kube-node-lease"}, "namespace", "reserved"),
    ("existing-cluster", {"namespace": "openshift-operators"}, "namespace", "reserved"),
    ("existing-cluster", {"namespace": "openshift"}, "namespace", "reserved"),
    ("doks", {"endpoint": {"hostname": "api..example.com"}}, "endpoint.hostname", "DNS host name"),
    ("doks", {"endpoint": {"hostname": "-api.example.com"}}, "endpoint.hostname", "DNS host name"),
    ("doks", {"endpoint": {"hostname": "API.example.com"}}, "endpoint.hostname", "DNS host name"),
    ("doks", {"endpoint": {"hostname": "a" * 64 + ".example.com"}}, "endpoint.hostname", "63"),
    ("doks", {"endpoint": {"hostname": "10.0.0.1"}}, "endpoint.hostname", "IP address"),
    ("doks", {"endpoint": {"hostname": "exa mple.com"}}, "endpoint.hostname", "DNS host name"),
    ("existing-cluster", {"modelStore": {**EXISTING_NFS, "server": "nfs server.local"}}, "modelStore.server", "DNS"),
    ("existing-cluster", {"modelStore": {**EXISTING_NFS, "server": "nfs_1.local"}}, "modelStore.server", "DNS"),
]


@pytest.mark.parametrize(("stack", "overrides", "key", "hint"), LATER_FAILURES, ids=lambda v: str(v)[:40])
def test_values_that_would_fail_after_the_plan_stop_the_preview(stack, overrides, key, hint):
    rejects(stack, f"llm-serving:{key}", hint, **overrides)


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("doks", {"endpoint": {"hostname": "*.example.com"}}),
        ("doks", {"model": {"revision": "v2.0.1"}}),
        ("existing-cluster", {"existing": {"gpuNodes": {"nodeSelector": {"node-role.kubernetes.io/gpu": ""}}}}),
        ("doks", {"vllm": {"image": "registry.example.com:5000/team/vllm-openai:v0.33.0"}}),
    ],
    ids=["wildcard-host", "dotted-revision", "empty-label-value", "registry-with-port"],
)
def test_valid_values_of_the_same_fields_still_preview(stack, overrides):
    run = preview(stack, **overrides)
    assert run.error is None, run.error


# --------------------------------------------------------------------------------------------
# Sizes that cannot hold what goes in them
# --------------------------------------------------------------------------------------------

H100X8 = {"gpuPool": {"size": "gpu-h100x8-640gb", "nodeCount": 1}}


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "hint"),
    [
        # the pod-memory check (stacks/capacity.py check_memory) counts /dev/shm against the memory limit
        ("doks", {"vllm": {"shmSizeGi": 64, "memory": "32Gi"}}, "models[0].memory", "64 GiB /dev/shm"),
        ("doks", {"vllm": {"shmSizeGi": 1, "memory": "512Mi"}}, "models[0].memory", "1 GiB /dev/shm"),
        (
            "doks",
            {
                "doks": H100X8,
                "model": {"id": "meta-llama/Llama-3.1-70B-Instruct"},
                "vllm": {"tensorParallelSize": 8},
                "modelStore": {"sizeGb": 100},
            },
            "modelStore.sizeGb",
            "141",
        ),
        (
            "existing-cluster",
            {"modelStore": {**EXISTING_NFS, "sizeGb": 100, "claimName": None}},
            "modelStore.sizeGb",
            "use at least 149",
        ),
    ],
    ids=["shm-64-of-32", "shm-1Gi-of-512Mi", "share-70b", "existing-share-70b"],
)
def test_sizes_that_cannot_hold_what_goes_in_them(stack, overrides, key, hint):
    rejects(stack, f"llm-serving:{key}", hint, **overrides)


# --------------------------------------------------------------------------------------------
# OCIDs, shapes and sizes
# --------------------------------------------------------------------------------------------

PHX_IMAGE = "ocid1.image.oc1.phx.aaaaaaaaexampleimageinphoenix0000000000000000000000000000000"
IAD_VCN = "ocid1.vcn.oc1.iad.aaaaaaaaexamplevcn000000000000000000000000000000000000000000000"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaaexampletenancy00000000000000000000000000000000000000"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaexamplecompartment000000000000000000000000000000"


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "hint"),
    [
        ("oci-a10", {"oke": {"gpuPool": {"imageId": PHX_IMAGE}}}, "oke.gpuPool.imageId", "region 'phx'"),
        ("oci-a10", {"oke": {"systemPool": {"imageId": PHX_IMAGE}}}, "oke.systemPool.imageId", "us-ashburn-1"),
        ("oci-h100-rdma", {"rdma": {"imageId": PHX_IMAGE}}, "rdma.imageId", "region 'phx'"),
        ("oci-a10", {"oke": {"compartmentId": IAD_VCN}}, "oke.compartmentId", "OCID of a vcn"),
        ("oci-a10", {"oke": {"gpuPool": {"imageId": IAD_VCN}}}, "oke.gpuPool.imageId", "OCID of a vcn"),
        ("oci-h100-rdma", {"modelStore": {"keyUserId": TENANCY}}, "modelStore.keyUserId", "OCID of a tenancy"),
        ("oci-h100-rdma", {"rdma": {"iam": {"tenancyId": COMPARTMENT}}}, "rdma.iam.tenancyId", "OCID of a compartment"),
        (
            "oci-h100-rdma",
            {"modelStore": {"compartmentId": TENANCY.replace("oc1..", "oc1.iad.")}},
            "modelStore.compartmentId",
            "no region part",
        ),
    ],
    ids=[
        "gpu-image-phx",
        "system-image-phx",
        "rdma-image-phx",
        "compartment-vcn",
        "image-vcn",
        "user-tenancy",
        "tenancy-compartment",
        "compartment-with-region",
    ],
)
def test_ocids_of_another_region_or_type_are_refused(stack, overrides, key, hint):
    rejects(stack, f"llm-serving:{key}", hint, **overrides)


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "hint"),
    [
        (
            "oci-a10",
            {"oke": {"gpuPool": {"shape": "vm.gpu.a10.1"}}},
            "oke.gpuPool.shape",
            "did you mean 'VM.GPU.A10.1'",
        ),
        ("oci-a10", {"oke": {"gpuPool": {"shape": "VM.GPU.A10.7"}}}, "oke.gpuPool.shape", "VM.GPU.A10.1"),
        ("oci-h100-rdma", {"rdma": {"shape": "bm.gpu.h100.8"}}, "rdma.shape", "did you mean 'BM.GPU.H100.8'"),
        (
            "doks",
            {"doks": {"gpuPool": {"size": "GPU-H100X1-80GB"}}},
            "doks.gpuPool.size",
            "did you mean 'gpu-h100x1-80gb'",
        ),
        ("doks", {"doks": {"managementPool": {"size": "S-2VCPU-4GB"}}}, "doks.managementPool.size", ""),
    ],
    ids=["oke-case", "oke-unknown", "rdma-case", "doks-case", "doks-mgmt-case"],
)
def test_shapes_and_sizes_not_in_the_catalogs_blame_the_shape_key(stack, overrides, key, hint):
    rejects(stack, f"llm-serving:{key}", hint, **overrides)


# --------------------------------------------------------------------------------------------
# Config and policy pack agree
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "policy"),
    [
        (
            "oci-a10",
            {"oke": {"apiEndpoint": {"allowedCidrs": ["0.0.0.0/0"]}}},
            "oke.apiEndpoint.allowedCidrs",
            "kubernetes-api-not-open-to-world",
        ),
        (
            "oci-a10",
            {"oke": {"apiEndpoint": {"allowedCidrs": ["203.0.113.10/32", "0.0.0.0/0"]}}},
            "oke.apiEndpoint.allowedCidrs",
            "kubernetes-api-not-open-to-world",
        ),
        (
            "doks",
            {"doks": {"apiAllowedCidrs": ["0.0.0.0/0"], "apiOpenToInternet": None}},
            "doks.apiAllowedCidrs",
            "kubernetes-api-not-open-to-world",
        ),
        (
            "oci-a10",
            {"oke": {"network": {"sshAllowedCidrs": ["0.0.0.0/0"]}}},
            "oke.network.sshAllowedCidrs",
            "ssh-not-open-to-world",
        ),
        (
            "oci-h100-rdma",
            {"oke": {"network": {"sshAllowedCidrs": ["10.0.0.0/8", "0.0.0.0/0"]}}},
            "oke.network.sshAllowedCidrs",
            "ssh-not-open-to-world",
        ),
    ],
    ids=["oke-api", "oke-api-second", "doks-api", "oke-ssh", "rdma-ssh"],
)
def test_world_cidrs_the_policy_pack_refuses_are_refused_by_the_config(stack, overrides, key, policy):
    rejects(stack, f"llm-serving:{key}", policy, **overrides)


def test_an_open_doks_api_is_an_explicit_opt_in_key():
    rejects("doks", "llm-serving:doks.apiAllowedCidrs", "apiOpenToInternet", doks={"apiOpenToInternet": None})
    run = preview("doks", doks={"apiAllowedCidrs": ["203.0.113.10/32"], "apiOpenToInternet": None})
    assert run.error is None, run.error
    cluster = next(r for r in run.registered() if r.type.endswith("KubernetesCluster"))
    assert cluster.inputs["controlPlaneFirewall"]["allowedAddresses"] == ["203.0.113.10/32"]


def test_ssh_from_an_admin_range_is_fine():
    run = preview("oci-a10", oke={"network": {"sshAllowedCidrs": ["203.0.113.0/24"]}})
    assert run.error is None, run.error


def test_make_preview_runs_the_policy_pack_and_a_mandatory_violation_writes_no_plan(tmp_path, capsys, monkeypatch):
    from tests.harness import default_run

    good = default_run("oci-a10")
    doctored = copy.deepcopy(good)
    rules = [r for r in doctored.registered() if r.type.endswith("NetworkSecurityGroupSecurityRule")]
    for rule in rules[:2]:  # what a bug in a component could produce: the API and SSH open to the world
        rule.inputs.update(direction="INGRESS", protocol="6", source="0.0.0.0/0", sourceType="CIDR_BLOCK")
    rules[0].inputs["tcpOptions"] = {"destinationPortRange": {"min": 6443, "max": 6443}}
    rules[1].inputs["tcpOptions"] = {"destinationPortRange": {"min": 22, "max": 22}}
    monkeypatch.setattr(preview_cli, "run_main", lambda *a, **k: doctored)
    out = tmp_path / "build"
    assert preview_cli.main(["--stack", "oci-a10", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert "policy kubernetes-api-not-open-to-world" in err[0] and rules[0].name in err[0]
    assert "policy ssh-not-open-to-world" in err[1]
    assert not (out / "oci-a10").exists()


@pytest.mark.parametrize("stack", ["doks", "oci-a10", "oci-h100-rdma", "existing-cluster"])
def test_the_committed_stacks_pass_the_policy_pack_in_process(stack):
    from tests.harness import default_run
    from tools import policy_check

    assert [v.line() for v in policy_check.check(default_run(stack)) if v.mandatory] == []
