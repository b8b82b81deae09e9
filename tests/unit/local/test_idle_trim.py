"""An idle pool worker gives back the memory its last call freed and ends the threads it
kept for the next, and is replaced by a fresh process after a longer rest; a worker
called again in time keeps them."""

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


_STARTED_WITH: list[str] = []


def _record_start(label: str) -> None:
    start_worker(0, 0)
    _STARTED_WITH.append(label)


def _start_label() -> tuple[int, list[str]]:
    return os.getpid(), list(_STARTED_WITH)


def test_an_idle_worker_is_replaced_by_a_fresh_process_started_as_a_rested_one() -> None:
    pool = WorkerPool(
        1,
        WorkerStart(_record_start, ("first",)),
        idle_trim_s=0.1,
        renew_idle_s=0.1,
        rested_start=WorkerStart(_record_start, ("rested",)),
    )
    try:
        first_pid, first = pool.call(_start_label)
        rested = pool.at_rest(within_s=30, renewed=True)
        fresh_pid, fresh = pool.call(_start_label)
    finally:
        pool.shutdown()
    assert rested
    assert first == ["first"]
    assert fresh == ["rested"]
    assert fresh_pid != first_pid
    assert pool.renewals == 1
    assert pool.replacements == 0  # renewed, not lost


def test_the_idle_worker_a_renewal_replaces_has_ended() -> None:
    pool = WorkerPool(1, WorkerStart(start_worker, (0, 0)), idle_trim_s=0.1, renew_idle_s=0.1)
    try:
        first_pid, _ = pool.call(_start_label)
        assert pool.at_rest(within_s=30, renewed=True)
        assert pool.worker_pids() != [first_pid]
    finally:
        pool.shutdown()
    assert not Path(f"/proc/{first_pid}").exists()


def test_a_trimmed_worker_is_not_renewed_before_its_renewal_time() -> None:
    pool = WorkerPool(1, WorkerStart(start_worker, (0, 0)), idle_trim_s=0.1, renew_idle_s=3600)
    try:
        first_pid, _ = pool.call(_start_label)
        trimmed = pool.at_rest(within_s=30)
        renewed = pool.at_rest(within_s=0.3, renewed=True)
        again_pid, _ = pool.call(_start_label)
    finally:
        pool.shutdown()
    assert trimmed
    assert not renewed
    assert again_pid == first_pid
    assert pool.renewals == 0


_CACHE: list[object] = []


def _cache_and_measure() -> float:
    """What a step keeps for the next (as join keeps its broadcast side): CACHED_MIB of
    Arrow's memory held by this process; its RSS then."""
    buffer = pa.allocate_buffer(CACHED_MIB * MIB)
    np.frombuffer(buffer, dtype=np.uint8)[:] = 1
    _CACHE.append(buffer)
    return _rss_mib()


CACHED_MIB = 128


def test_what_a_worker_keeps_stays_through_a_trim_and_goes_with_its_renewal() -> None:
    pool = WorkerPool(1, WorkerStart(start_worker, (0, 0)), idle_trim_s=0.1, renew_idle_s=0.1)
    try:
        before = pool.call(_rss_mib)
        holding = pool.call(_cache_and_measure)
        assert pool.at_rest(within_s=30)
        trimmed = pool.call(_rss_mib)
        assert pool.at_rest(within_s=30, renewed=True)
        renewed = pool.call(_rss_mib)
    finally:
        pool.shutdown()
    assert holding - before > 0.9 * CACHED_MIB
    assert trimmed - before > 0.9 * CACHED_MIB
    assert trimmed - renewed > 0.9 * CACHED_MIB
