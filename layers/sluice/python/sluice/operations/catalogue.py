"""The operation catalogue, discovered from a package's modules (Datalab's introspection
of its ``data_operations`` directory): adding a file adds an operation."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from sluice.errors import NotFound
from sluice.operations.base import Operation

PACKAGES = ("sluice.operations.library",)
"""Where the catalogue's operations are found."""


def discover(package: str) -> dict[str, type[Operation]]:
    """Every concrete ``Operation`` subclass defined in a module of ``package``, by name.
    Abstract classes (a shared base of several operations) are skipped; two classes
    claiming one name are an error, not a silent pick."""
    found: dict[str, type[Operation]] = {}
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == module.__name__
            if not (defined_here and issubclass(cls, Operation)) or inspect.isabstract(cls):
                continue
            if cls.name in found:
                raise ValueError(f"two operations are called {cls.name!r}")
            found[cls.name] = cls
    return found


@cache
def catalogue() -> dict[str, type[Operation]]:
    """The operations of ``PACKAGES``, by name, in name order (found once per process)."""
    found: dict[str, type[Operation]] = {}
    for package in PACKAGES:
        found.update(discover(package))
    return dict(sorted(found.items()))


def operation(name: str) -> Operation:
    """The operation called ``name``; NotFound if the catalogue has none."""
    cls = catalogue().get(name)
    if cls is None:
        raise NotFound(f"operation {name!r} not found", {"available": sorted(catalogue())})
    return cls()
