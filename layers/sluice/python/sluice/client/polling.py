"""How the client follows a record that changes on the server (an ingest, a task, an
operation, an import or training job): a GET every ``POLL_S``, each told to the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

POLL_S = 0.5

OnProgress = Callable[[dict[str, Any]], None]
"""Told of the record at each poll (its ``status`` and ``progress``, 0 to 1)."""

ENDED = ("succeeded", "failed", "cancelled")
"""The statuses a task, an import or a training or prediction job ends in."""

__all__ = ["ENDED", "POLL_S", "OnProgress"]
