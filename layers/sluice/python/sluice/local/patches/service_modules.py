"""Have moto's server list its own service modules once, not for every request.

To route a request, moto's server asks ``backends.list_of_moto_modules`` which services
it has, and that lists moto's package directory and calls ``isdir`` on ~150 entries each
time: CPU and system calls for every request (each S3 GET of a chunk scan), on the cores
the workers need. moto's package does not change while it runs, so ``install()`` lists
it once.

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from moto import backends

from sluice.local.patches.replace import replace_once, replaced, restore


def _listed_once(list_modules: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    modules = tuple(list_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    return list_of_moto_modules


def install() -> None:
    """List moto's service modules now, and answer that list from then on. Safe to call
    more than once."""
    replace_once(backends, "list_of_moto_modules", _listed_once)


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    restore(backends, "list_of_moto_modules")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(backends, "list_of_moto_modules")


__all__ = ["install", "installed", "uninstall"]
