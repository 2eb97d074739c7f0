"""How GPU nodes advertise `nvidia.com/gpu` on OKE: OKE's own NVIDIA device plugin add-on.

Decision (per Oracle): "Running Applications on GPU-based Nodes"
(https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengrunninggpunodes.htm) has managed GPU
nodes use an Oracle Linux GPU image with the CUDA libraries preinstalled; pods only request
`nvidia.com/gpu` and nothing else is installed. The device plugin behind that is the `NvidiaGpuPlugin`
cluster add-on ("a convenient way to manage the NVIDIA Device Plugin for Kubernetes", Oracle OKE
add-on docs; NVIDIA AICR "OKE GPU Setup": OKE installs NVIDIA's device plugin via the NvidiaGpuPlugin
add-on, Oracle's GPU images preinstall the driver and container toolkit). The `NvidiaGpuOperator`
add-on is the path for bring-your-own driverless images or MIG/DCGM features, and then the plugin
add-on must be disabled on those nodes (oracle-quickstart/oci-hpc-oke terraform/oke-addons.tf,
label `oci.oraclecloud.com/disable-gpu-device-plugin`); single-node vLLM on Oracle GPU images needs
neither, so we declare the plugin add-on and never install a second plugin (production-stack's
extra `kubectl apply` of k8s-device-plugin would advertise the GPUs twice).

The add-on is declared (not left implicit) so its version can be pinned: Oracle recommends choosing
the NVIDIA GPU Plugin version "rather than specifying that you want Oracle to update the add-on
automatically" (https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/configuration-arguments-nvidia-gpu-plugin.htm).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

DEVICE_PLUGIN_ADDON = "NvidiaGpuPlugin"


@dataclass(frozen=True)
class OkeGpuEnablementArgs:
    cluster_id: pulumi.Input[str]
    version: str | None = None
    """Add-on version to pin; None lets Oracle keep it updated."""


class OkeGpuEnablement(pulumi.ComponentResource):
    addon_name: str
    resource_name: str
    """The GPU resource pods request."""

    def __init__(self, name: str, args: OkeGpuEnablementArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:GpuEnablement", name, None, opts)
        oci.containerengine.Addon(
            f"{name}-device-plugin",
            cluster_id=args.cluster_id,
            addon_name=DEVICE_PLUGIN_ADDON,
            version=args.version,
            # Take over the add-on if OKE already installed it, instead of failing on a duplicate.
            override_existing=True,
            remove_addon_resources_on_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.addon_name = DEVICE_PLUGIN_ADDON
        self.resource_name = "nvidia.com/gpu"
        self.register_outputs({"addonName": self.addon_name})
