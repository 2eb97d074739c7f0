"""`endpoint.tls`: HTTPS at the front door, terminated where the endpoint is exposed.

- `gateway`: an HTTPS listener on the Gateway with the certificate Secret, plain HTTP answered with a
  redirect. The certificate comes from cert-manager over ACME (an Issuer whose HTTP-01 solver answers
  on the Gateway's HTTP listener, and a Certificate for `endpoint.hostname`; cert-manager CRDs v1.21.1 in
  ../shared/crds; cert-manager must run with its Gateway API support on, `--enable-gateway-api`,
  https://cert-manager.io/docs/usage/gateway/) or from a `kubernetes.io/tls` Secret the user created.
- `loadBalancer` on OKE: the OCI load balancer terminates TLS on 443 with the Secret, through the OCI
  cloud controller manager's annotations `service.beta.kubernetes.io/oci-load-balancer-ssl-ports` and
  `service.beta.kubernetes.io/oci-load-balancer-tls-secret` (`<namespace>/<secret>`)
  (oracle/oci-cloud-controller-manager docs/load-balancer-annotations.md, "TLS-related"); port 80 goes
  to the door's redirect listener. ACME needs a route for its HTTP-01 answer, so there the certificate
  is a Secret the user provides.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stacks.config.base import DNS_LABEL, Section

LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
"""Let's Encrypt's production ACME directory (https://letsencrypt.org/docs/acme-protocol-updates/)."""


class AcmeConfig(Section):
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Contact address registered with the ACME account (expiry notices).",
    )
    server: str = Field(
        LETS_ENCRYPT,
        pattern=r"^https://\S+$",
        description=f"ACME directory URL. Default: Let's Encrypt production ({LETS_ENCRYPT}).",
    )


class TlsConfig(Section):
    certificate: Literal["acme", "secret"] = Field(
        description="Where the certificate comes from: cert-manager over ACME (`acme`, endpoint.kind gateway) "
        "or a `kubernetes.io/tls` Secret you created in the serving namespace (`secret`)."
    )
    secret_name: str = Field(
        "vllm-tls",
        pattern=DNS_LABEL,
        description="The certificate's Secret in the serving namespace: yours (`secret`) or the one cert-manager "
        "writes (`acme`). Default: vllm-tls.",
    )
    acme: AcmeConfig | None = Field(None, description="The ACME account, for `certificate: acme`.")

    @model_validator(mode="after")
    def _acme_needs_an_account(self) -> TlsConfig:
        if self.certificate == "acme" and self.acme is None:
            raise ValueError("acme: certificate acme needs acme.email (the ACME account's contact)")
        if self.certificate == "secret" and self.acme is not None:
            raise ValueError("acme: only for certificate acme; certificate secret reads secretName")
        return self


def tls_problem(tls: TlsConfig | None, kind: str, hostname: str | None, platform: str) -> str | None:
    """Why this TLS setting cannot work on this endpoint (`<key>: <what is allowed>`), or None."""
    if tls is None:
        return None
    if kind == "clusterIP":
        return "endpoint.tls: TLS terminates at the Gateway or the load balancer; endpoint.kind clusterIP has neither"
    if kind == "gateway" and not hostname:
        return "endpoint.hostname: TLS on the Gateway needs the host name its certificate is for"
    if kind == "gateway" and hostname and hostname.startswith("*.") and tls.certificate == "acme":
        return "endpoint.hostname: ACME HTTP-01 cannot issue a wildcard; use certificate secret or a host name"
    if kind == "loadBalancer" and not platform.startswith("oke"):
        return f"endpoint.tls: TLS on a loadBalancer endpoint is set up on OKE's load balancer only (platform {platform}); use kind gateway"
    if kind == "loadBalancer" and tls.certificate == "acme":
        return "endpoint.tls.certificate: a loadBalancer endpoint takes a certificate Secret (secret); acme needs kind gateway"
    return None
