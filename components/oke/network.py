"""The VCN an OKE cluster lives in: gateways, route tables, one subnet per role, and NSGs holding the
security rules Oracle documents for OKE, and nothing wider.

Sources (every rule below names the row it implements):
- Oracle, "Network Resource Configuration for Cluster Creation and Deployment",
  https://docs.oracle.com/en-us/iaas/Content/ContEng/Concepts/contengnetworkconfig.htm
  (route tables, subnet types, and the security-rule tables for the API endpoint, worker nodes,
  pod subnet and load balancer subnet; all rules stateful).
- Oracle, "Configuring VCN Security Rules for File Storage",
  https://docs.oracle.com/iaas/Content/File/Tasks/securitylistsfilestorage.htm (TCP 111, 2048-2050 and
  UDP 111, 2048 from NFS clients to the mount target); the same ports as
  oracle-terraform-modules/terraform-oci-oke modules/network/nsg-workers.tf.
- The service gateway targets "All <region> Services In Oracle Services Network", selected by the
  regex terraform-oci-oke uses (modules/network/datasources.tf).

Every subnet gets an empty security list instead of the VCN's default one (which opens SSH from
0.0.0.0/0), so the NSGs are the whole policy, except the load balancer subnet: the OCI cloud
controller creates load balancers without our NSGs, so that subnet carries a security list with the
client allow-list and the NodePort/health-check egress (the Service is annotated so the cloud
controller leaves security lists alone; see stacks/builders/oke.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_oci as oci

from components.oke import host_ports

# OKE's CNI types, as the API spells them (pulumi_oci ClusterClusterPodNetworkOptionArgs.cni_type).
CniType = Literal["FLANNEL_OVERLAY", "OCI_VCN_IP_NATIVE"]

# Ports from Oracle's OKE network doc and terraform-oci-oke modules/network/locals.tf.
API_PORT = 6443
CONTROL_PLANE_PORT = 12250
KUBELET_PORT = 10250
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
KUBE_PROXY_HEALTH_PORT = 10256
# NFS client -> File Storage mount target (Oracle File Storage security rules doc).
NFS_TCP_PORTS = [(111, 111), (2048, 2050)]
NFS_UDP_PORTS = [(111, 111), (2048, 2048)]

ALL_OCI_SERVICES = "All .* Services In Oracle Services Network"
ANYWHERE = "0.0.0.0/0"

_TCP, _UDP, _ICMP, _ALL = "6", "17", "1", "all"


@dataclass(frozen=True)
class OkeSubnetCidrs:
    """One CIDR per subnet role, all inside the VCN CIDR."""

    api: str
    workers: str
    load_balancers: str
    file_storage: str | None = None
    """Mount target subnet; None when no File Storage is used."""
    pods: str | None = None
    """Pod subnet; required with OCI_VCN_IP_NATIVE, ignored with FLANNEL_OVERLAY."""


@dataclass(frozen=True)
class OkeNetworkArgs:
    compartment_id: pulumi.Input[str]
    vcn_cidr: str
    subnets: OkeSubnetCidrs
    cni_type: CniType = "FLANNEL_OVERLAY"
    api_public: bool = False
    """Public API endpoint (public subnet, public IP) or private (reach it from inside the VCN)."""
    api_allowed_cidrs: list[str] = field(default_factory=list)
    """Client CIDRs allowed to reach the API endpoint on 6443 (kubectl, Pulumi)."""
    load_balancers_public: bool = True
    lb_allowed_cidrs: list[str] = field(default_factory=list)
    """Client CIDRs allowed to reach Services of type LoadBalancer."""
    lb_listener_ports: list[int] = field(default_factory=lambda: [80])
    lb_preserves_client_ip: bool = False
    """True for a network load balancer passing client IPs (externalTrafficPolicy Local): the client
    CIDRs then reach NodePorts directly (Oracle's LB-subnet table, NLB row)."""
    worker_internet_egress: bool = True
    """Workers reach the internet through the NAT gateway (images from docker.io, model downloads).
    Oracle lists it as optional: without it images must come from OCIR."""
    ssh_allowed_cidrs: list[str] = field(default_factory=list)
    """CIDRs allowed to SSH to workers (optional row of Oracle's worker table). Default: none."""
    host_only_ports: dict[int, str] = field(default_factory=dict)
    """TCP port -> what listens there: servers on the workers' host network (Ray's, for host-network Ray
    pods) that only members of the `host_ports_nsg_id` NSG may reach; other workers, pods and the API
    endpoint reach every other port as before (components/oke/host_ports.py). Default: none."""
    dns_label: str = "oke"
    freeform_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rule:
    direction: Literal["INGRESS", "EGRESS"]
    protocol: str
    peer: pulumi.Input[str]
    description: str
    peer_type: Literal["CIDR_BLOCK", "SERVICE_CIDR_BLOCK", "NETWORK_SECURITY_GROUP"] = "CIDR_BLOCK"
    ports: tuple[int, int] | None = None
    icmp: tuple[int, int] | None = None

    def key(self) -> str:
        """A stable resource-name suffix: adding or removing one rule never renames the others."""
        peer = self.peer if isinstance(self.peer, str) else self.peer_type
        digest = hashlib.sha256(f"{self.protocol}|{peer}|{self.ports}|{self.icmp}".encode()).hexdigest()[:8]
        return f"{self.direction[:2].lower()}-{digest}"


def _port(port: int) -> tuple[int, int]:
    return (port, port)


def _open_to(peer: pulumi.Input[str], what: str, host_only: dict[int, str], tcp_only: bool = False) -> list[_Rule]:
    """Ingress from `peer` on every port (or every TCP port), minus the host-only ports."""
    if not host_only:
        return [_Rule("INGRESS", _TCP if tcp_only else _ALL, peer, what)]
    return [
        _Rule("INGRESS", protocol, peer, f"{what} (not the host-only ports)", ports=ports)
        for protocol, ports in host_ports.all_traffic_except(host_only, tcp_only=tcp_only)
    ]


def _path_discovery(direction: Literal["INGRESS", "EGRESS"], peer: pulumi.Input[str], what: str) -> _Rule:
    return _Rule(direction, _ICMP, peer, f"path discovery {what}", icmp=(3, 4))


class OkeNetwork(pulumi.ComponentResource):
    """VCN + IGW/NAT/Service gateways + route tables + subnets + NSGs for an OKE cluster.

    Outputs other components wire in: `vcn_id`, the `*_subnet_id`s, the `*_nsg_id`s (add rules of
    your own to them with oci.core.NetworkSecurityGroupSecurityRule), `osn_cidr` (the service CIDR
    label of all regional services), and the plain CIDRs.
    """

    vcn_id: pulumi.Output[str]
    api_subnet_id: pulumi.Output[str]
    worker_subnet_id: pulumi.Output[str]
    lb_subnet_id: pulumi.Output[str]
    pod_subnet_id: pulumi.Output[str] | None
    fss_subnet_id: pulumi.Output[str] | None
    api_nsg_id: pulumi.Output[str]
    worker_nsg_id: pulumi.Output[str]
    host_ports_nsg_id: pulumi.Output[str] | None
    """NSG whose members may reach `host_only_ports`; None without host-only ports."""
    pod_nsg_id: pulumi.Output[str] | None
    fss_nsg_id: pulumi.Output[str] | None
    nat_gateway_id: pulumi.Output[str]
    service_gateway_id: pulumi.Output[str]
    private_route_table_id: pulumi.Output[str]
    public_route_table_id: pulumi.Output[str] | None
    osn_cidr: pulumi.Output[str]
    compartment_id: pulumi.Output[str]
    cidrs: OkeSubnetCidrs
    cni_type: CniType

    def __init__(self, name: str, args: OkeNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        native = args.cni_type == "OCI_VCN_IP_NATIVE"
        if native and args.subnets.pods is None:
            raise ValueError("OkeNetworkArgs: OCI_VCN_IP_NATIVE needs subnets.pods")
        cid = args.compartment_id
        tags = args.freeform_tags
        cidr = args.subnets

        vcn = oci.core.Vcn(
            f"{name}-vcn",
            compartment_id=cid,
            cidr_blocks=[args.vcn_cidr],
            display_name=f"{name}-vcn",
            dns_label=args.dns_label,
            freeform_tags=tags,
            opts=child,
        )
        any_public = args.api_public or args.load_balancers_public
        igw = (
            oci.core.InternetGateway(
                f"{name}-igw",
                compartment_id=cid,
                vcn_id=vcn.id,
                enabled=True,
                display_name=f"{name}-igw",
                freeform_tags=tags,
                opts=child,
            )
            if any_public
            else None
        )
        nat = oci.core.NatGateway(
            f"{name}-nat",
            compartment_id=cid,
            vcn_id=vcn.id,
            display_name=f"{name}-nat",
            freeform_tags=tags,
            opts=child,
        )
        services = oci.core.get_services_output(
            filters=[oci.core.GetServicesFilterArgs(name="name", values=[ALL_OCI_SERVICES], regex=True)],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        all_services = services.services.apply(_only_service)
        osn_id = all_services.apply(lambda s: s.id)
        osn_cidr = all_services.apply(lambda s: s.cidr_block)
        sgw = oci.core.ServiceGateway(
            f"{name}-sgw",
            compartment_id=cid,
            vcn_id=vcn.id,
            services=[oci.core.ServiceGatewayServiceArgs(service_id=osn_id)],
            display_name=f"{name}-sgw",
            freeform_tags=tags,
            opts=child,
        )

        # Private subnets: NAT for the internet, the service gateway for OCI services (Oracle: "a
        # route rule ... for All <region> Services in Oracle Services Network" via the SGW).
        private_rt = oci.core.RouteTable(
            f"{name}-private-rt",
            compartment_id=cid,
            vcn_id=vcn.id,
            display_name=f"{name}-private",
            route_rules=[
                oci.core.RouteTableRouteRuleArgs(
                    network_entity_id=nat.id,
                    destination=ANYWHERE,
                    destination_type="CIDR_BLOCK",
                    description="internet through the NAT gateway",
                ),
                oci.core.RouteTableRouteRuleArgs(
                    network_entity_id=sgw.id,
                    destination=osn_cidr,
                    destination_type="SERVICE_CIDR_BLOCK",
                    description="OCI services (OKE, OCIR, Object Storage) through the service gateway",
                ),
            ],
            freeform_tags=tags,
            opts=child,
        )
        # Public subnets: the internet gateway only (Oracle: a public subnet's route table must not
        # have both an IGW and an SGW rule).
        public_rt = (
            oci.core.RouteTable(
                f"{name}-public-rt",
                compartment_id=cid,
                vcn_id=vcn.id,
                display_name=f"{name}-public",
                route_rules=[
                    oci.core.RouteTableRouteRuleArgs(
                        network_entity_id=igw.id,
                        destination=ANYWHERE,
                        destination_type="CIDR_BLOCK",
                        description="internet through the internet gateway",
                    )
                ],
                freeform_tags=tags,
                opts=child,
            )
            if igw is not None
            else None
        )

        # Replaces the VCN's default security list (SSH from anywhere) on every subnet: the NSGs decide.
        nsg_only = oci.core.SecurityList(
            f"{name}-nsg-only",
            compartment_id=cid,
            vcn_id=vcn.id,
            display_name=f"{name}-nsg-only",
            ingress_security_rules=[],
            egress_security_rules=[],
            freeform_tags=tags,
            opts=child,
        )
        lb_list = oci.core.SecurityList(
            f"{name}-lb-sl",
            compartment_id=cid,
            vcn_id=vcn.id,
            display_name=f"{name}-load-balancers",
            ingress_security_rules=[
                oci.core.SecurityListIngressSecurityRuleArgs(
                    protocol=_TCP,
                    source=client,
                    source_type="CIDR_BLOCK",
                    stateless=False,
                    tcp_options=oci.core.SecurityListIngressSecurityRuleTcpOptionsArgs(min=port, max=port),
                    description=f"clients to the load balancer listener {port}",
                )
                for client in dict.fromkeys(args.lb_allowed_cidrs)
                for port in dict.fromkeys(args.lb_listener_ports)
            ],
            egress_security_rules=[
                oci.core.SecurityListEgressSecurityRuleArgs(
                    protocol=_TCP,
                    destination=cidr.workers,
                    destination_type="CIDR_BLOCK",
                    stateless=False,
                    tcp_options=oci.core.SecurityListEgressSecurityRuleTcpOptionsArgs(min=low, max=high),
                    description=what,
                )
                for low, high, what in [
                    (NODE_PORT_MIN, NODE_PORT_MAX, "load balancer to worker NodePorts"),
                    (KUBE_PROXY_HEALTH_PORT, KUBE_PROXY_HEALTH_PORT, "load balancer to kube-proxy health check"),
                ]
            ],
            freeform_tags=tags,
            opts=child,
        )

        def subnet(role: str, block: str, public: bool, label: str, lists: list[pulumi.Output[str]]) -> oci.core.Subnet:
            route_table = public_rt if public and public_rt is not None else private_rt
            return oci.core.Subnet(
                f"{name}-{role}",
                compartment_id=cid,
                vcn_id=vcn.id,
                cidr_block=block,
                display_name=f"{name}-{role}",
                dns_label=label,
                # Regional subnets (no availability_domain): Oracle requires it for the API endpoint
                # and the pod subnet and recommends it for the others.
                prohibit_public_ip_on_vnic=not public,
                prohibit_internet_ingress=not public,
                route_table_id=route_table.id,
                security_list_ids=lists,
                freeform_tags=tags,
                opts=child,
            )

        api_subnet = subnet("api", cidr.api, args.api_public, "api", [nsg_only.id])
        worker_subnet = subnet("workers", cidr.workers, False, "workers", [nsg_only.id])
        lb_subnet = subnet("lb", cidr.load_balancers, args.load_balancers_public, "lb", [lb_list.id])
        pod_subnet = subnet("pods", cidr.pods, False, "pods", [nsg_only.id]) if native and cidr.pods else None
        fss_subnet = subnet("fss", cidr.file_storage, False, "fss", [nsg_only.id]) if cidr.file_storage else None

        def nsg(role: str) -> oci.core.NetworkSecurityGroup:
            return oci.core.NetworkSecurityGroup(
                f"{name}-{role}-nsg",
                compartment_id=cid,
                vcn_id=vcn.id,
                display_name=f"{name}-{role}",
                freeform_tags=tags,
                opts=child,
            )

        api_nsg, worker_nsg = nsg("api"), nsg("workers")
        # Membership decides who reaches the host-only ports (the nodes running those servers join it).
        hosts_nsg = nsg("host-ports") if args.host_only_ports else None
        pod_nsg = nsg("pods") if pod_subnet is not None else None
        fss_nsg = nsg("fss") if fss_subnet is not None else None

        workers, api = cidr.workers, cidr.api
        pods = cidr.pods if native else None

        # (a) Kubernetes API endpoint.
        api_rules = [
            _Rule("INGRESS", _TCP, workers, "workers to the Kubernetes API", ports=(API_PORT, API_PORT)),
            _Rule("INGRESS", _TCP, workers, "workers to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
            _path_discovery("INGRESS", workers, "from workers"),
            *[
                _Rule("INGRESS", _TCP, client, "clients (kubectl, Pulumi) to the Kubernetes API", ports=_port(API_PORT))
                for client in args.api_allowed_cidrs
            ],
            _Rule("EGRESS", _TCP, osn_cidr, "API endpoint to OKE", "SERVICE_CIDR_BLOCK", ports=(443, 443)),
            _path_discovery("EGRESS", workers, "to workers"),
        ]
        if pods is None:
            api_rules.append(_Rule("EGRESS", _TCP, workers, "API endpoint to workers (flannel)"))
        else:
            api_rules += [
                _Rule("INGRESS", _TCP, pods, "pods to the Kubernetes API", ports=_port(API_PORT)),
                _Rule("INGRESS", _TCP, pods, "pods to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
                _Rule("EGRESS", _ALL, pods, "API endpoint to pods (VCN-native)"),
                _Rule("EGRESS", _TCP, workers, "API endpoint to kubelets", ports=_port(KUBELET_PORT)),
            ]

        # (b) Worker nodes.
        host_only = args.host_only_ports
        worker_rules = [
            *_open_to(workers, "worker to worker", host_only),
            _path_discovery("INGRESS", ANYWHERE, "from anywhere"),
            _Rule("EGRESS", _ALL, workers, "worker to worker"),
            _path_discovery("EGRESS", ANYWHERE, "to anywhere"),
            _Rule("EGRESS", _TCP, osn_cidr, "workers to OKE and OCI services", "SERVICE_CIDR_BLOCK"),
            _Rule("EGRESS", _TCP, api, "workers to the Kubernetes API", ports=_port(API_PORT)),
            _Rule("EGRESS", _TCP, api, "workers to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
            # (d) load balancer subnet rows that land on workers.
            _Rule("INGRESS", _TCP, cidr.load_balancers, "load balancers to NodePorts", ports=(NODE_PORT_MIN, NODE_PORT_MAX)),
            _Rule("INGRESS", _TCP, cidr.load_balancers, "load balancer health checks to kube-proxy",
                  ports=_port(KUBE_PROXY_HEALTH_PORT)),
            *[
                _Rule("INGRESS", _TCP, client, "clients to NodePorts (NLB preserving client IPs)",
                      ports=(NODE_PORT_MIN, NODE_PORT_MAX))
                for client in (args.lb_allowed_cidrs if args.lb_preserves_client_ip else [])
            ],
            *[_Rule("INGRESS", _TCP, c, "SSH to workers", ports=(22, 22)) for c in args.ssh_allowed_cidrs],
        ]  # fmt: skip
        if hosts_nsg is not None:
            worker_rules += [
                _Rule("INGRESS", _TCP, hosts_nsg.id, f"{what} from its own nodes", "NETWORK_SECURITY_GROUP",
                      ports=_port(port))
                for port, what in host_only.items()
            ]  # fmt: skip
        if pods is None:
            worker_rules += _open_to(api, "Kubernetes API to workers", host_only, tcp_only=True)
        else:
            worker_rules += [
                *_open_to(pods, "pods to workers", host_only),
                _Rule("EGRESS", _ALL, pods, "workers to pods"),
                _Rule("INGRESS", _TCP, api, "Kubernetes API to kubelets", ports=_port(KUBELET_PORT)),
            ]
        if args.worker_internet_egress:
            worker_rules.append(_Rule("EGRESS", _TCP, ANYWHERE, "workers to the internet through NAT"))
        if cidr.file_storage is not None:
            worker_rules += [
                *[_Rule("EGRESS", _TCP, cidr.file_storage, "NFS to File Storage", ports=p) for p in NFS_TCP_PORTS],
                *[_Rule("EGRESS", _UDP, cidr.file_storage, "NFS to File Storage", ports=p) for p in NFS_UDP_PORTS],
            ]

        # (c) Pod subnet (VCN-native only).
        pod_rules: list[_Rule] = []
        if pods is not None:
            pod_rules = [
                _Rule("INGRESS", _ALL, api, "Kubernetes API to pods"),
                _Rule("INGRESS", _ALL, workers, "workers to pods"),
                _Rule("INGRESS", _ALL, pods, "pod to pod"),
                _Rule("EGRESS", _ALL, pods, "pod to pod"),
                # Pods reach NodePorts and hostNetwork pods on the workers (the KubeRay operator -> a
                # hostNetwork Ray head), and ICMP 3/4 path discovery both ways: terraform-oci-oke
                # modules/network/nsg-pods.tf "Allow ALL egress from pods for cross-node pod communication
                # when using NodePorts or hostNetwork: true" and "Allow ICMP egress/ingress ... for path discovery".
                _Rule("EGRESS", _ALL, workers, "pods to workers (NodePorts, hostNetwork pods)"),
                _path_discovery("INGRESS", ANYWHERE, "from anywhere"),
                _path_discovery("EGRESS", ANYWHERE, "to anywhere"),
                _Rule("EGRESS", _ICMP, osn_cidr, "path discovery to OCI services", "SERVICE_CIDR_BLOCK", icmp=(3, 4)),
                _Rule("EGRESS", _TCP, osn_cidr, "pods to OCI services", "SERVICE_CIDR_BLOCK"),
                _Rule("EGRESS", _TCP, api, "pods to the Kubernetes API", ports=_port(API_PORT)),
                _Rule("EGRESS", _TCP, api, "pods to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
            ]  # fmt: skip
            if args.worker_internet_egress:
                pod_rules.append(_Rule("EGRESS", _TCP, ANYWHERE, "pods to the internet (HTTPS)", ports=(443, 443)))

        # File Storage mount target: NFS from the clients that mount it (kubelets on the workers).
        fss_rules: list[_Rule] = []
        if cidr.file_storage is not None:
            clients = [workers, *([pods] if pods else [])]
            fss_rules = [
                *[_Rule("INGRESS", _TCP, c, "NFS clients to the mount target", ports=p) for c in clients for p in NFS_TCP_PORTS],
                *[_Rule("INGRESS", _UDP, c, "NFS clients to the mount target", ports=p) for c in clients for p in NFS_UDP_PORTS],
            ]  # fmt: skip

        for role, group, rules in [
            ("api", api_nsg, api_rules),
            ("workers", worker_nsg, worker_rules),
            ("pods", pod_nsg, pod_rules),
            ("fss", fss_nsg, fss_rules),
        ]:
            if group is None:
                continue
            # A CIDR listed twice (say in two allow-lists) is one rule.
            for key, rule in {rule.key(): rule for rule in rules}.items():
                _security_rule(f"{name}-{role}-{key}", group, rule, self)

        self.vcn_id = vcn.id
        self.api_subnet_id = api_subnet.id
        self.worker_subnet_id = worker_subnet.id
        self.lb_subnet_id = lb_subnet.id
        self.pod_subnet_id = pod_subnet.id if pod_subnet is not None else None
        self.fss_subnet_id = fss_subnet.id if fss_subnet is not None else None
        self.api_nsg_id = api_nsg.id
        self.worker_nsg_id = worker_nsg.id
        self.host_ports_nsg_id = hosts_nsg.id if hosts_nsg is not None else None
        self.pod_nsg_id = pod_nsg.id if pod_nsg is not None else None
        self.fss_nsg_id = fss_nsg.id if fss_nsg is not None else None
        self.nat_gateway_id = nat.id
        self.service_gateway_id = sgw.id
        self.private_route_table_id = private_rt.id
        self.public_route_table_id = public_rt.id if public_rt is not None else None
        self.osn_cidr = osn_cidr
        self.compartment_id = pulumi.Output.from_input(cid)
        self.cidrs = cidr
        self.cni_type = args.cni_type
        self.register_outputs(
            {
                "vcnId": self.vcn_id,
                "apiSubnetId": self.api_subnet_id,
                "workerSubnetId": self.worker_subnet_id,
                "lbSubnetId": self.lb_subnet_id,
                "podSubnetId": self.pod_subnet_id,
                "fssSubnetId": self.fss_subnet_id,
                "apiNsgId": self.api_nsg_id,
                "workerNsgId": self.worker_nsg_id,
                "hostPortsNsgId": self.host_ports_nsg_id,
                "podNsgId": self.pod_nsg_id,
                "fssNsgId": self.fss_nsg_id,
            }
        )


def _only_service(services: list) -> oci.core.outputs.GetServicesServiceResult:
    if len(services) != 1:
        names = [s.name for s in services]
        raise ValueError(f"expected one service named like {ALL_OCI_SERVICES!r}, got {names}")
    return services[0]


def _security_rule(
    name: str, group: oci.core.NetworkSecurityGroup, rule: _Rule, parent: pulumi.Resource
) -> oci.core.NetworkSecurityGroupSecurityRule:
    tcp = udp = None
    if rule.ports is not None and rule.protocol == _TCP:
        tcp = oci.core.NetworkSecurityGroupSecurityRuleTcpOptionsArgs(
            destination_port_range=oci.core.NetworkSecurityGroupSecurityRuleTcpOptionsDestinationPortRangeArgs(
                min=rule.ports[0], max=rule.ports[1]
            )
        )
    if rule.ports is not None and rule.protocol == _UDP:
        udp = oci.core.NetworkSecurityGroupSecurityRuleUdpOptionsArgs(
            destination_port_range=oci.core.NetworkSecurityGroupSecurityRuleUdpOptionsDestinationPortRangeArgs(
                min=rule.ports[0], max=rule.ports[1]
            )
        )
    peer = (
        {"source": rule.peer, "source_type": rule.peer_type}
        if rule.direction == "INGRESS"
        else {"destination": rule.peer, "destination_type": rule.peer_type}
    )
    return oci.core.NetworkSecurityGroupSecurityRule(
        name,
        network_security_group_id=group.id,
        direction=rule.direction,
        protocol=rule.protocol,
        description=rule.description,
        stateless=False,
        tcp_options=tcp,
        udp_options=udp,
        icmp_options=(
            oci.core.NetworkSecurityGroupSecurityRuleIcmpOptionsArgs(type=rule.icmp[0], code=rule.icmp[1])
            if rule.icmp is not None
            else None
        ),
        **peer,  # type: ignore[arg-type]
        opts=pulumi.ResourceOptions(parent=parent),
    )
