"""CPU node sizes: `doks.managementPool.size` and `oke.systemPool.shape` name a size or
shape the cloud has (stacks/catalog, cited there), with one line naming the key and the nearest
allowed values when they do not."""

from __future__ import annotations

import difflib

from stacks import catalog
from stacks.config.syntax import shown


def _nearest(value: str, allowed: list[str], count: int = 4) -> str:
    """A few allowed values close to `value` (a whole list of 150 sizes is not a one-line message)."""
    near = difflib.get_close_matches(value.lower(), [a.lower() for a in allowed], n=count, cutoff=0.5)
    by_lower = {a.lower(): a for a in allowed}
    shown = [by_lower[n] for n in near] or allowed[:count]
    return ", ".join(shown)


def check_droplet_size(size: str) -> None:
    """`size` of doks.managementPool: a CPU Droplet slug (lower case)."""
    if size in catalog.DO_GPU_SIZES:
        raise ValueError(
            f"size: {size} is a GPU Droplet size; the management pool runs CPU Droplets (GPUs: doks.gpuPool)"
        )
    if size in catalog.DO_CPU_SIZES:
        return
    if same := catalog.case_match(size, catalog.DO_CPU_SIZES):
        raise ValueError(f"size: {shown(size)} is not a size slug (they are lower case); did you mean {same!r}?")
    raise ValueError(
        f"size: {shown(size)} is not a DigitalOcean CPU Droplet size; nearest: {_nearest(size, catalog.DO_CPU_SIZES)} "
        f"(all {len(catalog.DO_CPU_SIZES)}: stacks/catalog/digitalocean.yaml)"
    )


def check_oci_cpu_shape(shape: str, ocpus: float | None) -> None:
    """`shape` (and `ocpus`) of an OKE system pool: an x86_64 CPU shape OCI has."""
    known = [*catalog.OCI_CPU_FLEX_SHAPES, *catalog.OCI_CPU_FIXED_SHAPES]
    if shape in catalog.OCI_GPU_SHAPES:
        raise ValueError(f"shape: {shape} is a GPU shape; the system pool runs CPU nodes (GPUs: the GPU pool's shape)")
    if shape in catalog.OCI_ARM_SHAPES:
        raise ValueError(f"shape: {shape} is an Arm shape; node images are picked among OKE's x86_64 images, so use an "
                         "x86 shape such as VM.Standard.E5.Flex")  # fmt: skip
    if same := catalog.case_match(shape, [*known, *catalog.OCI_GPU_SHAPES]):
        raise ValueError(f"shape: {shown(shape)} is not a shape name (they are case-sensitive); did you mean {same!r}?")
    if shape not in known:
        raise ValueError(
            f"shape: {shown(shape)} is not an OCI x86 CPU shape; nearest: {_nearest(shape, known)} "
            f"(all in stacks/catalog/oci.yaml cpu_shapes)"
        )
    allowed = catalog.OCI_CPU_FLEX_SHAPES.get(shape)
    if allowed is not None and ocpus is not None and ocpus not in allowed:
        raise ValueError(f"ocpus: {shape} takes {', '.join(map(str, allowed))} OCPUs (got {ocpus:g})")
