"""A KServe ServingRuntime for the pinned vLLM image: what every model's pod runs, before the
InferenceService adds the model's own flags, GPUs and placement.

Shaped after OpenShift AI's own vLLM runtime (opendatahub-io/odh-model-controller, commit
57b43aad41aea718861b6c70b38a16794fc4ac8e, config/runtimes/vllm/vllm-cuda-template.yaml): the container
`kserve-container` on port 8080, the model read from /mnt/models (where KServe's storage initializer puts
the weights: pkg/constants/constants.go DefaultModelLocalMountPath in kserve v0.20.0), the model format
`vLLM` with autoSelect, Prometheus scrape annotations, label `opendatahub.io/dashboard: "true"` and
annotations `openshift.io/display-name`, `opendatahub.io/recommended-accelerators` (so the OpenShift AI
dashboard lists it and offers it for NVIDIA GPUs). Unlike the template it runs `vllm serve` of the pinned
image (the same entry point as the plain Deployment), hardens the container (non-root, no privilege
escalation, no capabilities: OpenShift's restricted SCC assigns the UID) and mounts a memory-backed
/dev/shm for the tensor-parallel workers' NCCL buffers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import GPU_RESOURCE, LABEL_PREFIX, PROJECT
from components.workloads.server_container import hardened, server_env
from components.workloads.wire import camel

CONTAINER = "kserve-container"  # kserve v0.20.0 pkg/constants/constants.go InferenceServiceContainerName
PORT = 8080  # odh-model-controller's vLLM template; KServe's raw Service maps port 80 to it
PORT_NAME = "http"
KNATIVE_PORT_NAME = "http1"
"""The port's name under Serverless: Knative refuses any other than "", "h2c" or "http1" on the serving
container (knative/serving v0.48.1, the release kserve v0.20.0's go.mod pins:
pkg/apis/serving/k8s_validation.go validateContainerPorts, validPortNames: "Port name http is not allowed"),
and calls the port "user-port" on the pod it builds (pkg/reconciler/revision/resources/deploy.go
buildContainerPorts). "http1" says what vLLM speaks (plain HTTP/1.1)."""
MODEL_DIR = "/mnt/models"
MODEL_FORMAT = "vLLM"


@dataclass(frozen=True)
class VllmRuntimeArgs:
    namespace: pulumi.Input[str]
    image: str
    vllm_version: str
    """For the display name (e.g. 0.33.0)."""
    shm_size_gi: int = 16
    env: list[dict[str, Any]] = field(default_factory=list)
    """Extra env of every model's container (e.g. VLLM_API_KEY from a secret)."""
    image_pull_secrets: list[pulumi.Input[str]] = field(default_factory=list)
    name: str = "vllm-runtime"
    port_name: str = PORT_NAME
    """The name of vLLM's port: KServe's raw Service port takes it (RawDeployment); Knative accepts only
    KNATIVE_PORT_NAME-like names (Serverless)."""


def runtime_body(args: VllmRuntimeArgs) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, spec) of the ServingRuntime, in the API's camelCase (a custom resource is sent as given)."""
    metadata = {
        "name": args.name,
        "namespace": args.namespace,
        "labels": {"opendatahub.io/dashboard": "true", f"{LABEL_PREFIX}/component": "serving-runtime"},
        "annotations": {
            "openshift.io/display-name": f"vLLM {args.vllm_version} NVIDIA GPU ServingRuntime ({PROJECT})",
            "opendatahub.io/recommended-accelerators": json.dumps([GPU_RESOURCE]),
        },
    }
    container = {
        "name": CONTAINER,
        "image": args.image,
        "command": ["vllm", "serve"],
        "args": [MODEL_DIR, "--host=0.0.0.0", f"--port={PORT}"],
        "env": [
            *server_env(),
            {"name": "HF_HOME", "value": "/tmp/hf_home"},
            *args.env,
        ],
        "ports": [{"name": args.port_name, "containerPort": PORT, "protocol": "TCP"}],
        "securityContext": camel(hardened()),
        "volumeMounts": [{"name": "shm", "mountPath": "/dev/shm"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    spec: dict[str, Any] = {
        "annotations": {"prometheus.io/port": str(PORT), "prometheus.io/path": "/metrics"},
        "multiModel": False,
        "supportedModelFormats": [{"name": MODEL_FORMAT, "autoSelect": True}],
        "containers": [container],
        "volumes": [
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{args.shm_size_gi}Gi"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "20Gi"}},
        ],
    }
    if args.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in args.image_pull_secrets]
    return metadata, spec


class VllmServingRuntime(pulumi.ComponentResource):
    runtime_name: pulumi.Output[str]

    def __init__(self, name: str, args: VllmRuntimeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:kserve:VllmServingRuntime", name, None, opts)
        metadata, spec = runtime_body(args)
        runtime = k8s.apiextensions.CustomResource(
            f"{name}-runtime",
            api_version="serving.kserve.io/v1alpha1",
            kind="ServingRuntime",
            metadata=metadata,
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.runtime_name = runtime.id.apply(lambda _: args.name)
        self.register_outputs({"runtimeName": self.runtime_name})
