"""Checks every OCI stack makes of its provider and its committed stack file before the first resource."""

from __future__ import annotations

import pulumi

from stacks.config.base import PROJECT
from stacks.errors import ConfigError


def check_provider_region(region_key: str, region: str) -> None:
    """The OCI provider creates everything in `oci:region`; the section's region (which names the OCIR host,
    the offers and the checks) must be the same one."""
    provider_region = pulumi.Config("oci").get("region")
    if provider_region != region:
        raise ConfigError(
            "oci:region",
            f"is {provider_region!r} but {PROJECT}:{region_key} is {region!r}; set both to the same region "
            f"(pulumi config set oci:region {region})",
        )


def warn_placeholders(settings: list[tuple[str | None, str, str]]) -> None:
    """A warning for each (value, placeholder, key) still holding the committed stack file's placeholder:
    the preview runs with it, `pulumi up` would not."""
    for value, placeholder, key in settings:
        if value == placeholder:
            pulumi.log.warn(
                f"{key} is the committed placeholder; set yours with `pulumi config set --path '{key}' ...` "
                "before `pulumi up`"
            )
