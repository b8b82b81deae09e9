"""Pools of local Lambda sandboxes: worker processes, and a pool that survives a
worker's death.

The pipeline's steps run in one pool (batch work, at a lower CPU priority), and with
``sluice local``'s defaults the public API in another, as API Gateway's requests reach
Lambda sandboxes of their own, one request at a time each (sluice.local.lambda_runtime
says what runs where).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sluice import heap
from sluice.local.kept_threads import end_kept_threads

# Imported by the fork server before it forks any worker, so that each inherits them;
# malloc_arena first, before any thread makes an arena.
_PRELOAD = [
    "sluice.local.malloc_arena",
    "sluice.local.lambda_runtime",
    "sluice.local.worker_warmup",
]


@dataclass(frozen=True)
class WorkerStart:
    """How a pool's workers begin: ``prepare(*args)`` runs in each, as a Lambda's init
    phase (picklable: a module-level function and plain arguments)."""

    prepare: Callable[..., None]
    args: tuple[Any, ...] = ()


def start_worker(niceness: int, prefault_mib: int) -> None:
    """What every worker does first: leave Ctrl-C to the server, take ``niceness``, keep
    Arrow to one core, keep freed memory and touch ``prefault_mib`` of heap."""
    # A terminal's Ctrl-C reaches the whole process group: the server stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    import pyarrow as pa  # here: the local system's own process never needs Arrow

    # One core: Arrow's thread pool sized for the machine would have every worker's
    # threads fight over the cores the other workers use (the CSV reader then spends
    # 1.6x the CPU).
    pa.set_cpu_count(1)
    # What the catalogue's environment gives each Lambda at its start (sluice.heap).
    heap.keep_freed_memory()
    if prefault_mib:
        heap.prefault(prefault_mib)


IDLE_TRIM_S = 30.0
"""How long a worker waits idle after a call before it gives its freed memory back.

Long enough that the calls of one run (a Map's next item, the state after) and of runs
a person starts one after another (an upload, then operations on it) find the heap
their predecessors kept (sluice.heap: faulting it in again costs as much as the work on
it: a 60 MiB chunk's scan 0.2-2.0 s more system CPU after a trim at load 11, 0.03-0.3
warm), short enough that a machine at rest holds its workers' imports, not their last
step's heap."""


RENEW_IDLE_S = 600.0
"""How long a worker, once trimmed, waits idle before a fresh one replaces it.

A trim leaves what the calls' libraries hold that a trim cannot reach: after the
operations benchmark's operations a rested step worker was 214-285 MiB where a fresh one
(forked, handlers imported, clients made, no heap touched) is 139. A fresh worker's
first call pays what a cold Lambda's does (filter_select, histogram and join were 0.3-0.6
s slower on renewed workers than on trimmed ones), so only a machine idle this long
(about when Lambda reclaims an idle sandbox) has its workers renewed."""


def _glibc() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("c")
    libc = ctypes.CDLL(path) if path else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_M_ARENA_MAX = -8  # mallopt's number for it

MALLOC_ARENAS = 1
"""glibc's arenas in a process that gives memory back (``M_ARENA_MAX``; by default 8 a
core): ``malloc_trim`` gives back the free pages inside every arena but not the free
top of a thread's arena, which a thread's large frees leave resident (32 MiB each of
four threads' arenas in a test, and the workers' request threads grew theirs op by op:
an idle worker kept 225 -> 607 MiB over five operations). One arena, shared, is trimmed
whole; its lock costs nothing here, as the allocations that reach glibc are made under
Python's GIL (Arrow's go to its own pool)."""


def share_one_malloc_arena() -> bool:
    """Have this process's threads allocate from ``MALLOC_ARENAS`` glibc arenas from now
    on; False where the C library is not glibc. Threads started before keep sharing the
    arenas they made: the fork server calls it first (``sluice.local.malloc_arena``)."""
    libc = _glibc()
    return libc is not None and libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) == 1


def give_back_freed_memory() -> None:
    """What an idle worker runs: glibc's free pages (every arena's, not only the heap's
    top) and the free segments of Arrow's pool go back to the OS. The heap is kept
    between calls for speed (sluice.heap); a worker with nothing to do keeps nothing.
    Takes ~10 ms for a GiB."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
    # mimalloc purges freed segments only once their purge delay has passed or when
    # collected: sluice.heap sets a delay no step reaches, so only this gives them back.
    # Only where Arrow is loaded: the system's own process does without it (~40 MiB).
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def rest_idle_worker() -> None:
    """What an idle worker runs: end the threads it kept for the next call
    (sluice.local.kept_threads: what they hold a trim cannot reach), then give its freed
    memory back. Only while no call runs in it."""
    end_kept_threads()
    give_back_freed_memory()


def _run_start(start: WorkerStart) -> None:
    start.prepare(*start.args)


def give_workers_arrows_settings() -> None:
    """Put Arrow's allocator settings (``sluice.heap``) into this process's environment,
    which the fork server (started at the first pool's first call) and through it every
    worker inherit: mimalloc reads them when a process starts, as a Lambda's does from
    the catalogue's environment. A value already set is left as it is."""
    for name, value in heap.ARROW_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def _process_pool(processes: int, start: WorkerStart) -> ProcessPoolExecutor:
    give_workers_arrows_settings()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    pool = ProcessPoolExecutor(
        max_workers=processes, mp_context=context, initializer=_run_start, initargs=(start,)
    )
    # Start every worker now: the pool would start each at its first call, which would
    # then wait for the worker's start.
    for _ in range(processes):
        pool.submit(int)
    return pool


class FairSlots:
    """At most ``slots`` holders at once, and those waiting served in the order they
    came: a freed slot is handed to the longest waiter, never taken by a newcomer.

    A threading.Semaphore lets whichever thread runs first take a freed slot: under load
    some callers then wait many times as long as others."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over, not freed

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def take_if_unwanted(self) -> bool:
        """Take a slot only if one is free and nobody waits for one (True: taken, to be
        given back with ``release``): for work that must never delay a caller."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
        return False

    def release(self) -> None:
        """Give a held slot back: to the longest waiter, else to the free ones."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


class SandboxLost(Exception):
    """The worker running a call died (killed, out of memory): as a Lambda sandbox lost
    mid-invocation, the call has no answer, and the pool has new workers for the next."""


class TimedOut(Exception):
    """A call ran past its function's timeout; its worker was stopped, as Lambda stops a
    sandbox at its timeout."""


class WorkerPool(Executor):
    """A pool of worker processes that survives the death of a worker.

    Each worker is a process pool of its own (one process): a ProcessPoolExecutor whose
    worker dies is broken for good, and one of many workers would take every worker's
    calls down with it. Here a broken worker is replaced by a fresh one (once, however
    many calls saw it break), and the call it broke raises :class:`SandboxLost`, which
    :func:`invoke` answers as Lambda does a lost sandbox, so that the state machine
    retries the step as it would in AWS. A call past its timeout stops its own worker
    only, as Lambda stops one sandbox: the calls beside it run on. A call is sent only
    when a worker is free, so that its timeout counts its own run, not its wait; calls
    waiting for one are sent in the order they came (:class:`FairSlots`).

    With ``idle_trim_s``, a worker idle that long after a call ends its kept threads and
    gives its freed memory back (:func:`rest_idle_worker`); with ``renew_idle_s`` too, a
    worker still idle that long after its trim is replaced by a fresh one, started with
    ``rested_start`` (as Lambda reclaims a sandbox idle for minutes: the next call is a
    cold one). Either happens only while no call waits for a worker: its slot is taken as
    a call's would be, so a call never finds it busy with that.
    """

    def __init__(
        self,
        processes: int,
        start: WorkerStart,
        idle_trim_s: float | None = None,
        renew_idle_s: float | None = None,
        rested_start: WorkerStart | None = None,
    ) -> None:
        self._start = start
        self._rested_start = rested_start or start
        self.renewals = 0  # idle workers replaced by fresh ones
        self._lock = threading.Lock()
        self._workers = [_process_pool(1, start) for _ in range(processes)]
        self._idle: deque[int] = deque(range(processes))
        self._turns = itertools.count()
        self.replacements = 0
        self._free_workers = FairSlots(processes)
        self._closed = False  # shut down: calls answer SandboxLost, nothing is replaced
        # When each worker's last call ended; None while it runs one, or once its freed
        # memory went back (and before its first call: its start's prefault is for that).
        self._used_at: list[float | None] = [None] * processes
        # When each worker was trimmed; None while it runs a call, or once renewed.
        self._trimmed_at: list[float | None] = [None] * processes
        self._changed = threading.Condition(self._lock)
        self._idle_trim_s = idle_trim_s
        self._renew_idle_s = renew_idle_s
        if idle_trim_s is not None:
            threading.Thread(target=self._trim_idle_workers, name="idle-trim", daemon=True).start()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """``fn`` on the workers in turn, free or not (no timeout, nothing replaced)."""
        with self._lock:
            worker = self._workers[next(self._turns) % len(self._workers)]
        return worker.submit(fn, *args, **kwargs)

    def call(self, fn: Any, *args: Any, timeout_s: float | None = None) -> Any:
        """``fn(*args)`` in a free worker; SandboxLost if its worker dies before
        answering, TimedOut if it has not answered in ``timeout_s``.

        A worker found broken before the call is sent (it died while idle) is replaced
        and the call sent to the new one: it never started, and an S3 notification's
        on_upload, which nothing retries here, must not be lost to it.
        """
        with self._free_workers:
            with self._lock:
                slot = self._idle.popleft()  # FairSlots leaves one free to each holder
                self._used_at[slot] = self._trimmed_at[slot] = None
            try:
                return self._run(slot, fn, args, timeout_s)
            finally:
                with self._lock:
                    self._idle.append(slot)
                    self._used_at[slot] = time.monotonic()
                    self._changed.notify_all()

    def _trim_idle_workers(self) -> None:
        """The pool's resting thread: each worker idle ``idle_trim_s`` since its last call
        gives its freed memory back, once; then, idle ``renew_idle_s`` more, is renewed."""
        assert self._idle_trim_s is not None
        while True:
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                due = self._due()
                ready = [(slot, rest) for slot, (at, rest) in due.items() if at <= now]
                if not ready:
                    at = min((at for at, _ in due.values()), default=None)
                    self._changed.wait(at - now if at is not None else None)
                    continue
            for slot, rest in ready:
                self._rest(slot, rest)

    def _due(self) -> dict[int, tuple[float, Callable[[int, ProcessPoolExecutor], None]]]:
        """When each idle worker's next rest is due, and which it is (under the lock)."""
        assert self._idle_trim_s is not None
        due: dict[int, tuple[float, Callable[[int, ProcessPoolExecutor], None]]] = {}
        for slot, at in enumerate(self._used_at):
            if at is not None:
                due[slot] = (at + self._idle_trim_s, self._trim)
        if self._renew_idle_s is not None:
            for slot, at in enumerate(self._trimmed_at):
                if at is not None:
                    due[slot] = (at + self._renew_idle_s, self._renew)
        return due

    def _rest(self, slot: int, rest: Callable[[int, ProcessPoolExecutor], None]) -> None:
        """Run ``rest`` (a trim or a renewal) on worker ``slot`` if it is idle and no call
        wants a worker; else try again as long on."""
        taken = self._free_workers.take_if_unwanted()
        with self._lock:
            if not taken or slot not in self._idle:
                # Idle but wanted: later (a call meanwhile cleared both times).
                if self._used_at[slot] is not None:
                    self._used_at[slot] = time.monotonic()
                elif self._trimmed_at[slot] is not None:
                    self._trimmed_at[slot] = time.monotonic()
                if taken:
                    self._free_workers.release()
                return
            self._idle.remove(slot)
            worker = self._workers[slot]
        # A worker broken or stopping meanwhile: it is replaced at its next call.
        done = (BrokenProcessPool, CancelledError, RuntimeError, TimeoutError)
        trimmed = rest == self._trim
        try:
            with contextlib.suppress(*done):
                rest(slot, worker)
        finally:
            with self._lock:
                self._idle.append(slot)
                self._used_at[slot] = None
                self._trimmed_at[slot] = time.monotonic() if trimmed else None
                self._changed.notify_all()
            self._free_workers.release()

    def _trim(self, slot: int, worker: ProcessPoolExecutor) -> None:
        """Have the idle ``worker`` end its kept threads and give its freed memory back."""
        worker.submit(rest_idle_worker).result(timeout=60)

    def _renew(self, slot: int, idle: ProcessPoolExecutor) -> None:
        """Replace the idle worker at ``slot`` by a fresh one, started (``rested_start``)
        before the old one ends: a fresh worker holds its imports and clients only, where
        a trimmed one keeps what its calls left that a trim cannot reach."""
        fresh = _process_pool(1, self._rested_start)
        try:
            fresh.submit(int).result(timeout=60)  # after its start
        except BaseException:
            fresh.shutdown(wait=False, cancel_futures=True)
            raise
        with self._lock:
            if self._closed or self._workers[slot] is not idle:
                replaced = fresh  # stopping, or replaced meanwhile: the fresh one goes
            else:
                self._workers[slot], replaced = fresh, idle
                self.renewals += 1
        replaced.shutdown(wait=True)

    def at_rest(self, within_s: float, renewed: bool = False) -> bool:
        """Wait up to ``within_s`` for every worker to have given back the memory its last
        call left (as after ``idle_trim_s`` idle), and with ``renewed`` to have been
        renewed too (after ``renew_idle_s`` more); whether they have. For benchmarks that
        measure a call's own peak."""
        deadline = time.monotonic() + within_s
        times = [self._used_at, self._trimmed_at] if renewed else [self._used_at]
        with self._lock:
            while any(at is not None for each in times for at in each):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._changed.wait(left)
        return True

    def _run(self, slot: int, fn: Any, args: tuple[Any, ...], timeout_s: float | None) -> Any:
        with self._lock:
            worker, closed = self._workers[slot], self._closed
        if closed:
            raise SandboxLost("the local system is stopping")
        try:
            future = worker.submit(fn, *args)
        except BrokenProcessPool:
            worker = self._replace(slot, worker)
            future = worker.submit(fn, *args)
        try:
            return future.result(timeout=timeout_s)
        except BrokenProcessPool as exc:
            self._replace(slot, worker)
            raise SandboxLost(str(exc)) from exc
        except TimeoutError as exc:
            for process in list((worker._processes or {}).values()):
                process.kill()
            self._replace(slot, worker)
            raise TimedOut(f"Task timed out after {timeout_s:.2f} seconds") from exc

    def worker_pids(self) -> list[int]:
        """The workers' process ids (for tests that kill one)."""
        with self._lock:
            return sorted(pid for worker in self._workers for pid in worker._processes or {})

    def _replace(self, slot: int, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """The worker to use instead of ``broken`` at ``slot``: a new one, made once."""
        with self._lock:
            if self._closed:
                raise SandboxLost("the local system is stopping")
            if self._workers[slot] is not broken:  # another call replaced it already
                return self._workers[slot]
            fresh = self._workers[slot] = _process_pool(1, self._start)
            self.replacements += 1
        broken.shutdown(wait=False, cancel_futures=True)
        return fresh

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            workers = list(self._workers)
            self._closed = True
            self._changed.notify_all()  # the trimming thread ends
        for worker in workers:
            worker.shutdown(wait=False, cancel_futures=cancel_futures)
        if wait:
            for worker in workers:
                worker.shutdown(wait=True)

    def stop(self, grace_s: float) -> None:
        """Shut down within about ``grace_s``: workers still busy (a step, or their start's
        prefault) then are killed, as a stopping machine would. Calls answer SandboxLost."""
        pids = self.worker_pids()
        waiting = threading.Thread(target=self.shutdown, kwargs={"cancel_futures": True})
        waiting.start()
        waiting.join(grace_s)
        if waiting.is_alive():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            waiting.join(grace_s)
