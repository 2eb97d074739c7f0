"""A client identity for InferenceServices protected by OpenShift AI's token authentication: a service
account, a Role with `get` on exactly those InferenceServices, its RoleBinding, and a long-lived token
Secret the cluster fills in (the token never passes through this program or its state).

Shaped after what the OpenShift AI dashboard creates for "Require token authentication"
(opendatahub-io/odh-dashboard backend/src/utils/resourceUtils.ts, cleanupKserveRoleBindings: a Role
`<isvc>-view-role` whose one rule is verbs [get], apiGroups [serving.kserve.io], resources
[inferenceservices], resourceNames [<isvc>], bound to the token's service account); OpenShift AI reads the
token from that service account's token Secret ("Token secret",
https://docs.redhat.com/en/documentation/red_hat_openshift_ai_self-managed/3.4/html/deploying_models/making_inference_requests_to_deployed_models).
The Secret is Kubernetes' long-lived service account token: type kubernetes.io/service-account-token with
annotation kubernetes.io/service-account.name; the token controller writes `data.token`
(https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import LABEL_PREFIX


@dataclass(frozen=True)
class TokenClientArgs:
    namespace: pulumi.Input[str]
    inference_services: list[pulumi.Input[str]]
    name: str = "vllm-client"


def role_rules(inference_services: list[pulumi.Input[str]]) -> list[k8s.rbac.v1.PolicyRuleArgsDict]:
    return [
        {
            "api_groups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "resource_names": list(inference_services),
            "verbs": ["get"],
        }
    ]


class TokenClient(pulumi.ComponentResource):
    token_command: pulumi.Output[str]
    """Prints the token (read from the cluster when run; the stack never holds it)."""

    def __init__(self, name: str, args: TokenClientArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:kserve:TokenClient", name, None, opts)
        labels = {f"{LABEL_PREFIX}/component": "inference-client"}

        def meta(object_name: str) -> k8s.meta.v1.ObjectMetaArgsDict:
            return {"name": object_name, "namespace": args.namespace, "labels": labels}

        child = pulumi.ResourceOptions(parent=self)
        account = k8s.core.v1.ServiceAccount(f"{name}-service-account", metadata=meta(args.name), opts=child)
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=meta(f"{args.name}-view-role"),
            rules=role_rules(args.inference_services),
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-role-binding",
            metadata=meta(f"{args.name}-view"),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{args.name}-view-role"},
            subjects=[{"kind": "ServiceAccount", "name": args.name, "namespace": args.namespace}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, account]),
        )
        secret_name = f"{args.name}-token"
        k8s.core.v1.Secret(
            f"{name}-token",
            metadata={**meta(secret_name), "annotations": {"kubernetes.io/service-account.name": args.name}},
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        self.token_command = pulumi.Output.concat(
            "oc get secret ", secret_name, " -n ", args.namespace, " -o jsonpath='{.data.token}' | base64 -d"
        )
        self.register_outputs({"tokenCommand": self.token_command})
