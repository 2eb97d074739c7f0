"""Annotations for a Service of type LoadBalancer on OKE (the OCI cloud controller manager).

Source: oracle/oci-cloud-controller-manager docs/load-balancer-annotations.md and
docs/using-network-load-balancer.md; Oracle, "Defining Kubernetes Services of Type LoadBalancer",
https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengcreatingloadbalancer.htm.

Security lists are declared by OkeNetwork (client allow-list on the LB subnet, NodePorts and health
checks to the workers), so the cloud controller is told not to manage them ("None"): otherwise it
would edit security lists Pulumi owns and each `pulumi up` would undo the other's rules.
"""

from __future__ import annotations

from typing import Literal

LB_TYPE = "oci.oraclecloud.com/load-balancer-type"
_LB = "service.beta.kubernetes.io/oci-load-balancer-"
_NLB = "oci-network-load-balancer.oraclecloud.com/"


def service_annotations(
    kind: Literal["lb", "nlb"],
    *,
    min_mbps: int = 10,
    max_mbps: int = 100,
    idle_timeout_seconds: int = 600,
    preserve_client_ip: bool = True,
) -> dict[str, str]:
    if kind == "nlb":
        return {
            LB_TYPE: "nlb",
            f"{_NLB}security-list-management-mode": "None",
            # With externalTrafficPolicy Local the NLB passes the client's IP to the pod.
            f"{_NLB}is-preserve-source": "true" if preserve_client_ip else "false",
        }
    return {
        LB_TYPE: "lb",
        f"{_LB}shape": "flexible",
        f"{_LB}shape-flex-min": str(min_mbps),
        f"{_LB}shape-flex-max": str(max_mbps),
        # Streams of long generations outlast the default idle timeout.
        f"{_LB}connection-idle-timeout": str(idle_timeout_seconds),
        f"{_LB}security-list-management-mode": "None",
    }
