"""objects.concurrently: a step's many small requests, on threads kept for the process."""

from __future__ import annotations

import os
import select
import signal
import threading
import time

from sluice.store import objects


def test_concurrently_answers_in_the_order_of_the_items() -> None:
    def slow_square(n: int) -> int:
        time.sleep(0.001 * (10 - n))  # later items finish first
        return n * n

    assert objects.concurrently(slow_square, range(10), 4) == [n * n for n in range(10)]


def test_concurrently_reuses_its_threads_from_call_to_call() -> None:
    def thread_of(_: int) -> threading.Thread:
        time.sleep(0.002)
        return threading.current_thread()

    # The thread objects themselves (held here), not their idents, which the OS reuses.
    first = set(objects.concurrently(thread_of, range(20), 3))
    second = set(objects.concurrently(thread_of, range(20), 3))
    assert len(first) <= 3
    assert second <= first


def test_a_forked_child_starts_threads_of_its_own() -> None:
    def thread_of(_: int) -> int:
        time.sleep(0.01)
        return threading.get_ident()

    # The parent's pool of 2 has both its threads, idle: the child inherits none of them.
    assert len(set(objects.concurrently(thread_of, range(4), 2))) == 2
    time.sleep(0.05)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            ok = objects.concurrently(abs, [-1, -2, -3], 2) == [1, 2, 3]
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answered, _, _ = select.select([read], [], [], 20)  # a child stuck on dead threads
    if not answered:
        os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert answered and os.read(read, 1) == b"1"
