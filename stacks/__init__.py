"""Stack composition: validated config in, components wired together. `run()` is the program."""

from __future__ import annotations

import importlib

# Each platform's builder module, imported only for its own stack: a doks stack never loads the
# OCI components (part of keeping `make preview STACK=doks` within ~3 s).
BUILDERS = {
    "doks": "stacks.builders.doks",
    "oke": "stacks.builders.oke",
    "oke-rdma": "stacks.builders.oke_rdma",
    "existing": "stacks.builders.existing",
    "oci-data-science": "stacks.builders.ods",
}


def run() -> None:
    """Validate the stack config (raising ConfigError before anything is registered), then build."""
    from stacks.config import stack
    from stacks.config.source import read_project_config

    values, secret_keys = read_project_config(stack.PROJECT)
    cfg = stack.parse(values, secret_keys)
    importlib.import_module(BUILDERS[cfg.platform]).build(cfg)
