"""Stack composition: validated config in, components wired together. `run()` is the program."""

from __future__ import annotations

import pulumi


def run() -> None:
    """Validate the stack config (raising ConfigError before anything is registered), then build."""
    from stacks import config, doks, oke
    from stacks.config_source import read_project_config

    values, secret_keys = read_project_config(config.PROJECT)
    cfg = config.parse(values, secret_keys)
    builders = {"doks": doks.build}
    builders["oke"] = oke.build
    from stacks import oke_rdma

    builders["oke-rdma"] = oke_rdma.build
    from stacks import existing

    builders["existing"] = existing.build
    builders[cfg.platform](cfg)
    pulumi.log.debug(f"built platform {cfg.platform}")
