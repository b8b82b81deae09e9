"""The local system's own process gives its freed memory back once it is quiet.

The embedded AWS (moto's S3, DynamoDB and Step Functions) and the gateway answer on many
threads, and glibc kept what they freed: a request body of tens of MB (an output part's
PUT) raised glibc's mmap threshold to its size, so later ones came from its arenas, and
the process stayed at its busiest (767 MiB after a 1 GB sort, ~400 MiB at rest before
it). A thread checks every ``tick_s`` how much CPU the process used: once it has been
nearly idle for ``quiet_s`` (every tick of it) after work, it calls ``malloc_trim(0)``
(a few ms), as an idle pool worker does (sluice.local.worker_pool). A busy tick starts
the quiet time again, so a request in flight is never trimmed under.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sluice.local.worker_pool import IDLE_TRIM_S, give_back_freed_memory

QUIET_SHARE = 0.02
"""A tick is quiet when the process used less than this share of one core in it."""

BUSY_CPU_S = 0.5
"""CPU seconds of work since the last trim that make the next quiet time trim."""


class QuietTrim:
    """Calls ``trim`` once ``quiet_s`` of quiet ticks follow work; ``check`` is one tick's
    decision, ``start`` runs it every ``tick_s`` on a thread of its own until ``stop``."""

    def __init__(
        self,
        quiet_s: float = IDLE_TRIM_S,
        tick_s: float = 1.0,
        cpu: Callable[[], float] = time.process_time,
        trim: Callable[[], None] = give_back_freed_memory,
    ) -> None:
        self.quiet_s = quiet_s
        self.tick_s = tick_s
        self._cpu = cpu
        self._trim = trim
        self._last = cpu()
        self._quiet_ticks = 0
        self._worked = 0.0  # CPU seconds since the last trim
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._checked = threading.Condition()
        self.trims = 0

    def check(self) -> bool:
        """One tick's end: trim (True) if ``quiet_s`` of quiet ticks now follow work."""
        with self._checked:
            now = self._cpu()
            used, self._last = now - self._last, now
            self._worked += used
            quiet = used < QUIET_SHARE * self.tick_s
            self._quiet_ticks = self._quiet_ticks + 1 if quiet else 0
            trim = self._quiet_ticks * self.tick_s >= self.quiet_s and self._worked >= BUSY_CPU_S
            if trim:
                self._trim()
                self._worked = 0.0
                self.trims += 1
            self._checked.notify_all()
            return trim

    def settled(self, within_s: float) -> bool:
        """Wait up to ``within_s`` for a check that leaves no work untrimmed (a trim, or
        little work since the last); whether one came. For benchmarks measuring a
        request's own peak memory."""
        deadline = time.monotonic() + within_s
        with self._checked:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not self._checked.wait(left):
                    return False
                if self._worked < BUSY_CPU_S:
                    return True

    def start(self) -> QuietTrim:
        """Check every ``tick_s`` on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="quiet-trim", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.tick_s):
            self.check()

    def stop(self) -> None:
        """End the thread (at once: it only waits)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
