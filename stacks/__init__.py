"""Stack composition: validated config in, components wired together. `run()` is the program."""

from __future__ import annotations


def run() -> None:
    """Validate the stack config (raising ConfigError before anything is registered), then build."""
    from stacks.builders import doks, existing, oke, oke_rdma
    from stacks.config import stack
    from stacks.config.source import read_project_config

    builders = {"doks": doks.build, "oke": oke.build, "oke-rdma": oke_rdma.build, "existing": existing.build}
    values, secret_keys = read_project_config(stack.PROJECT)
    cfg = stack.parse(values, secret_keys)
    builders[cfg.platform](cfg)
