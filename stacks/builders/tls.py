"""`endpoint.tls` on the stack's endpoint (stacks/config/tls.py says which combinations exist and why)."""

from __future__ import annotations

import pulumi

from components.workloads.certificate import AcmeCertificate, AcmeCertificateArgs
from stacks.config.common import StackBase

HTTPS_PORT = 443
HTTP_PORT = 80
# oracle/oci-cloud-controller-manager docs/load-balancer-annotations.md, "TLS-related": the listener ports
# that terminate SSL, and the `<namespace>/<secretName>` of the kubernetes.io/tls Secret they serve.
OCI_SSL_PORTS = "service.beta.kubernetes.io/oci-load-balancer-ssl-ports"
OCI_TLS_SECRET = "service.beta.kubernetes.io/oci-load-balancer-tls-secret"


def load_balancer_tls(cfg: StackBase) -> tuple[int | None, dict[str, str]]:
    """For an OCI load balancer with TLS: (the Service port that redirects plain HTTP, the annotations)."""
    tls = cfg.endpoint.tls
    if tls is None or cfg.endpoint.kind != "loadBalancer":
        return None, {}
    return HTTP_PORT, {OCI_SSL_PORTS: str(HTTPS_PORT), OCI_TLS_SECRET: f"{cfg.namespace}/{tls.secret_name}"}


def gateway_certificate(
    cfg: StackBase, namespace: pulumi.Input[str], gateway_name: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> AcmeCertificate | None:
    """cert-manager's Issuer + Certificate for the Gateway's HTTPS listener, when the certificate is ACME's."""
    tls, hostname = cfg.endpoint.tls, cfg.endpoint.hostname
    # stacks/config/tls.py refuses acme without its settings or a host name.
    if tls is None or tls.acme is None or hostname is None or cfg.endpoint.kind != "gateway":
        return None
    return AcmeCertificate(
        f"{cfg.name}-certificate",
        AcmeCertificateArgs(
            namespace=namespace,
            hostname=hostname,
            secret_name=tls.secret_name,
            email=tls.acme.email,
            server=tls.acme.server,
            gateway_name=gateway_name,
        ),
        opts=opts,
    )


def endpoint_url(cfg: StackBase, host: pulumi.Output[str]) -> pulumi.Output[str]:
    """The exported endpoint: https when TLS is on (then a load balancer is called by `hostname` if set)."""
    if cfg.endpoint.tls is None:
        return host.apply(lambda h: f"http://{h or '$LOAD_BALANCER_IP'}/v1")
    if cfg.endpoint.hostname:
        return pulumi.Output.from_input(f"https://{cfg.endpoint.hostname}/v1")
    return host.apply(lambda h: f"https://{h or '$LOAD_BALANCER_IP'}/v1")
