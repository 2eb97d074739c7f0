"""The `endpoint` section: how clients reach the stack's one endpoint (every platform but
oci-data-science, whose model deployment has its own)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stacks.config.base import DNS_LABEL, Cidr, Section
from stacks.config.internet import check_internet_opt_in
from stacks.config.syntax import Hostname
from stacks.config.tls import TlsConfig


class EndpointConfig(Section):
    kind: Literal["gateway", "loadBalancer", "clusterIP"] = Field(
        "gateway",
        description="How clients reach vLLM: a Gateway API Gateway + HTTPRoute (`gateway`), a cloud load "
        "balancer Service (`loadBalancer`), or in-cluster only (`clusterIP`). Default: gateway.",
    )
    gateway_class_name: str = Field(
        "cilium", pattern=DNS_LABEL, description="GatewayClass for `gateway`. Default: cilium (DOKS)."
    )
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Client CIDRs allowed to reach a `loadBalancer` endpoint (loadBalancerSourceRanges). "
        "Required for `loadBalancer`; 0.0.0.0/0 (everyone) only together with allowInternet: true.",
    )
    allow_internet: bool = Field(
        False,
        description="Explicit opt-in to an endpoint open to every address: needed for 0.0.0.0/0 in allowedCidrs "
        "(clients still need the API key). Default: false.",
    )
    hostname: Hostname | None = Field(
        None,
        description="Host name the HTTPRoute matches (a DNS name, optionally `*.` first). Default: any.",
    )
    monitoring_namespace: str | None = Field(
        None,
        pattern=DNS_LABEL,
        description="Namespace whose pods may reach vLLM's port (Prometheus scraping /metrics); the "
        "NetworkPolicies admit no other namespace. Default: none.",
    )
    tls: TlsConfig | None = Field(
        None,
        description="HTTPS at the endpoint (stacks/config/tls.py): on the Gateway with a cert-manager ACME or "
        "your certificate Secret, or on OKE's load balancer with your Secret; HTTP redirects to HTTPS. "
        "Default: none (HTTP).",
    )

    @model_validator(mode="after")
    def _load_balancer_needs_allow_list(self) -> EndpointConfig:
        if self.kind == "loadBalancer" and not self.allowed_cidrs:
            raise ValueError("allowedCidrs: a loadBalancer endpoint needs at least one client CIDR")
        check_internet_opt_in(self.allowed_cidrs, self.allow_internet)
        return self
