"""A certificate from an ACME CA (Let's Encrypt) through cert-manager, for a Gateway's HTTPS listener.

An Issuer (namespaced: this stack's own ACME account) whose HTTP-01 solver answers on the Gateway's
plain-HTTP listener (`solvers[].http01.gatewayHTTPRoute.parentRefs`), and a Certificate that writes the
key pair into the Secret the listener reads. Schemas: cert-manager v1.21.1 CRDs (../shared/crds).
cert-manager must run with Gateway API support on (`--enable-gateway-api`,
https://cert-manager.io/docs/usage/gateway/), else the solver's HTTPRoute is never created.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

CERT_MANAGER_API = "cert-manager.io/v1"


@dataclass(frozen=True)
class AcmeCertificateArgs:
    namespace: pulumi.Input[str]
    hostname: str
    secret_name: str
    """The `kubernetes.io/tls` Secret cert-manager writes (the Gateway listener's certificateRef)."""
    email: str
    server: str
    gateway_name: pulumi.Input[str]
    gateway_listener: str = "http"
    name: str = "vllm"


class AcmeCertificate(pulumi.ComponentResource):
    secret_name: str

    def __init__(self, name: str, args: AcmeCertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:workloads:AcmeCertificate", name, None, opts)
        issuer_name = f"{args.name}-acme"
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer",
            api_version=CERT_MANAGER_API,
            kind="Issuer",
            metadata={"name": issuer_name, "namespace": args.namespace},
            spec={
                "acme": {
                    "server": args.server,
                    "email": args.email,
                    "privateKeySecretRef": {"name": f"{issuer_name}-account-key"},
                    "solvers": [
                        {
                            "http01": {
                                "gatewayHTTPRoute": {
                                    "parentRefs": [
                                        {
                                            "group": "gateway.networking.k8s.io",
                                            "kind": "Gateway",
                                            "name": args.gateway_name,
                                            "namespace": args.namespace,
                                            "sectionName": args.gateway_listener,
                                        }
                                    ]
                                }
                            }
                        }
                    ],
                }
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-certificate",
            api_version=CERT_MANAGER_API,
            kind="Certificate",
            metadata={"name": args.name, "namespace": args.namespace},
            spec={
                "secretName": args.secret_name,
                "dnsNames": [args.hostname],
                "issuerRef": {"name": issuer_name, "kind": "Issuer", "group": "cert-manager.io"},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[issuer]),
        )
        self.secret_name = args.secret_name
        self.register_outputs({})
