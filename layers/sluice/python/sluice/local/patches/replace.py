"""Replacing one attribute of a library class or module, once, in a way that can be asked
about and undone.

Every patch of the local system goes through :func:`replace_once`, so installing one twice
never wraps a replacement in another, and a test can put the library back as it was to
compare against its own answers. Replacements are remembered here rather than marked on
the replacement itself: some are properties, which take no attributes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Replacement:
    original: Any
    replacement: Any
    owned: bool
    """Whether the owner held the original itself (else it inherited it, from a base class)."""


_lock = threading.Lock()
_replacements: dict[tuple[object, str], _Replacement] = {}


def replace_once(owner: object, name: str, wrap: Callable[[Any], Any]) -> None:
    """Set ``owner.name`` to ``wrap(original)`` unless that was done already: safe to
    call more than once, from any thread."""
    with _lock:
        if replaced(owner, name):
            return
        original = getattr(owner, name)
        replacement = wrap(original)
        _replacements[(owner, name)] = _Replacement(original, replacement, name in vars(owner))
        setattr(owner, name, replacement)


def replaced(owner: object, name: str) -> bool:
    """Whether ``owner.name`` is what :func:`replace_once` set it to in this process."""
    entry = _replacements.get((owner, name))
    return entry is not None and getattr(owner, name, None) is entry.replacement


def original(owner: object, name: str) -> Any:
    """What :func:`replace_once` found at ``owner.name`` and wrapped."""
    entry = _replacements.get((owner, name))
    if entry is None:
        raise KeyError(f"{owner!r}.{name} was not replaced")
    return entry.original


def replacements() -> list[tuple[object, str]]:
    """Every (owner, name) that :func:`replace_once` replaced and that still holds it."""
    with _lock:
        return [key for key in _replacements if replaced(*key)]


def restore(owner: object, name: str) -> None:
    """Put ``owner.name`` back as it was before :func:`replace_once` (for tests comparing
    a patched library with its own answers); nothing if it is not replaced."""
    with _lock:
        if not replaced(owner, name):
            return
        entry = _replacements.pop((owner, name))
        if entry.owned:
            setattr(owner, name, entry.original)
        else:
            delattr(owner, name)  # inherited again, as before


__all__ = ["original", "replace_once", "replaced", "replacements", "restore"]
