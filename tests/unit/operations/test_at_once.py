"""Requests of a step (or of the API) that need not wait on one another run at once
(``together.at_once``)."""

from __future__ import annotations

import threading

import pytest
from sluice.errors import NotFound, Unprocessable
from sluice.sessions.together import at_once


def test_at_once_runs_its_calls_together_and_answers_in_their_order() -> None:
    # Each call waits for all three to have started: they pass only if they run together.
    started = threading.Barrier(3, timeout=10)

    def call(answer: str) -> str:
        started.wait()
        return answer

    answers = at_once(lambda: call("a"), lambda: call("b"), lambda: call("c"))

    assert answers == ["a", "b", "c"]


def test_at_once_raises_the_error_of_the_first_call_in_order_that_failed() -> None:
    # The second fails at once, the first only after it: the first's error still wins (a
    # missing session is 404 before its request's form is found wanting).
    second_failed = threading.Event()

    def missing() -> None:
        second_failed.wait(timeout=10)
        raise NotFound("session s not found")

    def invalid() -> None:
        second_failed.set()
        raise Unprocessable("name: no operation 'x'")

    with pytest.raises(NotFound, match="session s not found"):
        at_once(missing, invalid)
