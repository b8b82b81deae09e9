"""The gateway's watch on requests in flight (sluice.local.slow_requests)."""

from __future__ import annotations

import logging
import threading

import pytest
from sluice.local.slow_requests import SlowRequests, thread_stacks


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_request_in_flight_past_the_limit_is_reported_once() -> None:
    clock = Clock()
    watch = SlowRequests(after_s=20, clock=clock)
    with watch.watching("POST /datasets/d1/upload"):
        clock.now += 19.9
        assert watch.check() == []
        clock.now += 0.1
        assert watch.check() == ["POST /datasets/d1/upload"]
        clock.now += 30
        assert watch.check() == []


def test_an_answered_request_is_no_longer_watched() -> None:
    clock = Clock()
    watch = SlowRequests(after_s=20, clock=clock)
    with watch.watching("GET /datasets"):
        pass
    clock.now += 60
    assert watch.check() == []


def test_the_report_holds_the_stack_of_the_thread_that_waits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    watch = SlowRequests(after_s=1, clock=clock)
    entered, release = threading.Event(), threading.Event()

    def waits_on_a_lock_named_for_this_test() -> None:
        with watch.watching("GET /stuck"):
            entered.set()
            release.wait()

    thread = threading.Thread(target=waits_on_a_lock_named_for_this_test, name="stuck-request")
    thread.start()
    entered.wait()
    clock.now += 1
    with caplog.at_level(logging.WARNING, logger="sluice.local.gateway"):
        watch.check()
    release.set()
    thread.join()
    (message,) = [record.getMessage() for record in caplog.records]
    assert message.startswith("GET /stuck has been in flight for 1.0 s")
    assert "--- thread stuck-request:" in message
    assert "waits_on_a_lock_named_for_this_test" in message


def test_thread_stacks_name_the_calling_thread() -> None:
    assert f"--- thread {threading.current_thread().name}:" in thread_stacks()
