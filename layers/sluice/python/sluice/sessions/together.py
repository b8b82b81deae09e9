"""Requests that need not wait on one another's round trips, run at once."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

THREADS = 4
"""Calls at once: each a request or two to S3 or DynamoDB, waiting on its round trip."""

_pools: dict[int, ThreadPoolExecutor] = {}


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """The answers of ``calls``, in their order, run at once; the first call (in order)
    that raised raises. Its threads are its own (a call may use ``objects.concurrently``'s)
    and kept for the process (a forked worker makes its own)."""
    pool = _pools.get(os.getpid())
    if pool is None:
        pool = _pools[os.getpid()] = ThreadPoolExecutor(THREADS, thread_name_prefix="at-once")
    return [future.result() for future in [pool.submit(call) for call in calls]]


def end_threads() -> None:
    """End the threads ``at_once`` keeps (once their calls are done); a later call starts
    new ones. For an idle process giving its memory back (``objects.end_threads``)."""
    pool = _pools.pop(os.getpid(), None)
    if pool is not None:
        pool.shutdown(wait=True)
