"""An endpoint open to every address is an explicit choice: `endpoint.allowInternet: true`,
not a CIDR that slips into a list."""

from __future__ import annotations

import ipaddress


def check_internet_opt_in(cidrs: list[str], allow_internet: bool) -> None:
    """0.0.0.0/0 in `endpoint.allowedCidrs` only with `endpoint.allowInternet: true`, and the opt-in only
    where it opens something (else it is a leftover that would open the endpoint on a later edit)."""
    world = [c for c in cidrs if ipaddress.ip_network(c, strict=False).prefixlen == 0]
    if world and not allow_internet:
        raise ValueError(
            f"allowedCidrs: {world[0]} opens the serving endpoint to every address; list the client CIDRs, "
            "or set endpoint.allowInternet: true to mean it (clients still need the API key)"
        )
    if allow_internet and not world:
        raise ValueError(
            "allowInternet: true but allowedCidrs does not list 0.0.0.0/0; remove allowInternet, or list 0.0.0.0/0"
        )
