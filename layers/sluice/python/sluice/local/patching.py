"""Replacing one attribute of a library class or module, once, in a way that can be asked about."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_MARK = "__sluice_replaced__"
_lock = threading.Lock()


def replace_once(owner: object, name: str, wrap: Callable[[Any], Any]) -> None:
    """Set ``owner.name`` to ``wrap(original)`` unless that was done already: safe to
    call more than once, from any thread."""
    with _lock:
        if replaced(owner, name):
            return
        replacement = wrap(getattr(owner, name))
        setattr(replacement, _MARK, True)
        setattr(owner, name, replacement)


def replaced(owner: object, name: str) -> bool:
    """Whether :func:`replace_once` has replaced ``owner.name`` in this process."""
    return bool(getattr(getattr(owner, name), _MARK, False))


__all__ = ["replace_once", "replaced"]
