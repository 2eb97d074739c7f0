"""The S3 model store's staging pod and streamer settings, built by pure functions (no engine): each
container sees only the credentials its side needs."""

from __future__ import annotations

from typing import Any

from components.workloads.s3_model_store import S3ModelStoreArgs, staging_pod_spec, streamer_settings
from components.workloads.types import ModelDownload

ARGS = S3ModelStoreArgs(
    namespace="serving",
    endpoint_url="http://minio.minio:9000",
    region="us-east-1",
    bucket="models",
    access_key_id="key",
    secret_access_key="secret",
    model=ModelDownload(
        model_id="Qwen/Qwen2.5-0.5B-Instruct",
        model_revision="main",
        model_directory="Qwen--Qwen2.5-0.5B-Instruct/main",
        downloader_image="python:3.12-slim",
        huggingface_hub_version="1.0.0",
        hf_token_secret_name="hf-token",
        job_node_selector={"pool": "system"},
    ),
    uploader_image="amazon/aws-cli:2",
    streamer_concurrency=16,
)


def env_names(container) -> set[str]:
    return {e["name"] for e in container["env"]}


def test_the_downloader_never_sees_the_bucket_keys_and_the_uploader_never_the_hub_token():
    spec: Any = staging_pod_spec(ARGS, "model-store-s3")
    download, upload = spec["containers"]
    assert "HF_TOKEN" in env_names(download) and "AWS_SECRET_ACCESS_KEY" not in env_names(download)
    assert "AWS_SECRET_ACCESS_KEY" in env_names(upload) and "HF_TOKEN" not in env_names(upload)
    assert {"MODEL_ID", "MODEL_REVISION"} <= env_names(upload)
    assert spec["node_selector"] == {"pool": "system"}
    assert [c["name"] for c in spec["init_containers"]] == ["check"]


def test_vllm_streams_from_the_bucket_with_path_style_addressing():
    env, flags = streamer_settings(ARGS, "model-store-s3")
    values: dict[Any, Any] = {e["name"]: e.get("value") for e in env}
    assert values["RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING"] == "0"
    assert values["AWS_REGION"] == "us-east-1"
    assert flags == ["--load-format", "runai_streamer", "--model-loader-extra-config", '{"concurrency": 16}']
