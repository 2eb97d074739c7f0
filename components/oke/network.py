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
class NsgRule:
    """One stateful NSG rule: direction, protocol, the peer (a CIDR, the OCI services label or an NSG)."""

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


@dataclass(frozen=True)
class RulePeers:
    """What the rule tables refer to: the subnets' CIDRs and the peers that exist only in the cloud."""

    cidrs: OkeSubnetCidrs
    native: bool
    """VCN-native pods (their own subnet) rather than flannel's overlay."""
    osn_cidr: pulumi.Input[str]
    """The service CIDR label of "All <region> Services In Oracle Services Network"."""
    host_ports_nsg: pulumi.Input[str] | None = None
    """The NSG whose members may reach the host-only ports; None without host-only ports."""

    @property
    def pods(self) -> str | None:
        return self.cidrs.pods if self.native else None


def _port(port: int) -> tuple[int, int]:
    return (port, port)


def _open_to(peer: pulumi.Input[str], what: str, host_only: dict[int, str], tcp_only: bool = False) -> list[NsgRule]:
    """Ingress from `peer` on every port (or every TCP port), minus the host-only ports."""
    if not host_only:
        return [NsgRule("INGRESS", _TCP if tcp_only else _ALL, peer, what)]
    return [
        NsgRule("INGRESS", protocol, peer, f"{what} (not the host-only ports)", ports=ports)
        for protocol, ports in host_ports.all_traffic_except(host_only, tcp_only=tcp_only)
    ]


def _path_discovery(direction: Literal["INGRESS", "EGRESS"], peer: pulumi.Input[str], what: str) -> NsgRule:
    return NsgRule(direction, _ICMP, peer, f"path discovery {what}", icmp=(3, 4))


def api_rules(args: OkeNetworkArgs, peers: RulePeers) -> list[NsgRule]:
    """Oracle's table (a): the Kubernetes API endpoint."""
    workers, pods = peers.cidrs.workers, peers.pods
    rules = [
        NsgRule("INGRESS", _TCP, workers, "workers to the Kubernetes API", ports=(API_PORT, API_PORT)),
        NsgRule("INGRESS", _TCP, workers, "workers to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
        _path_discovery("INGRESS", workers, "from workers"),
        *[
            NsgRule("INGRESS", _TCP, client, "clients (kubectl, Pulumi) to the Kubernetes API", ports=_port(API_PORT))
            for client in args.api_allowed_cidrs
        ],
        NsgRule("EGRESS", _TCP, peers.osn_cidr, "API endpoint to OKE", "SERVICE_CIDR_BLOCK", ports=(443, 443)),
        _path_discovery("EGRESS", workers, "to workers"),
    ]
    if pods is None:
        rules.append(NsgRule("EGRESS", _TCP, workers, "API endpoint to workers (flannel)"))
    else:
        rules += [
            NsgRule("INGRESS", _TCP, pods, "pods to the Kubernetes API", ports=_port(API_PORT)),
            NsgRule("INGRESS", _TCP, pods, "pods to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
            NsgRule("EGRESS", _ALL, pods, "API endpoint to pods (VCN-native)"),
            NsgRule("EGRESS", _TCP, workers, "API endpoint to kubelets", ports=_port(KUBELET_PORT)),
        ]
    return rules


def worker_rules(args: OkeNetworkArgs, peers: RulePeers) -> list[NsgRule]:
    """Oracle's table (b): worker nodes, plus the rows of (d), the load balancer subnet, that land on them."""
    cidr, host_only = peers.cidrs, args.host_only_ports
    workers, api, pods = cidr.workers, cidr.api, peers.pods
    rules = [
        *_open_to(workers, "worker to worker", host_only),
        _path_discovery("INGRESS", ANYWHERE, "from anywhere"),
        NsgRule("EGRESS", _ALL, workers, "worker to worker"),
        _path_discovery("EGRESS", ANYWHERE, "to anywhere"),
        NsgRule("EGRESS", _TCP, peers.osn_cidr, "workers to OKE and OCI services", "SERVICE_CIDR_BLOCK"),
        NsgRule("EGRESS", _TCP, api, "workers to the Kubernetes API", ports=_port(API_PORT)),
        NsgRule("EGRESS", _TCP, api, "workers to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
        NsgRule("INGRESS", _TCP, cidr.load_balancers, "load balancers to NodePorts", ports=(NODE_PORT_MIN, NODE_PORT_MAX)),
        NsgRule("INGRESS", _TCP, cidr.load_balancers, "load balancer health checks to kube-proxy",
                ports=_port(KUBE_PROXY_HEALTH_PORT)),
        *[
            NsgRule("INGRESS", _TCP, client, "clients to NodePorts (NLB preserving client IPs)",
                    ports=(NODE_PORT_MIN, NODE_PORT_MAX))
            for client in (args.lb_allowed_cidrs if args.lb_preserves_client_ip else [])
        ],
        *[NsgRule("INGRESS", _TCP, c, "SSH to workers", ports=(22, 22)) for c in args.ssh_allowed_cidrs],
    ]  # fmt: skip
    if peers.host_ports_nsg is not None:
        rules += [
            NsgRule("INGRESS", _TCP, peers.host_ports_nsg, f"{what} from its own nodes", "NETWORK_SECURITY_GROUP",
                    ports=_port(port))
            for port, what in host_only.items()
        ]  # fmt: skip
    if pods is None:
        rules += _open_to(api, "Kubernetes API to workers", host_only, tcp_only=True)
    else:
        rules += [
            *_open_to(pods, "pods to workers", host_only),
            NsgRule("EGRESS", _ALL, pods, "workers to pods"),
            NsgRule("INGRESS", _TCP, api, "Kubernetes API to kubelets", ports=_port(KUBELET_PORT)),
        ]
    if args.worker_internet_egress:
        rules.append(NsgRule("EGRESS", _TCP, ANYWHERE, "workers to the internet through NAT"))
    if cidr.file_storage is not None:
        rules += [
            *[NsgRule("EGRESS", _TCP, cidr.file_storage, "NFS to File Storage", ports=p) for p in NFS_TCP_PORTS],
            *[NsgRule("EGRESS", _UDP, cidr.file_storage, "NFS to File Storage", ports=p) for p in NFS_UDP_PORTS],
        ]
    return rules


def pod_rules(args: OkeNetworkArgs, peers: RulePeers) -> list[NsgRule]:
    """Oracle's table (c): the pod subnet (VCN-native only; none with flannel)."""
    pods, api, workers, osn = peers.pods, peers.cidrs.api, peers.cidrs.workers, peers.osn_cidr
    if pods is None:
        return []
    rules = [
        NsgRule("INGRESS", _ALL, api, "Kubernetes API to pods"),
        NsgRule("INGRESS", _ALL, workers, "workers to pods"),
        NsgRule("INGRESS", _ALL, pods, "pod to pod"),
        NsgRule("EGRESS", _ALL, pods, "pod to pod"),
        # Pods reach NodePorts and hostNetwork pods on the workers (the KubeRay operator -> a
        # hostNetwork Ray head), and ICMP 3/4 path discovery both ways: terraform-oci-oke
        # modules/network/nsg-pods.tf "Allow ALL egress from pods for cross-node pod communication
        # when using NodePorts or hostNetwork: true" and "Allow ICMP egress/ingress ... for path discovery".
        NsgRule("EGRESS", _ALL, workers, "pods to workers (NodePorts, hostNetwork pods)"),
        _path_discovery("INGRESS", ANYWHERE, "from anywhere"),
        _path_discovery("EGRESS", ANYWHERE, "to anywhere"),
        NsgRule("EGRESS", _ICMP, osn, "path discovery to OCI services", "SERVICE_CIDR_BLOCK", icmp=(3, 4)),
        NsgRule("EGRESS", _TCP, osn, "pods to OCI services", "SERVICE_CIDR_BLOCK"),
        NsgRule("EGRESS", _TCP, api, "pods to the Kubernetes API", ports=_port(API_PORT)),
        NsgRule("EGRESS", _TCP, api, "pods to the OKE control plane", ports=_port(CONTROL_PLANE_PORT)),
    ]
    if args.worker_internet_egress:
        rules.append(NsgRule("EGRESS", _TCP, ANYWHERE, "pods to the internet (HTTPS)", ports=(443, 443)))
    return rules


def fss_rules(peers: RulePeers) -> list[NsgRule]:
    """File Storage mount target: NFS from the clients that mount it (kubelets on the workers, and pods)."""
    cidr = peers.cidrs
    if cidr.file_storage is None:
        return []
    clients = [cidr.workers, *([peers.pods] if peers.pods else [])]
    return [
        *[NsgRule("INGRESS", _TCP, c, "NFS clients to the mount target", ports=p) for c in clients for p in NFS_TCP_PORTS],
        *[NsgRule("INGRESS", _UDP, c, "NFS clients to the mount target", ports=p) for c in clients for p in NFS_UDP_PORTS],
    ]  # fmt: skip


def unique(rules: list[NsgRule]) -> dict[str, NsgRule]:
    """Rules by resource-name key: a CIDR listed twice (say in two allow-lists) is one rule."""
    return {rule.key(): rule for rule in rules}


def lb_security_list_rules(
    args: OkeNetworkArgs, workers: str
) -> tuple[list[oci.core.SecurityListIngressSecurityRuleArgs], list[oci.core.SecurityListEgressSecurityRuleArgs]]:
    """The load balancer subnet's security list (the cloud controller's load balancers carry no NSG of
    ours): clients to each listener, and the load balancer to the workers' NodePorts and kube-proxy."""
    ingress = [
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
    ]
    egress = [
        oci.core.SecurityListEgressSecurityRuleArgs(
            protocol=_TCP,
            destination=workers,
            destination_type="CIDR_BLOCK",
            stateless=False,
            tcp_options=oci.core.SecurityListEgressSecurityRuleTcpOptionsArgs(min=low, max=high),
            description=what,
        )
        for low, high, what in [
            (NODE_PORT_MIN, NODE_PORT_MAX, "load balancer to worker NodePorts"),
            (KUBE_PROXY_HEALTH_PORT, KUBE_PROXY_HEALTH_PORT, "load balancer to kube-proxy health check"),
        ]
    ]
    return ingress, egress


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
    api_public: bool
    """Whether the API subnet is public (a cluster endpoint there may then take a public IP)."""

    def __init__(self, name: str, args: OkeNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:Network", name, None, opts)
        native = args.cni_type == "OCI_VCN_IP_NATIVE"
        if native and args.subnets.pods is None:
            raise ValueError("OkeNetworkArgs: OCI_VCN_IP_NATIVE needs subnets.pods")
        self._net_name, self._net_args = name, args
        cidr = args.subnets

        vcn = self._resource(
            oci.core.Vcn, "vcn", cidr_blocks=[args.vcn_cidr], display_name=f"{name}-vcn", dns_label=args.dns_label
        )
        self.vcn_id = vcn.id
        private_rt, public_rt = self._gateways_and_routes()

        # Replaces the VCN's default security list (SSH from anywhere) on every subnet: the NSGs decide.
        nsg_only = self._in_vcn(oci.core.SecurityList, "nsg-only", display_name=f"{name}-nsg-only",
                                ingress_security_rules=[], egress_security_rules=[])  # fmt: skip
        lb_ingress, lb_egress = lb_security_list_rules(args, cidr.workers)
        lb_list = self._in_vcn(oci.core.SecurityList, "lb-sl", display_name=f"{name}-load-balancers",
                               ingress_security_rules=lb_ingress, egress_security_rules=lb_egress)  # fmt: skip

        def subnet(role: str, block: str, public: bool, lists: list[pulumi.Output[str]]) -> oci.core.Subnet:
            route_table = public_rt if public and public_rt is not None else private_rt
            # Regional subnets (no availability_domain): Oracle requires it for the API endpoint and the pod
            # subnet and recommends it for the others.
            return self._in_vcn(oci.core.Subnet, role, cidr_block=block, display_name=f"{name}-{role}",
                                dns_label=role, prohibit_public_ip_on_vnic=not public,
                                prohibit_internet_ingress=not public, route_table_id=route_table.id,
                                security_list_ids=lists)  # fmt: skip

        self.api_subnet_id = subnet("api", cidr.api, args.api_public, [nsg_only.id]).id
        self.worker_subnet_id = subnet("workers", cidr.workers, False, [nsg_only.id]).id
        self.lb_subnet_id = subnet("lb", cidr.load_balancers, args.load_balancers_public, [lb_list.id]).id
        pods = subnet("pods", cidr.pods, False, [nsg_only.id]) if native and cidr.pods else None
        fss = subnet("fss", cidr.file_storage, False, [nsg_only.id]) if cidr.file_storage else None
        self.pod_subnet_id = pods.id if pods is not None else None
        self.fss_subnet_id = fss.id if fss is not None else None

        self._security_groups(native, has_pods=pods is not None, has_fss=fss is not None)
        self.compartment_id = pulumi.Output.from_input(args.compartment_id)
        self.cidrs = cidr
        self.cni_type = args.cni_type
        self.api_public = args.api_public
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

    def _resource(self, kind, role: str, **kwargs):
        """A child `<name>-<role>` in the compartment, with the network's tags."""
        return kind(
            f"{self._net_name}-{role}",
            compartment_id=self._net_args.compartment_id,
            freeform_tags=self._net_args.freeform_tags,
            opts=pulumi.ResourceOptions(parent=self),
            **kwargs,
        )

    def _in_vcn(self, kind, role: str, **kwargs):
        return self._resource(kind, role, vcn_id=self.vcn_id, **kwargs)

    def _gateways_and_routes(self) -> tuple[oci.core.RouteTable, oci.core.RouteTable | None]:
        """Internet (only with a public subnet), NAT and service gateways; the private and public route tables."""
        name, args = self._net_name, self._net_args
        igw = (
            self._in_vcn(oci.core.InternetGateway, "igw", enabled=True, display_name=f"{name}-igw")
            if args.api_public or args.load_balancers_public
            else None
        )
        nat = self._in_vcn(oci.core.NatGateway, "nat", display_name=f"{name}-nat")
        services = oci.core.get_services_output(
            filters=[oci.core.GetServicesFilterArgs(name="name", values=[ALL_OCI_SERVICES], regex=True)],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        all_services = services.services.apply(_only_service)
        self.osn_cidr = all_services.apply(lambda s: s.cidr_block)
        sgw = self._in_vcn(
            oci.core.ServiceGateway,
            "sgw",
            services=[oci.core.ServiceGatewayServiceArgs(service_id=all_services.apply(lambda s: s.id))],
            display_name=f"{name}-sgw",
        )
        # Private subnets: NAT for the internet, the service gateway for OCI services (Oracle: "a
        # route rule ... for All <region> Services in Oracle Services Network" via the SGW).
        private_rt = self._in_vcn(oci.core.RouteTable, "private-rt", display_name=f"{name}-private", route_rules=[
            oci.core.RouteTableRouteRuleArgs(network_entity_id=nat.id, destination=ANYWHERE,
                                             destination_type="CIDR_BLOCK",
                                             description="internet through the NAT gateway"),
            oci.core.RouteTableRouteRuleArgs(network_entity_id=sgw.id, destination=self.osn_cidr,
                                             destination_type="SERVICE_CIDR_BLOCK",
                                             description="OCI services (OKE, OCIR, Object Storage) through the service gateway"),
        ])  # fmt: skip
        # Public subnets: the internet gateway only (Oracle: a public subnet's route table must not
        # have both an IGW and an SGW rule).
        public_rt = (
            self._in_vcn(
                oci.core.RouteTable,
                "public-rt",
                display_name=f"{name}-public",
                route_rules=[
                    oci.core.RouteTableRouteRuleArgs(
                        network_entity_id=igw.id,
                        destination=ANYWHERE,
                        destination_type="CIDR_BLOCK",
                        description="internet through the internet gateway",
                    )
                ],
            )
            if igw is not None
            else None
        )
        self.nat_gateway_id = nat.id
        self.service_gateway_id = sgw.id
        self.private_route_table_id = private_rt.id
        self.public_route_table_id = public_rt.id if public_rt is not None else None
        return private_rt, public_rt

    def _security_groups(self, native: bool, *, has_pods: bool, has_fss: bool) -> None:
        """One NSG per role and its rule table (rule tables: the pure functions above)."""
        name, args = self._net_name, self._net_args

        def nsg(role: str) -> oci.core.NetworkSecurityGroup:
            return self._in_vcn(oci.core.NetworkSecurityGroup, f"{role}-nsg", display_name=f"{name}-{role}")

        api_nsg, worker_nsg = nsg("api"), nsg("workers")
        # Membership decides who reaches the host-only ports (the nodes running those servers join it).
        hosts_nsg = nsg("host-ports") if args.host_only_ports else None
        pod_nsg = nsg("pods") if has_pods else None
        fss_nsg = nsg("fss") if has_fss else None
        peers = RulePeers(args.subnets, native, self.osn_cidr, hosts_nsg.id if hosts_nsg is not None else None)
        for role, group, rules in [
            ("api", api_nsg, api_rules(args, peers)),
            ("workers", worker_nsg, worker_rules(args, peers)),
            ("pods", pod_nsg, pod_rules(args, peers)),
            ("fss", fss_nsg, fss_rules(peers)),
        ]:
            if group is not None:
                for key, rule in unique(rules).items():
                    _security_rule(f"{name}-{role}-{key}", group, rule, self)
        self.api_nsg_id = api_nsg.id
        self.worker_nsg_id = worker_nsg.id
        self.host_ports_nsg_id = hosts_nsg.id if hosts_nsg is not None else None
        self.pod_nsg_id = pod_nsg.id if pod_nsg is not None else None
        self.fss_nsg_id = fss_nsg.id if fss_nsg is not None else None


def _only_service(services: list) -> oci.core.outputs.GetServicesServiceResult:
    if len(services) != 1:
        names = [s.name for s in services]
        raise ValueError(f"expected one service named like {ALL_OCI_SERVICES!r}, got {names}")
    return services[0]


def _security_rule(
    name: str, group: oci.core.NetworkSecurityGroup, rule: NsgRule, parent: pulumi.Resource
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
    # The peer is the source of an ingress rule, the destination of an egress one (the other stays unset).
    ingress = rule.direction == "INGRESS"
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
        source=rule.peer if ingress else None,
        source_type=rule.peer_type if ingress else None,
        destination=None if ingress else rule.peer,
        destination_type=None if ingress else rule.peer_type,
        opts=pulumi.ResourceOptions(parent=parent),
    )
