"""FairSlots: at most so many holders, and waiters served in the order they came."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sluice.local.worker_pool import FairSlots

from tests.support import wait_for


def test_a_freed_slot_goes_to_the_longest_waiter() -> None:
    slots = FairSlots(1)
    served: list[int] = []
    slots.__enter__()  # held, so that every caller below waits
    callers = []
    for number in range(5):
        caller = threading.Thread(target=_hold_once, args=(slots, served, number))
        caller.start()
        callers.append(caller)
        # The next caller starts only once this one waits: arrival order is known.
        wait_for(_waiters(slots, number + 1), 10, "a waiter")
    slots.__exit__(None, None, None)
    for caller in callers:
        caller.join(timeout=10)
    assert served == [0, 1, 2, 3, 4]


def test_no_more_than_the_slots_are_held_at_once() -> None:
    slots = FairSlots(2)
    holding = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    def hold() -> None:
        nonlocal holding, most
        with slots:
            with lock:
                holding += 1
                most = max(most, holding)
            release.wait(10)
            with lock:
                holding -= 1

    callers = [threading.Thread(target=hold) for _ in range(6)]
    for caller in callers:
        caller.start()
    wait_for(_waiters(slots, 4), 10, "four waiters")
    release.set()
    for caller in callers:
        caller.join(timeout=10)
    assert (most, holding, slots._free) == (2, 0, 2)


def _hold_once(slots: FairSlots, served: list[int], number: int) -> None:
    with slots:
        served.append(number)


def _waiters(slots: FairSlots, count: int) -> Callable[[], bool | None]:
    return lambda: len(slots._waiting) == count or None


def test_a_slot_taken_only_if_unwanted_is_taken_when_one_is_free_and_nobody_waits() -> None:
    slots = FairSlots(2)
    assert slots.take_if_unwanted()
    assert slots._free == 1
    slots.release()
    assert slots._free == 2


def test_a_slot_taken_only_if_unwanted_is_not_taken_while_a_caller_waits() -> None:
    slots = FairSlots(1)
    slots.__enter__()  # held: the caller below waits
    caller = threading.Thread(target=_hold_once, args=(slots, [], 0))
    caller.start()
    wait_for(_waiters(slots, 1), 10, "a waiter")
    slots.release()  # handed to the waiter, not freed
    taken = slots.take_if_unwanted()
    caller.join(timeout=10)
    assert not taken
    assert slots._free == 1
