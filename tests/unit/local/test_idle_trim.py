"""An idle pool worker gives back the memory its last call freed, and ends the threads it
kept for the next; a busy one keeps them."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sluice.local.worker_pool import WorkerPool, WorkerStart, start_worker
from sluice.sessions.together import at_once
from sluice.store.objects import concurrently

MIB = 1024 * 1024
FREED_MIB = 256


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _use_and_free() -> float:
    """Touch FREED_MIB of memory, half numpy's (glibc's heap) and half Arrow's pool, free
    it; the worker's RSS then."""
    held: list[object] = []
    for _ in range(FREED_MIB // 32):
        held.append(np.ones(16 * MIB // 8))
        buffer = pa.allocate_buffer(16 * MIB)
        np.frombuffer(buffer, dtype=np.uint8)[:] = 1
        held.append(buffer)
    held.clear()
    return _rss_mib()


_THREADS: list[ThreadPoolExecutor] = []  # kept, as a worker keeps its request threads


def _threads_started() -> float:
    """The worker's RSS once its four threads run and have each used numpy and Arrow:
    what a trim cannot give back (their stacks, the libraries' state) is in it."""
    if not _THREADS:
        _THREADS.append(ThreadPoolExecutor(4))
    together = threading.Barrier(4)  # four tasks at once: four threads, not one reused

    def start(_: int) -> None:
        together.wait(timeout=10)
        np.ones(1024)
        pa.allocate_buffer(1024)

    list(_THREADS[0].map(start, range(4)))
    return _rss_mib()


def _use_and_free_on_threads() -> float:
    """``_use_and_free`` on the four threads of ``_threads_started``; the RSS then."""
    list(_THREADS[0].map(lambda _: _use_and_free(), range(4)))
    return _rss_mib()


def _pool(idle_trim_s: float) -> WorkerPool:
    # The step workers' start (glibc and Arrow keep what they free), no prefault.
    return WorkerPool(1, WorkerStart(start_worker, (0, 0)), idle_trim_s=idle_trim_s)


def test_an_idle_worker_gives_back_the_memory_its_last_call_freed() -> None:
    pool = _pool(idle_trim_s=0.1)
    try:
        before = pool.call(_rss_mib)
        kept = pool.call(_use_and_free)
        rested = pool.at_rest(within_s=30)
        after = pool.call(_rss_mib)
    finally:
        pool.shutdown()
    assert kept - before > 0.9 * FREED_MIB  # kept for the next call while calls come
    assert rested
    assert kept - after > 0.9 * FREED_MIB  # glibc's and Arrow's both given back


def test_an_idle_worker_gives_back_what_its_threads_freed() -> None:
    pool = _pool(idle_trim_s=0.1)
    try:
        before = pool.call(_threads_started)
        kept = pool.call(_use_and_free_on_threads)
        rested = pool.at_rest(within_s=30)
        after = pool.call(_rss_mib)
    finally:
        pool.shutdown()
    assert kept - before > 0.9 * FREED_MIB
    assert rested
    # The four threads freed 4 x FREED_MIB. With an arena a thread, a trim left 121 MiB of
    # it resident (the arenas' free tops); with one arena, 0-40 MiB in repeated runs.
    assert after - before < 4 * FREED_MIB / 16


def test_a_worker_called_again_within_the_idle_time_keeps_what_it_freed() -> None:
    pool = _pool(idle_trim_s=3600)
    try:
        kept = pool.call(_use_and_free)
        rested = pool.at_rest(within_s=0.2)
        after = pool.call(_rss_mib)
    finally:
        pool.shutdown()
    assert not rested
    assert kept - after < 0.1 * FREED_MIB


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _read_with_kept_threads(path: str) -> tuple[list[str], int]:
    """A step's use of threads: sluice's request threads (``concurrently``, ``at_once``)
    and Arrow's IO threads (a Parquet read); the worker's Python threads and OS threads
    then."""
    concurrently(str, range(8), 8)
    at_once(int, int)
    pq.read_table(path, pre_buffer=True)
    return sorted({t.name.rsplit("_", 1)[0] for t in threading.enumerate()}), _os_threads()


def _threads_now() -> tuple[list[str], int, int]:
    names = [t.name for t in threading.enumerate()]
    return names, _os_threads(), pa.io_thread_count()


def test_an_idle_worker_ends_the_threads_it_kept_for_its_next_call(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({f"c{i}": np.arange(100_000) for i in range(8)}), path)
    pool = _pool(idle_trim_s=0.1)
    try:
        _, started, _ = pool.call(_threads_now)
        kept, busy = pool.call(_read_with_kept_threads, str(path))
        rested = pool.at_rest(within_s=30)
        names, idle, io_capacity = pool.call(_threads_now)
    finally:
        pool.shutdown()
    assert kept == ["MainThread", "at-once", "s3"]
    assert rested
    assert names == ["MainThread"]
    # Arrow's IO pool keeps one thread (and its capacity: more start as reads need them),
    # its CPU pool its one (the worker's Arrow has one core).
    assert idle <= started + 2 < busy
    assert io_capacity == pa.io_thread_count()


def test_a_rested_worker_starts_the_threads_its_next_call_needs(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"c": np.arange(1000)}), path)
    pool = _pool(idle_trim_s=0.1)
    try:
        first = pool.call(_read_with_kept_threads, str(path))
        rested = pool.at_rest(within_s=30)
        again = pool.call(_read_with_kept_threads, str(path))
    finally:
        pool.shutdown()
    assert rested
    assert again[0] == first[0] == ["MainThread", "at-once", "s3"]
