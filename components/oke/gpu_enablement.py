"""How GPU nodes advertise `nvidia.com/gpu` on OKE: OKE cluster add-ons, chosen by the GPU image family.

Two recipes (the stack picks one from config; this module only knows how each is built):

1. `device_plugin_recipe` — Oracle's GPU images (Oracle Linux, CUDA driver and container runtime
   preinstalled): the `NvidiaGpuPlugin` add-on alone. "Running Applications on GPU-based Nodes"
   (https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/contengrunninggpunodes.htm): pods only request
   `nvidia.com/gpu`; the add-on is "a convenient way to manage the NVIDIA Device Plugin for Kubernetes".
   It is declared (not left implicit) so its version can be pinned, as Oracle recommends
   (https://docs.oracle.com/en-us/iaas/Content/ContEng/Tasks/configuration-arguments-nvidia-gpu-plugin.htm).
   Never a second plugin next to it (production-stack's extra k8s-device-plugin would advertise GPUs twice).

2. `gpu_operator_recipe` — oracle-quickstart/oci-hpc-oke's Ubuntu GPU/RDMA images (NVIDIA driver
   preinstalled, no NVIDIA container runtime for CRI-O): the `NodeFeatureDiscovery` and
   `NvidiaGpuOperator` add-ons, as oci-hpc-oke terraform/oke-addons.tf @61d210a deploys them
   (`oci_containerengine_addon.node_feature_discovery`, `.nvidia_gpu_operator` depending on it), with the
   operator's driver off (the image has it: NVIDIA's chart value `driver.enabled`, "Set this value to false
   when using the Operator on systems with pre-installed drivers", GPU Operator install docs), the container
   toolkit on (`toolkit.enabled`, oci-hpc-oke variables.tf default true), the operator's own device plugin
   on and OKE's plugin add-on off (`disableNvidiaGpuPlugin = true`, oci-hpc-oke
   `nvidia_gpu_operator_disable_plugin` default), and the GPU nodes labelled
   `oci.oraclecloud.com/disable-gpu-device-plugin=true` (oci-hpc-oke terraform/oke-workers.tf node_labels)
   so a plugin add-on OKE may have installed skips them: one device plugin per node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_oci as oci

from components.conventions import GPU_RESOURCE

DEVICE_PLUGIN_ADDON = "NvidiaGpuPlugin"
GPU_OPERATOR_ADDON = "NvidiaGpuOperator"
NODE_FEATURE_DISCOVERY_ADDON = "NodeFeatureDiscovery"
# The node label OKE's NvidiaGpuPlugin add-on honours (oci-hpc-oke terraform/oke-workers.tf).
DISABLE_DEVICE_PLUGIN_LABEL = "oci.oraclecloud.com/disable-gpu-device-plugin"


@dataclass(frozen=True)
class OkeAddon:
    name: str
    """The OKE add-on name (`oci ce addon-option list`)."""
    version: str | None = None
    """Pinned version; None lets Oracle keep it updated."""
    configurations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GpuEnablementRecipe:
    addons: tuple[OkeAddon, ...]
    """Installed in order, each after the previous one."""
    node_labels: dict[str, str]
    """Labels the GPU nodes must carry for this recipe."""


def device_plugin_recipe(version: str | None) -> GpuEnablementRecipe:
    """Oracle GPU images: OKE's NVIDIA device plugin add-on."""
    return GpuEnablementRecipe(addons=(OkeAddon(DEVICE_PLUGIN_ADDON, version),), node_labels={})


def gpu_operator_recipe(version: str | None) -> GpuEnablementRecipe:
    """Images with the NVIDIA driver but no container toolkit (oci-hpc-oke's Ubuntu GPU images)."""
    operator = OkeAddon(
        GPU_OPERATOR_ADDON,
        version,
        {
            # Keys and values of oci-hpc-oke terraform/oke-addons.tf (nvidia_gpu_operator_addon_configurations)
            # and variables.tf (nvidia_gpu_operator_configuration defaults), plus the driver switch.
            "driver.enabled": "false",
            "toolkit.enabled": "true",
            "toolkit.installDir": "/usr/local/nvidia",
            "devicePlugin.enabled": "true",
            "disableNvidiaGpuPlugin": "true",
            "hostPaths.rootFS": "/",
            "hostPaths.driverInstallDir": "/run/nvidia/driver",
            "migManager.enabled": "false",
            "skipNodeFeatureDiscoveryDependencyCheck": "false",
        },
    )
    return GpuEnablementRecipe(
        addons=(OkeAddon(NODE_FEATURE_DISCOVERY_ADDON), operator),
        node_labels={DISABLE_DEVICE_PLUGIN_LABEL: "true"},
    )


@dataclass(frozen=True)
class OkeGpuEnablementArgs:
    cluster_id: pulumi.Input[str]
    recipe: GpuEnablementRecipe


class OkeGpuEnablement(pulumi.ComponentResource):
    """The add-ons of one recipe. Outputs: `addon_names`, `node_labels` (for the GPU nodes) and
    `resource_name` (what pods request)."""

    addon_names: list[str]
    node_labels: dict[str, str]
    resource_name: str

    def __init__(self, name: str, args: OkeGpuEnablementArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:oke:GpuEnablement", name, None, opts)
        previous: list[pulumi.Resource] = []
        for addon in args.recipe.addons:
            role = _ROLES.get(addon.name, addon.name.lower())
            resource = oci.containerengine.Addon(
                f"{name}-{role}",
                cluster_id=args.cluster_id,
                addon_name=addon.name,
                version=addon.version,
                configurations=[
                    oci.containerengine.AddonConfigurationArgs(key=k, value=v)
                    for k, v in sorted(addon.configurations.items())
                ]
                or None,
                # Take over the add-on if OKE already installed it, instead of failing on a duplicate.
                override_existing=True,
                remove_addon_resources_on_delete=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous[-1:]),
            )
            previous.append(resource)
        self.addon_names = [a.name for a in args.recipe.addons]
        self.node_labels = dict(args.recipe.node_labels)
        self.resource_name = GPU_RESOURCE
        self.register_outputs({"addonNames": self.addon_names})


# Resource-name roles; the device plugin keeps the name it always had (no replacement on upgrade).
_ROLES = {
    DEVICE_PLUGIN_ADDON: "device-plugin",
    GPU_OPERATOR_ADDON: "gpu-operator",
    NODE_FEATURE_DISCOVERY_ADDON: "node-feature-discovery",
}
