"""What OKE offers in the region, checked before anything is created: the Kubernetes version (pinned in
`oke.kubernetesVersion`, which must be one OKE offers) and the node images.

OKE versions come and go (each minor is supported for a limited time), so a hard-coded default goes
stale and a typo in `oke.kubernetesVersion` would only fail at `pulumi up`, after the network exists.
Both are looked up with the provider's data sources during validation, before the first resource is
registered: `oci.containerengine.get_cluster_option` (`oci ce cluster-options get --cluster-option-id all`)
for the control plane, `get_node_pool_option` for node versions and OKE images, `oci.core.get_image`
for an image OCID from config. A failed check is one ConfigError naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi_oci as oci

from components.oke.node_pool import pick_image
from stacks.config.base import PROJECT
from stacks.errors import ConfigError

_OKE_IMAGE_VERSION = re.compile(r"-OKE-(\d+\.\d+\.\d+)-")


@dataclass(frozen=True)
class NodeImage:
    """A node image the stack needs: from config (`image_id`), or looked up for the version."""

    key: str
    """The config key, e.g. `oke.gpuPool.imageId`."""
    image_id: str | None
    gpu: bool
    oke_image: bool = True
    """False for a custom image that is not one of OKE's (the RDMA GPU images): only its existence is checked."""


@dataclass(frozen=True)
class ImageInfo:
    name: str
    operating_system: str
    """As GetImage reports it, e.g. "Oracle Linux", "Canonical Ubuntu"."""


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.removeprefix("v").split("."))


def choose_version(configured: str | None, offered: list[str], region: str) -> str:
    """The configured version, if OKE offers it.

    The version must be pinned (day 2): a default of "the newest OKE offers" would move on the first
    `pulumi up` after OKE adds a version and upgrade the control plane and every node pool in place (their
    `kubernetesVersion` is updatable), and re-create the RDMA instance configuration, whose user data installs
    that version's node packages. DOKS can keep its created version with ignore_changes because nothing else
    reads it; here the version also picks the node images and the RDMA bootstrap, so it is a config value.
    """
    if not offered:
        raise ConfigError(f"{PROJECT}:oke.kubernetesVersion", f"OKE lists no Kubernetes versions in {region}")
    newest = sorted(offered, key=_version_key, reverse=True)
    if configured is None:
        raise ConfigError(
            f"{PROJECT}:oke.kubernetesVersion",
            f"pin the version, e.g. {newest[0]} (the newest OKE offers in {region}; offered: {', '.join(newest[:6])}): "
            "unpinned, a later `pulumi up` would upgrade the cluster and its node pools when OKE adds one",
        )
    if configured not in offered:
        raise ConfigError(
            f"{PROJECT}:oke.kubernetesVersion",
            f"{configured} is not offered by OKE in {region}; offered: {', '.join(newest)} "
            "(oci ce cluster-options get --cluster-option-id all)",
        )
    return configured


def image_problem(image: NodeImage, info: ImageInfo, version: str) -> str | None:
    """Why an image from config cannot run nodes of `version`, or None."""
    built_for = _OKE_IMAGE_VERSION.search(info.name)
    if image.oke_image and built_for is not None and f"v{built_for.group(1)}" != version:
        return f"{info.name} is an OKE image for Kubernetes v{built_for.group(1)}, not {version}"
    return None


def describe_image(key: str, image_id: str) -> ImageInfo:
    """GetImage, or a ConfigError naming `key` when OCI does not know the image."""
    try:
        image = oci.core.get_image(image_id=image_id)
    except Exception as exc:  # the provider's error for a 404 is a plain invoke error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{PROJECT}:{key}", f"image {image_id} was not found or is not visible to you ({first})"
        ) from None
    return ImageInfo(name=image.display_name, operating_system=image.operating_system)


def check_offers(region: str, configured_version: str | None, images: list[NodeImage]) -> str:
    """The Kubernetes version to use, after checking it and every node image against what OKE offers."""
    # Region-wide lists (the compartment is optional in both APIs): a still-placeholder compartment
    # cannot turn this check into a provider error.
    cluster_options = oci.containerengine.get_cluster_option(
        cluster_option_id="all", should_list_all_patch_versions=True
    )
    version = choose_version(configured_version, list(cluster_options.kubernetes_versions or []), region)
    pool_options = oci.containerengine.get_node_pool_option(node_pool_option_id="all")
    if version not in (pool_options.kubernetes_versions or []):
        raise ConfigError(f"{PROJECT}:oke.kubernetesVersion", f"OKE offers no node pools for {version} in {region}")
    sources = list(pool_options.sources or [])
    for image in images:
        if image.image_id is None:
            try:
                pick_image(sources, version, image.gpu)
            except ValueError:
                kind = "GPU" if image.gpu else "node"
                raise ConfigError(
                    f"{PROJECT}:{image.key}",
                    f"OKE offers no {kind} image for Kubernetes {version} in {region}; set {image.key} to an image "
                    "for that version or pick another oke.kubernetesVersion",
                ) from None
            continue
        problem = image_problem(image, describe_image(image.key, image.image_id), version)
        if problem is not None:
            raise ConfigError(f"{PROJECT}:{image.key}", problem)
    return version
