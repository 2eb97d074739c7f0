"""Oracle Cloud: what the OCI provider computes and looks up, in the shapes the OCI API returns.

Ids are OCIDs in Oracle's format (ocid1.<type>.oc1.<region>.<unique>); region-less resources
(compartments, tenancies) are never created here. Values are illustrative, never real tenancy data.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from tools.mocks_base import InvokeFailure, ocid

REGION_KEY = "iad"
# AD names carry a tenancy-specific prefix (here "Uocm:") before the region's AD name.
AVAILABILITY_DOMAINS = ["Uocm:US-ASHBURN-AD-1", "Uocm:US-ASHBURN-AD-2", "Uocm:US-ASHBURN-AD-3"]

SERVICES = [
    {
        "name": "All IAD Services In Oracle Services Network",
        "cidrBlock": "all-iad-services-in-oracle-services-network",
        "description": "All IAD Services In Oracle Services Network",
    },
    {
        "name": "OCI IAD Object Storage",
        "cidrBlock": "oci-iad-objectstorage",
        "description": "OCI IAD Object Storage",
    },
]

# Node pool option sources named the way Oracle names OKE images: the OS, Gen2, GPU or aarch64,
# the build date, then OKE-<kubernetes version>-<build>. 1.33.10 is here so an unanchored match on
# "OKE-1.33.1" would pick the wrong image.
_IMAGE_NAMES = [
    "Oracle-Linux-8.10-2025.09.16-0-OKE-1.33.1-1234",
    "Oracle-Linux-8.10-2025.10.23-0-OKE-1.33.1-1301",
    "Oracle-Linux-8.10-2025.10.23-0-OKE-1.33.10-1302",
    "Oracle-Linux-8.10-Gen2-GPU-2025.09.16-0-OKE-1.33.1-1234",
    "Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.33.1-1301",
    "Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.33.10-1302",
    "Oracle-Linux-8.10-aarch64-2025.10.23-0-OKE-1.33.1-1301",
    "Oracle-Linux-8.10-2025.10.23-0-OKE-1.34.2-1310",
    "Oracle-Linux-8.10-Gen2-GPU-2025.10.23-0-OKE-1.34.2-1310",
    # An older version still offered whose GPU images are gone: a GPU pool on it needs an explicit image.
    "Oracle-Linux-8.10-2025.06.17-0-OKE-1.32.1-1100",
]
# What `oci ce cluster-options get --cluster-option-id all` lists (GetClusterOption.kubernetesVersions)
# and the node pool options' kubernetesVersions: here the same versions the images above are built for.
KUBERNETES_VERSIONS = ["v1.32.1", "v1.33.1", "v1.33.10", "v1.34.2"]
# Custom images imported into the (mock) tenancy, as GetImage describes them: an RDMA GPU image from
# oci-hpc-oke's list (docs/worker-node-images.md: Ubuntu 22.04, DOCA OFED, GPU driver 595) and an Oracle
# Linux 8 one. Any other image OCID is "not found", as OCI answers for an image you cannot see.
CUSTOM_IMAGES = {
    "Canonical-Ubuntu-22.04-2026.02.28-0-KERNEL-ORACLE-6.8-DOCA-OFED-3.4.0-GPU-595-OPEN-CUDA-13.2-2026.07.13-0": (
        "Canonical Ubuntu", "22.04",
    ),
    "Oracle-Linux-8.10-2025.10.23-0-RDMA-GPU-imported": ("Oracle Linux", "8"),
}  # fmt: skip


def image_ocid(name: str) -> str:
    """The OCID the mock tenancy gives the image `name` (node pool option sources and custom images alike)."""
    return ocid("image", name, REGION_KEY)


_OKE_KUBECONFIG = """\
---
apiVersion: v1
kind: ""
clusters:
- name: cluster-{short}
  cluster:
    server: https://{endpoint}
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
users:
- name: user-{short}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: oci
      args:
      - ce
      - cluster
      - generate-token
      - --cluster-id
      - {cluster_id}
      - --region
      - us-ashburn-1
      env: []
contexts:
- name: context-{short}
  context:
    cluster: cluster-{short}
    user: user-{short}
current-context: context-{short}
"""


def _host(cidr: str, index: int) -> str:
    return str(ipaddress.IPv4Network(cidr)[index])


class OciMocks:
    """Handlers for oci:* resources and invokes (see MockBase for the naming scheme)."""

    def _oci_subnets(self) -> dict[str, str]:
        # subnet OCID -> CIDR, so addresses handed out later land inside their subnet.
        if not hasattr(self, "_oci_subnet_cidrs"):
            self._oci_subnet_cidrs: dict[str, str] = {}
        return self._oci_subnet_cidrs

    def _oci_cluster_endpoints(self) -> dict[str, dict]:
        if not hasattr(self, "_oci_endpoints"):
            self._oci_endpoints: dict[str, dict] = {}
        return self._oci_endpoints

    # --- Core (networking) ------------------------------------------------------------------

    def _oci_Core_vcn_Vcn(self, name: str, state: dict) -> tuple[str, dict]:
        vcn_id = ocid("vcn", name, REGION_KEY)
        label = state.get("dnsLabel") or "vcn"
        return vcn_id, {
            "cidrBlock": (state.get("cidrBlocks") or [""])[0],
            "defaultRouteTableId": ocid("routetable", f"{name}-default", REGION_KEY),
            "defaultSecurityListId": ocid("securitylist", f"{name}-default", REGION_KEY),
            "defaultDhcpOptionsId": ocid("dhcpoptions", f"{name}-default", REGION_KEY),
            "vcnDomainName": f"{label}.oraclevcn.com",
            "state": "AVAILABLE",
        }

    def _oci_Core_internetGateway_InternetGateway(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("internetgateway", name, REGION_KEY), {"state": "AVAILABLE"}

    def _oci_Core_natGateway_NatGateway(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("natgateway", name, REGION_KEY), {
            "natIp": "192.0.2.10",
            "blockTraffic": False,
            "state": "AVAILABLE",
        }

    def _oci_Core_serviceGateway_ServiceGateway(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("servicegateway", name, REGION_KEY), {"blockTraffic": False, "state": "AVAILABLE"}

    def _oci_Core_routeTable_RouteTable(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("routetable", name, REGION_KEY), {"state": "AVAILABLE"}

    def _oci_Core_securityList_SecurityList(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("securitylist", name, REGION_KEY), {"state": "AVAILABLE"}

    def _oci_Core_subnet_Subnet(self, name: str, state: dict) -> tuple[str, dict]:
        subnet_id = ocid("subnet", name, REGION_KEY)
        cidr = state.get("cidrBlock") or "10.0.0.0/24"
        self._oci_subnets()[subnet_id] = cidr
        return subnet_id, {
            "virtualRouterIp": _host(cidr, 1),
            "virtualRouterMac": "00:00:17:00:00:01",
            "subnetDomainName": f"{state.get('dnsLabel', 'subnet')}.oke.oraclevcn.com",
            "state": "AVAILABLE",
        }

    def _oci_Core_networkSecurityGroup_NetworkSecurityGroup(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("networksecuritygroup", name, REGION_KEY), {"state": "AVAILABLE"}

    def _oci_Core_networkSecurityGroupSecurityRule_NetworkSecurityGroupSecurityRule(
        self, name: str, state: dict
    ) -> tuple[str, dict]:
        # NSG rule ids are short hex strings, not OCIDs.
        return hashlib.sha256(name.encode()).hexdigest()[:6].upper(), {"isValid": True}

    def _call_getServices(self, args: dict) -> dict:
        services = [{**s, "id": ocid("service", s["cidrBlock"], REGION_KEY)} for s in SERVICES]
        for f in args.get("filters") or []:
            values = f.get("values") or []
            if f.get("regex"):
                services = [s for s in services if any(re.fullmatch(v, str(s.get(f["name"]))) for v in values)]
            else:
                services = [s for s in services if str(s.get(f["name"])) in values]
        return {"id": "services", "services": services, "filters": args.get("filters")}

    def _call_getAvailabilityDomains(self, args: dict) -> dict:
        compartment = args.get("compartmentId", "")
        return {
            "id": "availability-domains",
            "compartmentId": compartment,
            "availabilityDomains": [
                {"name": n, "id": ocid("availabilitydomain", n, REGION_KEY), "compartmentId": compartment}
                for n in AVAILABILITY_DOMAINS
            ],
        }

    # --- Container Engine --------------------------------------------------------------------

    def _oci_ContainerEngine_cluster_Cluster(self, name: str, state: dict) -> tuple[str, dict]:
        cluster_id = ocid("cluster", name, REGION_KEY)
        endpoint_config = state.get("endpointConfig") or {}
        cidr = self._oci_subnets().get(endpoint_config.get("subnetId", ""), "10.0.0.0/28")
        endpoints = {
            "kubernetes": "",
            "privateEndpoint": f"{_host(cidr, 3)}:6443",
            "publicEndpoint": "203.0.113.25:6443" if endpoint_config.get("isPublicIpEnabled") else "",
            "vcnHostnameEndpoint": f"{cluster_id[-11:]}.api.oke.oraclevcn.com:6443",
            "ipv6endpoint": "",
        }
        self._oci_cluster_endpoints()[cluster_id] = endpoints
        return cluster_id, {
            "endpoints": [endpoints],
            "availableKubernetesUpgrades": [],
            "state": "ACTIVE",
            "lifecycleDetails": "",
        }

    def _oci_ContainerEngine_nodePool_NodePool(self, name: str, state: dict) -> tuple[str, dict]:
        pool_id = ocid("nodepool", name, REGION_KEY)
        size = int((state.get("nodeConfigDetails") or {}).get("size") or 0)
        return pool_id, {
            "nodes": [
                {"id": ocid("instance", f"{name}-{i}", REGION_KEY), "name": f"{name}-{i}", "state": "ACTIVE"}
                for i in range(size)
            ],
            "state": "ACTIVE",
        }

    def _oci_ContainerEngine_addon_Addon(self, name: str, state: dict) -> tuple[str, dict]:
        # The provider's id for an add-on is "<cluster OCID>/<add-on name>" style composite.
        return f"{state.get('clusterId')}/{state.get('addonName')}", {
            "currentInstalledVersion": state.get("version") or "",
            "state": "ACTIVE",
        }

    def _call_getClusterKubeConfig(self, args: dict) -> dict:
        cluster_id = args.get("clusterId", "")
        endpoints = self._oci_cluster_endpoints().get(cluster_id, {})
        public = args.get("endpoint") == "PUBLIC_ENDPOINT"
        endpoint = endpoints.get("publicEndpoint" if public else "privateEndpoint") or "10.0.0.3:6443"
        content = _OKE_KUBECONFIG.format(short=cluster_id[-11:], endpoint=endpoint, cluster_id=cluster_id)
        return {"id": f"kubeconfig-{cluster_id[-11:]}", "clusterId": cluster_id, "content": content, **args}

    def _call_getClusterOption(self, args: dict) -> dict:
        return {
            "id": args.get("clusterOptionId", "all"),
            "clusterOptionId": args.get("clusterOptionId", "all"),
            "kubernetesVersions": list(KUBERNETES_VERSIONS),
            "clusterPodNetworkOptions": [{"cniType": "OCI_VCN_IP_NATIVE"}, {"cniType": "FLANNEL_OVERLAY"}],
        }

    def _call_getImage(self, args: dict) -> dict:
        images = {image_ocid(n): (n, "Oracle Linux", "8") for n in _IMAGE_NAMES}
        images |= {image_ocid(n): (n, system, version) for n, (system, version) in CUSTOM_IMAGES.items()}
        image_id = args.get("imageId", "")
        if image_id not in images:
            # What OCI answers for an image that does not exist or that the caller may not read.
            raise InvokeFailure(
                "imageId", "404-NotAuthorizedOrNotFound, Authorization failed or requested resource not found"
            )
        name, system, version = images[image_id]
        return {"id": image_id, "imageId": image_id, "displayName": name, "operatingSystem": system,
                "operatingSystemVersion": version, "state": "AVAILABLE", "launchMode": "NATIVE"}  # fmt: skip

    def _call_getNodePoolOption(self, args: dict) -> dict:
        return {
            "id": args.get("nodePoolOptionId", "all"),
            "nodePoolOptionId": args.get("nodePoolOptionId", "all"),
            "kubernetesVersions": list(KUBERNETES_VERSIONS),
            "shapes": ["VM.Standard.E5.Flex", "VM.GPU.A10.1", "VM.GPU.A10.2", "BM.GPU.A10.4", "BM.GPU.H100.8"],
            "images": [],
            "sources": [
                {"sourceType": "IMAGE", "sourceName": n, "imageId": ocid("image", n, REGION_KEY)} for n in _IMAGE_NAMES
            ],
        }

    # --- File Storage ------------------------------------------------------------------------

    def _oci_FileStorage_fileSystem_FileSystem(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("filesystem", name, REGION_KEY), {"meteredBytes": "0", "state": "ACTIVE"}

    def _oci_FileStorage_mountTarget_MountTarget(self, name: str, state: dict) -> tuple[str, dict]:
        cidr = self._oci_subnets().get(state.get("subnetId", ""), "10.0.3.0/24")
        return ocid("mounttarget", name, REGION_KEY), {
            "ipAddress": _host(cidr, 10),
            "exportSetId": ocid("exportset", name, REGION_KEY),
            "privateIpIds": [ocid("privateip", name, REGION_KEY)],
            "state": "ACTIVE",
        }

    def _oci_FileStorage_export_Export(self, name: str, state: dict) -> tuple[str, dict]:
        return ocid("export", name, REGION_KEY), {"state": "ACTIVE"}
