"""The threads a worker keeps between calls, ended when it is idle.

A step worker keeps request threads for its next call (``objects.concurrently``'s pools,
``together.at_once``'s) and Arrow keeps its IO threads (eight, which read S3 for its
Parquet files). Each thread that allocated holds memory of its own: its stack, and
pages of Arrow's pool (mimalloc) that its allocations left, which another thread's
``release_unused`` does not collect. After filter_select, histogram and join a step
worker had 34 threads, and a trim left it 303-305 MiB of private memory (RSS 424-426)
where a fresh worker has 44 (RSS 118); with its threads ended first, 209-221 (RSS
330-342), most of the difference in Arrow's pool (176 -> 86-95 MiB). An idle worker ends
them before it trims (~20 ms; sluice.local.worker_pool); its next call starts new ones
(about 45 ms for eight threads, after 30 s idle).
"""

from __future__ import annotations

import os
import time

from sluice.sessions import together
from sluice.store import objects

_SETTLE_S = 0.5
"""The longest wait for Arrow's surplus IO threads to end (they take a few ms)."""


def end_kept_threads() -> None:
    """End the threads kept for later calls: sluice's request threads, and Arrow's IO
    threads but one (its pool starts more as reads need them). Call it only while no
    work runs on them (an idle worker)."""
    import pyarrow as pa  # here: only workers, which have Arrow, end threads

    objects.end_threads()
    together.end_threads()
    capacity = pa.io_thread_count()
    if capacity > 1:
        pa.set_io_thread_count(1)
        # The surplus threads end as they wake, each on its own: the capacity restored
        # before they have would keep them.
        _wait_for_threads_to_end(_SETTLE_S)
        pa.set_io_thread_count(capacity)


def _thread_count() -> int | None:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc (macOS)
        return None


def _wait_for_threads_to_end(within_s: float, still_s: float = 0.02) -> None:
    """Wait until the process's thread count has not fallen for ``still_s``, at most
    ``within_s``; where it cannot be read, ``still_s``."""
    count = _thread_count()
    if count is None:
        time.sleep(still_s)
        return
    deadline = time.monotonic() + within_s
    still_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - still_since < still_s:
        time.sleep(0.002)
        now = _thread_count()
        if now is not None and now < count:
            count, still_since = now, time.monotonic()
