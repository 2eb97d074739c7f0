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

import functools
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path
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


# ------------------------------------------------------------------------------------------
# pulumi_kubernetes and pulumi_oci: one module per resource, loaded when the program names it
# ------------------------------------------------------------------------------------------
# Every group-version package of pulumi_kubernetes (`core.v1`, `apps.v1`, `helm.v3`, ...) and every
# service package of pulumi_oci (`core`, `identity`, `containerengine`, ...) has an __init__ made only of
# `from .<module> import *` lines (and `from . import outputs`): reading `k8s.core.v1.Namespace` runs all
# ~50 resource modules of core/v1, `k8s.helm.v3.Release` runs helm/v3/helm.py (the v3 Chart, which imports
# `requests` and urllib3), `oci.core.Vcn` ~250 modules and `oci.identity.Policy` ~230 (~1.5 s each).
# A deferred package answers each name from the one module that defines it (pulumi_kubernetes names a
# module after its kind, `Namespace.py`; pulumi_oci in snake case, `vcn.py`; input types live in
# `_inputs`) and binds what that module exports, exactly as its __init__'s `import *` would; a name it
# cannot place (or a star import of the package, which asks for __all__) runs the real __init__ once.
# Rehydrating a resource reference still works: the SDKs' _utilities.py `Module.construct` reads the
# class with getattr(lazy_import("<package>"), <Kind>), which the deferred package answers.

_STAR_IMPORT = re.compile(r"^from \.(\w+) import \*$", re.M)
_INPUT_SUFFIXES = ("ArgsDict", "Args")
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


class _DeferredPackage(types.ModuleType):
    """An SDK package whose __init__ has not run (see above)."""

    def __getattr__(self, attr: str) -> Any:  # PEP 562: only names not bound yet
        state = _deferred.get(self.__name__)
        if state is None or (attr.startswith("__") and attr != "__all__"):
            raise AttributeError(attr)
        for module in state.candidates(attr):
            loaded = importlib.import_module(f"{self.__name__}.{module}")  # binds its names (__setattr__)
            if attr in self.__dict__:
                return self.__dict__[attr]
            if attr == module:  # a submodule still loading (`from . import outputs` inside outputs' imports)
                return loaded
        state.run_init(self)  # anything else, e.g. `from pulumi_kubernetes.core.v1 import *`
        if attr == "__all__":
            raise AttributeError(attr)
        return getattr(self, attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        # The import system binds a submodule on its package as it loads it; the real __init__ then adds
        # what `from .<module> import *` exports (replacing `Namespace` the module with Namespace the class).
        super().__setattr__(attr, value)
        state = _deferred.get(self.__name__)
        if state is not None and attr in state.star and getattr(value, "__name__", "") == f"{self.__name__}.{attr}":
            exported = getattr(value, "__all__", None) or [n for n in vars(value) if not n.startswith("_")]
            for name in exported:
                super().__setattr__(name, getattr(value, name))


class _StarPackage:
    """What a deferred package's __init__ would import, read from its files on first use."""

    def __init__(self, directory: Path, snake_case: bool):
        self.directory = directory
        self.snake_case = snake_case
        """Modules named in snake case after what they define (pulumi_oci), else after it (pulumi_kubernetes)."""

    @functools.cached_property
    def submodules(self) -> set[str]:
        return {p.stem for p in self.directory.glob("*.py") if p.stem != "__init__"}

    @functools.cached_property
    def star(self) -> set[str]:
        """The modules the __init__ star-imports."""
        return set(_STAR_IMPORT.findall((self.directory / "__init__.py").read_text()))

    def _module(self, name: str) -> str:
        return _CAMEL_HUMP.sub("_", name).lower() if self.snake_case else name

    def candidates(self, attr: str) -> list[str]:
        """The modules that can define `attr`: itself (a submodule), its own (`Vcn` in vcn.py, `get_x_output`
        in get_x.py), else the input types (`_inputs`) or the resource module an `<Kind>Args` or
        `<Kind>InitArgs` belongs to."""
        if attr in self.submodules:
            return [attr]
        found = [m for m in (self._module(attr), attr.removesuffix("_output")) if m in self.star]
        if attr.endswith(_INPUT_SUFFIXES) and "_inputs" in self.star:
            found.append("_inputs")
            stem = attr.removesuffix("Dict").removesuffix("Args")
            found += [m for m in (self._module(stem), self._module(stem.removesuffix("Init"))) if m in self.star]
        return found

    def run_init(self, package: types.ModuleType) -> None:
        del _deferred[package.__name__]
        spec = package.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(package)
        package.__class__ = types.ModuleType


_deferred: dict[str, _StarPackage] = {}

# The SDKs and where their star-import packages are, below the package root.
_SDKS = {"pulumi_kubernetes": ("*/*/__init__.py", False), "pulumi_oci": ("*/__init__.py", True)}


def defer_sdk_packages() -> None:
    """Install a deferred package for each pulumi_kubernetes group version and pulumi_oci service not
    imported yet (a no-op for those already imported, and for an SDK that is absent)."""
    for sdk, (pattern, snake_case) in _SDKS.items():
        spec = importlib.util.find_spec(sdk)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for init in root.glob(pattern):
            name = ".".join((sdk, *init.parent.relative_to(root).parts))
            if name in sys.modules:
                continue
            package_spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[str(init.parent)]
            )
            assert package_spec is not None
            package = _DeferredPackage(name)
            package.__file__, package.__path__, package.__package__ = str(init), [str(init.parent)], name
            package.__spec__, package.__loader__ = package_spec, package_spec.loader
            _deferred[name] = _StarPackage(init.parent, snake_case)
            sys.modules[name] = package
