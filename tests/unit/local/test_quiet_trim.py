"""The local system's process gives freed memory back once quiet for a while after work."""

from __future__ import annotations

import threading

from sluice.local.quiet_trim import QuietTrim


class _Process:
    """CPU seconds used so far, advanced by the test; trims counted."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.trims = 0

    def trim(self) -> None:
        self.trims += 1

    def quiet_trim(self) -> QuietTrim:
        # Quiet: under 0.02 s of CPU a 1 s tick; trims after 3 quiet ticks.
        return QuietTrim(quiet_s=3.0, tick_s=1.0, cpu=lambda: self.cpu, trim=self.trim)


def _ticks(process: _Process, quiet: QuietTrim, used: list[float]) -> list[bool]:
    decisions = []
    for seconds in used:
        process.cpu += seconds
        decisions.append(quiet.check())
    return decisions


def test_quiet_time_after_work_trims_once() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    decisions = _ticks(process, quiet, [2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert decisions == [False, False, False, True, False, False]
    assert process.trims == 1


def test_a_busy_tick_starts_the_quiet_time_again() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    # A request in flight (0.3 s of a tick) two ticks into the quiet: no trim under it.
    decisions = _ticks(process, quiet, [2.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0])
    assert decisions == [False, False, False, False, False, False, True]


def test_quiet_time_without_work_since_the_last_trim_does_not_trim() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    decisions = _ticks(process, quiet, [0.01] * 6)  # idle ticks: under 2% of a core
    assert decisions == [False] * 6


def test_settled_answers_at_the_next_check_that_leaves_no_work_untrimmed() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    process.cpu += 3.0
    answers: list[bool] = []
    waiting = threading.Thread(target=lambda: answers.append(quiet.settled(within_s=30)))
    waiting.start()
    while not answers:
        quiet.check()  # busy, then quiet ticks: the third quiet one trims
        waiting.join(timeout=0.05)
    assert answers == [True]
    assert process.trims == 1


def test_a_started_trim_stops_at_once() -> None:
    quiet = QuietTrim(tick_s=3600).start()
    quiet.stop()
    assert quiet.trims == 0
