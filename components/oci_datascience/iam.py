"""IAM a vLLM model deployment needs, for its resource principal: a dynamic group of the compartment's
model deployments and one policy.

Statements (least privilege, each from Oracle's own guidance):
- pull the image: "allow dynamic-group <dg> to read repos in compartment <c> where ANY
  {request.operation='ReadDockerRepositoryMetadata', request.operation='ReadDockerRepositoryManifest',
  request.operation='PullDockerLayer'}" (oracle-samples/oci-data-science-ai-samples
  model-deployment/containers/llama2/README.md "Bring your own container policies";
  https://docs.oracle.com/en-us/iaas/data-science/using/model-dep-policies-auth.htm);
- read the weights of one bucket: AI Quick Actions grant "object-family ... where any
  {target.bucket.name='<bucket>'}" (ai-quick-actions/policies/README.md); a deployment only reads, so `read`;
- write the access and predict logs: "allow ... to use log-content ... {request.principal.type =
  'datasciencemodeldeployment'}" (llama2 README, "emit logs to the Logging service").
Dynamic group rule: "ALL {resource.type = 'datasciencemodeldeployment'}" (llama2 README), scoped to the
compartment as AI Quick Actions do (`resource.compartment.id`).
Dynamic groups live in the tenancy (root compartment) and IAM changes go to the home region (the
caller's `provider`); the policy is attached to the tenancy so it may name other compartments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci


def matching_rule(compartment_id: str) -> str:
    return f"ALL {{resource.type = 'datasciencemodeldeployment', resource.compartment.id = '{compartment_id}'}}"


def policy_statements(dynamic_group: str, repository_compartment_id: str, bucket_compartment_id: str, bucket: str,
                      log_compartment_id: str) -> list[str]:  # fmt: skip
    dg = f"dynamic-group {dynamic_group}"
    return [
        f"allow {dg} to read repos in compartment id {repository_compartment_id} where ANY "
        "{request.operation='ReadDockerRepositoryMetadata', request.operation='ReadDockerRepositoryManifest', "
        "request.operation='PullDockerLayer'}",
        f"allow {dg} to read buckets in compartment id {bucket_compartment_id} where target.bucket.name = '{bucket}'",
        f"allow {dg} to read objects in compartment id {bucket_compartment_id} where target.bucket.name = '{bucket}'",
        f"allow {dg} to use log-content in compartment id {log_compartment_id}",
    ]


@dataclass(frozen=True)
class ModelDeploymentIamArgs:
    create: bool
    tenancy_id: str
    dynamic_group_name: str
    compartment_id: str
    repository_compartment_id: str
    bucket_compartment_id: str
    bucket: str
    provider: pulumi.ProviderResource | None = None
    """The home-region provider; None: the default (home region = the stack's region)."""
    freeform_tags: dict[str, str] = field(default_factory=dict)


class ModelDeploymentIam(pulumi.ComponentResource):
    policy_statements: list[str]
    ready: list[pulumi.Resource]
    """What the deployment waits for (empty when an administrator creates the IAM)."""

    def __init__(self, name: str, args: ModelDeploymentIamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oci-datascience:ModelDeploymentIam", name, None, opts)
        self.policy_statements = policy_statements(
            args.dynamic_group_name, args.repository_compartment_id, args.bucket_compartment_id, args.bucket,
            args.compartment_id,
        )  # fmt: skip
        self.ready = []
        if args.create:
            iam_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
            group = oci.identity.DynamicGroup(
                f"{name}-dynamic-group",
                compartment_id=args.tenancy_id,
                name=args.dynamic_group_name,
                description="OCI Data Science model deployments of llm-serving (vLLM)",
                matching_rule=matching_rule(args.compartment_id),
                freeform_tags=args.freeform_tags,
                opts=iam_opts,
            )
            policy = oci.identity.Policy(
                f"{name}-policy",
                compartment_id=args.tenancy_id,
                name=f"{args.dynamic_group_name}-policy",
                description="vLLM model deployments: pull from OCIR, read the weights bucket, write logs",
                statements=self.policy_statements,
                freeform_tags=args.freeform_tags,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[group]),
            )
            self.ready = [group, policy]
        self.register_outputs({"policyStatements": self.policy_statements})
