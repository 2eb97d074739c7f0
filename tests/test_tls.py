"""`endpoint.tls`: HTTPS on the Gateway (cert-manager ACME or the user's Secret) or on OKE's load balancer
(the OCI CCM's annotations), plain HTTP redirected, the exported endpoint in https. The redirect
listener itself runs in real nginx in tests/test_entry_point.py."""

from __future__ import annotations

import functools

import pytest

from tests.harness import config_error, k8s_objects, preview
from tools import manifests

ACME = {"certificate": "acme", "acme": {"email": "ops@example.com"}}
HOST = "api.example.com"


def _run(stack: str, **endpoint):
    run = preview(stack, endpoint=endpoint)
    assert run.error is None, run.error
    return run


@functools.cache
def _gateway_acme():
    return _run("doks", kind="gateway", gatewayClassName="cilium", hostname=HOST, tls=ACME)


@functools.cache
def _oci_load_balancer():
    return _run(
        "oci-a10",
        kind="loadBalancer",
        allowedCidrs=["203.0.113.0/24"],
        tls={"certificate": "secret", "secretName": "api-tls"},
    )


def _objects(run, kind):
    return {o["metadata"]["name"]: o for o in k8s_objects(run) if o["kind"] == kind}


def test_gateway_listens_for_https_with_the_certificate_and_redirects_http():
    run = _gateway_acme()
    (gateway,) = _objects(run, "Gateway").values()
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    assert listeners["https"]["port"] == 443 and listeners["https"]["protocol"] == "HTTPS"
    assert listeners["https"]["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"kind": "Secret", "name": "vllm-tls"}],
    }
    assert listeners["https"]["hostname"] == HOST and listeners["http"]["port"] == 80
    routes = _objects(run, "HTTPRoute")
    api = next(r for r in routes.values() if r["spec"]["rules"][0].get("backendRefs"))
    assert api["spec"]["parentRefs"][0]["sectionName"] == "https", "the API only over TLS"
    (redirect,) = [r for r in routes.values() if r is not api]
    assert redirect["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert redirect["spec"]["rules"][0]["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]
    assert run.outputs["endpoint"] == f"https://{HOST}/v1"
    assert run.outputs["curlModels"].startswith(f"curl -s https://{HOST}/v1/models ")


def test_cert_manager_issues_the_gateways_certificate_over_acme_http01():
    run = _gateway_acme()
    (issuer,) = _objects(run, "Issuer").values()
    (certificate,) = _objects(run, "Certificate").values()
    (gateway,) = _objects(run, "Gateway").values()
    acme = issuer["spec"]["acme"]
    assert acme["email"] == "ops@example.com" and acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (parent,) = acme["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"]
    assert (parent["name"], parent["sectionName"]) == (gateway["metadata"]["name"], "http")
    assert certificate["spec"]["secretName"] == "vllm-tls" and certificate["spec"]["dnsNames"] == [HOST]
    assert certificate["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    for obj in (issuer, certificate, gateway, *_objects(run, "HTTPRoute").values()):
        assert manifests.validate(obj) == [], obj["kind"]  # cert-manager v1.21.1 / Gateway API CRD schemas


def test_oci_load_balancer_terminates_tls_with_the_ccm_annotations_and_redirects_port_80():
    run = _oci_load_balancer()
    service = _objects(run, "Service")["vllm-entry"]
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-ssl-ports"] == "443"
    assert annotations["service.beta.kubernetes.io/oci-load-balancer-tls-secret"] == "vllm/api-tls"
    ports = {p["port"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert ports == {443: "http", 80: "redirect"}
    (door,) = [o for o in k8s_objects(run) if o["kind"] == "Deployment" and o["metadata"]["name"] == "vllm-entry"]
    nginx = next(c for c in door["spec"]["template"]["spec"]["containers"] if c["name"] == "nginx")
    assert {"name": "redirect", "containerPort": 8082} in nginx["ports"]
    policy = _objects(run, "NetworkPolicy")["allow-entry-point"]
    assert {p["port"] for p in policy["spec"]["ingress"][0]["ports"]} == {8080, 8082}
    assert not _objects(run, "Issuer"), "no ACME on a load balancer: the user's Secret"


@pytest.mark.parametrize(
    ("stack", "endpoint", "key", "hint"),
    [
        ("doks", {"kind": "clusterIP", "tls": ACME}, "endpoint.tls", "clusterIP has neither"),
        ("doks", {"kind": "gateway", "tls": ACME}, "endpoint.hostname", "host name"),
        ("doks", {"kind": "loadBalancer", "allowedCidrs": ["203.0.113.0/24"], "tls": {"certificate": "secret"}},
         "endpoint.tls", "OKE's load balancer only"),
        ("oci-a10", {"kind": "loadBalancer", "allowedCidrs": ["203.0.113.0/24"], "tls": ACME},
         "endpoint.tls.certificate", "acme needs kind gateway"),
        ("doks", {"kind": "gateway", "hostname": HOST, "tls": {"certificate": "acme"}}, "endpoint.tls.acme", "email"),
    ],
)  # fmt: skip
def test_tls_that_cannot_work_names_the_key(stack, endpoint, key, hint):
    message = config_error(preview(stack, endpoint=endpoint))
    assert message.startswith(f"invalid stack config: llm-serving:{key}: "), message
    assert hint in message
