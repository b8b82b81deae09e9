"""The local gateway's watch on requests in flight: one still unanswered after
``after_s`` is logged once, with the stack of every thread in the process.

A stuck request in the local system (the API, moto and the steps share this process)
otherwise shows only as a client's read timeout, with nothing to say what it waited on;
the stacks name the lock or call it waits in, while it still waits.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger("sluice.local.gateway")

SLOW_REQUEST_S = 20.0
"""How long a request may be in flight before its stacks are logged: past any answer the
local system gives in its tests, and under the 30 s a client like schemathesis waits."""


@dataclass
class _InFlight:
    description: str
    started: float
    reported: bool = False


class SlowRequests:
    """Requests in flight (``watching``); ``check`` reports those past ``after_s`` once,
    and ``start`` runs it every ``tick_s`` on a thread of its own until ``stop``."""

    def __init__(
        self,
        after_s: float = SLOW_REQUEST_S,
        tick_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.after_s = after_s
        self.tick_s = tick_s
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight: dict[int, _InFlight] = {}
        self._ids = itertools.count()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self, description: str) -> Iterator[None]:
        """Count the block as a request in flight, named ``description`` in a report."""
        key = next(self._ids)
        with self._lock:
            self._in_flight[key] = _InFlight(description, self._clock())
        try:
            yield
        finally:
            with self._lock:
                del self._in_flight[key]

    def check(self) -> list[str]:
        """Log each request newly past ``after_s``; returns their descriptions."""
        now = self._clock()
        with self._lock:
            late = [
                request
                for request in self._in_flight.values()
                if not request.reported and now - request.started >= self.after_s
            ]
            for request in late:
                request.reported = True
        if late:
            stacks = thread_stacks()
            for request in late:
                logger.warning(
                    "%s has been in flight for %.1f s; the stacks of this process's threads:\n%s",
                    request.description,
                    now - request.started,
                    stacks,
                )
        return [request.description for request in late]

    def start(self) -> SlowRequests:
        """Check every ``tick_s`` on a daemon thread; returns self."""
        if self._thread is None:
            self._stopped.clear()
            self._thread = threading.Thread(
                target=self._run, name="sluice-slow-requests", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """End the checks."""
        if self._thread is not None:
            self._stopped.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stopped.wait(self.tick_s):
            self.check()


def thread_stacks() -> str:
    """Every thread's stack in this process, each under its name, innermost call last."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        stack = "".join(traceback.format_stack(frame))
        parts.append(f"--- thread {names.get(ident, ident)}:\n{stack}")
    return "\n".join(parts)


__all__ = ["SLOW_REQUEST_S", "SlowRequests", "thread_stacks"]
