"""vLLM's OpenAI server as an OCI Data Science model deployment (bring your own container), with its
access and predict logs in OCI Logging.

The BYOC contract (https://docs.oracle.com/en-us/iaas/data-science/using/mod-dep-byoc.htm and Oracle's
vLLM samples, oracle-samples/oci-data-science-ai-samples LLM/deploy-llm-byoc.md,
LLM/deploy-openai-llm-byoc.md):
- the image comes from OCIR; the service runs ENTRYPOINT + CMD (here `vllm serve <model dir> <flags>`),
  together under 2048 bytes; environment variables together under 2048 bytes, keys under 32 characters
  (pulumi_oci 5.5.0 ModelDeployment environment_configuration_details `cmds`, `environment_variables`);
- the model's files are mounted read-only at /opt/ds/model/deployed_model/<object prefix>;
- clients call `<model deployment URL>/predict`; the service forwards it to the path in
  MODEL_DEPLOY_PREDICT_ENDPOINT on the server port and probes MODEL_DEPLOY_HEALTH_ENDPOINT on the health
  port (llama2 README "Custom BYOC endpoint contracts"; AI Quick Actions' default for vLLM on a compute
  cluster is `/v1/chat/completions`, oracle/accelerated-data-science ads/config.py
  AQUA_MCC_MODEL_DEPLOY_PREDICT_ENDPOINT_DEFAULT). vLLM serves GET /health (tests/data/vllm-routes.yaml);
- SHM_SIZE sizes the container's /dev/shm (Oracle's tensor-parallel vLLM samples set "SHM_SIZE": "10g").
Logs: custom logs in a log group, handed to the deployment as `category_log_details.access` / `.predict`
(terraform-provider-oci examples/datascience/model_deployment/model_deployment.tf).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci

PREDICT_ENDPOINT = "/v1/chat/completions"
HEALTH_ENDPOINT = "/health"
CONTRACT_LIMIT_BYTES = 2048


def split_image(reference: str) -> tuple[str, str | None]:
    """`<host>/<ns>/<repo>:<tag>[@sha256:<d>]` -> (image with tag, digest or None), the API's two fields."""
    image, _, digest = reference.partition("@")
    return image, digest or None


def vllm_command(model_path: str, served_model_name: str, port: int, *, tensor_parallel_size: int,
                 max_model_len: int, gpu_memory_utilization: float, dtype: str, quantization: str | None,
                 extra_args: list[str]) -> list[str]:  # fmt: skip
    """CMD after ENTRYPOINT `vllm serve`: the same engine flags as the Kubernetes stacks' vLLM server."""
    flags = [
        model_path,
        "--served-model-name", served_model_name,
        "--host", "0.0.0.0",
        "--port", str(port),
        "--tensor-parallel-size", str(tensor_parallel_size),
        "--max-model-len", str(max_model_len),
        "--gpu-memory-utilization", str(gpu_memory_utilization),
        "--dtype", dtype,
    ]  # fmt: skip
    if quantization:
        flags += ["--quantization", quantization]
    return flags + list(extra_args)


def container_environment(shm_size_gi: int) -> dict[str, str]:
    return {
        "MODEL_DEPLOY_PREDICT_ENDPOINT": PREDICT_ENDPOINT,
        "MODEL_DEPLOY_HEALTH_ENDPOINT": HEALTH_ENDPOINT,
        "SHM_SIZE": f"{shm_size_gi}g",
        # The weights are local (mounted); never reach for the Hugging Face Hub from the deployment.
        "HF_HUB_OFFLINE": "1",
    }


def contract_problem(entrypoint: list[str], command: list[str], environment: dict[str, str]) -> str | None:
    """Why the service would refuse this container configuration, or None."""
    size = sum(len(s.encode()) for s in entrypoint + command)
    if size >= CONTRACT_LIMIT_BYTES:
        return f"ENTRYPOINT + CMD take {size} bytes; a model deployment allows less than {CONTRACT_LIMIT_BYTES}"
    env_size = sum(len(k.encode()) + len(v.encode()) for k, v in environment.items())
    if env_size >= CONTRACT_LIMIT_BYTES:
        return f"the environment takes {env_size} bytes; a model deployment allows less than {CONTRACT_LIMIT_BYTES}"
    return None


@dataclass(frozen=True)
class VllmModelDeploymentArgs:
    compartment_id: pulumi.Input[str]
    project_id: pulumi.Input[str]
    model_id: pulumi.Input[str]
    image: str
    """OCIR image with its tag; `image_digest` pins it."""
    command: list[str]
    port: int
    shape: str
    instance_count: int = 1
    bandwidth_mbps: int = 10
    maximum_bandwidth_mbps: int | None = None
    image_digest: str | None = None
    entrypoint: list[str] = field(default_factory=lambda: ["vllm", "serve"])
    environment: dict[str, str] = field(default_factory=dict)
    log_retention_days: int = 30
    wait_for: list[pulumi.Resource] = field(default_factory=list)
    """Resources the deployment needs first (the IAM policy that lets it pull the image)."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class VllmModelDeployment(pulumi.ComponentResource):
    deployment_id: pulumi.Output[str]
    url: pulumi.Output[str]
    """The deployment's URL; clients POST to `<url>/predict`."""
    log_group_id: pulumi.Output[str]
    access_log_id: pulumi.Output[str]
    predict_log_id: pulumi.Output[str]

    def __init__(self, name: str, args: VllmModelDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oci-datascience:VllmModelDeployment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = oci.logging.LogGroup(
            f"{name}-logs",
            compartment_id=args.compartment_id,
            display_name=f"{name}-logs",
            description="Access and predict logs of the vLLM model deployment",
            freeform_tags=args.freeform_tags,
            opts=child,
        )
        logs = {
            role: oci.logging.Log(
                f"{name}-{role}-log",
                display_name=f"{name}-{role}",
                log_group_id=group.id,
                log_type="CUSTOM",
                is_enabled=True,
                retention_duration=args.log_retention_days,
                freeform_tags=args.freeform_tags,
                opts=child,
            )
            for role in ("access", "predict")
        }
        Md = oci.datascience  # the nested argument types' long names
        deployment = oci.datascience.ModelDeployment(
            f"{name}-deployment",
            compartment_id=args.compartment_id,
            project_id=args.project_id,
            display_name=name,
            description=f"vLLM ({args.image}) on {args.shape}",
            model_deployment_configuration_details=Md.ModelDeploymentModelDeploymentConfigurationDetailsArgs(
                deployment_type="SINGLE_MODEL",
                model_configuration_details=Md.ModelDeploymentModelDeploymentConfigurationDetailsModelConfigurationDetailsArgs(
                    model_id=args.model_id,
                    bandwidth_mbps=args.bandwidth_mbps,
                    maximum_bandwidth_mbps=args.maximum_bandwidth_mbps,
                    instance_configuration=Md.ModelDeploymentModelDeploymentConfigurationDetailsModelConfigurationDetailsInstanceConfigurationArgs(
                        instance_shape_name=args.shape,
                    ),
                    scaling_policy=Md.ModelDeploymentModelDeploymentConfigurationDetailsModelConfigurationDetailsScalingPolicyArgs(
                        policy_type="FIXED_SIZE", instance_count=args.instance_count
                    ),
                ),
                environment_configuration_details=Md.ModelDeploymentModelDeploymentConfigurationDetailsEnvironmentConfigurationDetailsArgs(
                    environment_configuration_type="OCIR_CONTAINER",
                    image=args.image,
                    image_digest=args.image_digest,
                    entrypoints=list(args.entrypoint),
                    cmds=list(args.command),
                    server_port=args.port,
                    health_check_port=args.port,
                    environment_variables=dict(args.environment),
                ),
            ),
            category_log_details=Md.ModelDeploymentCategoryLogDetailsArgs(
                access=Md.ModelDeploymentCategoryLogDetailsAccessArgs(log_group_id=group.id, log_id=logs["access"].id),
                predict=Md.ModelDeploymentCategoryLogDetailsPredictArgs(
                    log_group_id=group.id, log_id=logs["predict"].id
                ),
            ),
            freeform_tags=args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.deployment_id = deployment.id
        self.url = deployment.model_deployment_url
        self.log_group_id = group.id
        self.access_log_id = logs["access"].id
        self.predict_log_id = logs["predict"].id
        self.register_outputs({"deploymentId": self.deployment_id, "url": self.url})
