"""The S3 credentials KServe's storage initializer reads, as an OpenShift AI S3 connection, and the
service account that hands them to the InferenceServices.

One Secret serves both readers:
- OpenShift AI lists it as a connection of the project: label `opendatahub.io/dashboard: "true"`, the
  connection-type annotations and the keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_ENDPOINT,
  AWS_S3_BUCKET, AWS_DEFAULT_REGION (OpenShift AI 3.2 "Using connections",
  https://docs.redhat.com/en/documentation/red_hat_openshift_ai_self-managed/3.2/html/working_on_projects/using-connections_projects;
  opendatahub-io/opendatahub-operator wiki "How to use Connection API": annotation
  `opendatahub.io/connection-type-protocol: s3`, the S3 keys above; the 2.x dashboard's
  `opendatahub.io/connection-type: s3`).
- KServe (v0.20.0, commit 1fb781055dd1567164358233e1125142ca6ef1fe) reads the secrets a predictor's
  service account lists (pkg/credentials/service_account_credentials.go, mountSecretCredential): a secret
  holding the key `s3SecretAccessKeyName` (AWS_SECRET_ACCESS_KEY in the shipped inferenceservice-config,
  config/configmap/inferenceservice.yaml) is an S3 secret; its AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  become secretKeyRef env of the storage initializer (pkg/credentials/s3/s3_secret.go, BuildSecretEnvs),
  and the endpoint and region come from the secret's data keys S3_ENDPOINT and AWS_DEFAULT_REGION when
  no serving.kserve.io/s3-* annotation is set (pkg/credentials/s3/utils.go, getEnvValue); an `http://`
  endpoint sets S3_USE_HTTPS=0 (getEndpointConfiguration).
Every value is a Pulumi secret: none reaches the plan or the state in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.conventions import LABEL_PREFIX

# KServe's data keys (pkg/credentials/s3/s3_secret.go) and OpenShift AI's connection keys.
ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
KSERVE_ENDPOINT = "S3_ENDPOINT"
REGION = "AWS_DEFAULT_REGION"
CONNECTION_ENDPOINT = "AWS_S3_ENDPOINT"
CONNECTION_BUCKET = "AWS_S3_BUCKET"


@dataclass(frozen=True)
class S3ConnectionArgs:
    namespace: pulumi.Input[str]
    endpoint_url: pulumi.Input[str]
    """With its scheme (http://minio.minio-storage.svc:9000): KServe derives S3_USE_HTTPS from it."""
    bucket: pulumi.Input[str]
    region: str
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    display_name: str = "Model weights (S3)"
    secret_name: str = "model-weights-s3"
    service_account_name: str = "kserve-models"


def connection_metadata(args: S3ConnectionArgs) -> k8s.meta.v1.ObjectMetaArgsDict:
    """Labels and annotations that make the Secret an OpenShift AI S3 connection (module docstring)."""
    return {
        "name": args.secret_name,
        "namespace": args.namespace,
        "labels": {"opendatahub.io/dashboard": "true", f"{LABEL_PREFIX}/component": "model-store"},
        "annotations": {
            "openshift.io/display-name": args.display_name,
            "opendatahub.io/connection-type": "s3",
            "opendatahub.io/connection-type-protocol": "s3",
        },
    }


class S3Connection(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]

    def __init__(self, name: str, args: S3ConnectionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:kserve:S3Connection", name, None, opts)
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=connection_metadata(args),
            type="Opaque",
            string_data={
                ACCESS_KEY_ID: pulumi.Output.secret(args.access_key_id),
                SECRET_ACCESS_KEY: pulumi.Output.secret(args.secret_access_key),
                KSERVE_ENDPOINT: pulumi.Output.secret(args.endpoint_url),
                REGION: pulumi.Output.secret(args.region),
                CONNECTION_ENDPOINT: pulumi.Output.secret(args.endpoint_url),
                CONNECTION_BUCKET: pulumi.Output.secret(args.bucket),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_name = secret.metadata.apply(lambda m: m.name or args.secret_name)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={
                "name": args.service_account_name,
                "namespace": args.namespace,
                "labels": {f"{LABEL_PREFIX}/component": "model-store"},
            },
            # KServe mounts the credentials of every secret its predictor's service account lists.
            secrets=[{"name": self.secret_name}],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.service_account_name = account.metadata.apply(lambda m: m.name or args.service_account_name)
        self.register_outputs({"secretName": self.secret_name, "serviceAccountName": self.service_account_name})
