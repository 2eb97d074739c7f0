"""Availability domains by number: AD names carry a tenancy-specific prefix ("Uocm:US-ASHBURN-AD-1"),
so configs name ADs by number and the names are looked up."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci


def ad_by_number(names: list[str], number: int) -> str:
    by_number = {int(n.rsplit("-AD-", 1)[1]): n for n in names if "-AD-" in n}
    if number not in by_number:
        raise ValueError(f"availability domain {number} is not in this region: {sorted(names)}")
    return by_number[number]


def availability_domain(
    compartment_id: pulumi.Input[str], number: int, parent: pulumi.Resource | None = None
) -> pulumi.Output[str]:
    """The full name of AD `number` (1-3) of the provider's region."""
    domains = oci.identity.get_availability_domains_output(
        compartment_id=compartment_id, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return domains.availability_domains.apply(lambda ads: ad_by_number([a.name for a in ads], number))


def short_name(ad_name: str) -> str:
    """Turn "Uocm:US-ASHBURN-AD-1" -> "US-ASHBURN-AD-1", as the File Storage CSI driver's StorageClass takes it
    (Oracle's example: `availabilityDomain: US-ASHBURN-AD-1`)."""
    return ad_name.split(":", 1)[-1]
