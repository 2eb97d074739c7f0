"""Import single modules of a provider SDK without its package __init__.

pulumi_digitalocean's __init__ imports every one of its ~190 resource modules (`from .droplet import *`
...), ~0.4 s of CPU per run for the five this program uses (measured with
`python -X importtime -m tools.preview --stack doks`). After `defer_package_init("pulumi_digitalocean")`,
`from pulumi_digitalocean.nfs import Nfs` loads only that module and what it imports (`_inputs`,
`outputs`, `_utilities`). The package's own __init__ still runs, in full, the first time anything reads
a name of the package that is not a submodule (`pulumi_digitalocean.Droplet`), so other code sees the
package as it always is; until then its resource modules are not registered for rehydrating resource
references (pulumi.runtime.register_resource_module), which no output of the resources used here carries.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any


def defer_package_init(name: str) -> None:
    """Put `name` in sys.modules with its __init__ not yet run (nothing to do when already imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not an installed package")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(attr: str) -> Any:
        if attr.startswith("__"):  # dunders the import system probes for (__all__, __path__ is set)
            raise AttributeError(attr)
        if importlib.util.find_spec(f"{name}.{attr}") is not None:  # `from pkg import submodule`
            return importlib.import_module(f"{name}.{attr}")
        del package.__getattr__  # any other name: run the real __init__ once, then answer from it
        loader.exec_module(package)
        return getattr(package, attr)

    package.__getattr__ = complete  # type: ignore[attr-defined]  # PEP 562 module __getattr__
    sys.modules[name] = package
