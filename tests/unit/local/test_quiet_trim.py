"""The local system's process gives freed memory back in a quiet period after work."""

from __future__ import annotations

from sluice.local.quiet_trim import QuietTrim


class _Process:
    """CPU seconds used so far, advanced by the test; trims counted."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.trims = 0

    def trim(self) -> None:
        self.trims += 1

    def quiet_trim(self) -> QuietTrim:
        return QuietTrim(period_s=5.0, cpu=lambda: self.cpu, trim=self.trim)


def test_a_quiet_period_after_work_trims_once() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    process.cpu += 3.0  # a busy period
    decisions = [quiet.check()]
    decisions += [quiet.check(), quiet.check()]  # quiet periods
    assert decisions == [False, True, False]
    assert process.trims == 1


def test_a_busy_period_does_not_trim() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    decisions = []
    for _ in range(3):
        process.cpu += 1.0
        decisions.append(quiet.check())
    assert decisions == [False, False, False]
    assert process.trims == 0


def test_quiet_periods_without_work_since_the_last_trim_do_not_trim() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    decisions = []
    for _ in range(3):
        process.cpu += 0.05  # the system's own idle ticks: under 2% of a core
        decisions.append(quiet.check())
    assert decisions == [False, False, False]


def test_work_spread_over_quiet_periods_trims_once_it_adds_up() -> None:
    process = _Process()
    quiet = process.quiet_trim()
    decisions = []
    for _ in range(6):
        process.cpu += 0.09  # just under quiet's 0.1 s a period; 0.54 s in all
        decisions.append(quiet.check())
    assert decisions == [False, False, False, False, False, True]


def test_a_started_trim_stops_at_once() -> None:
    quiet = QuietTrim(period_s=3600).start()
    quiet.stop()
    assert quiet.trims == 0


def test_settled_answers_at_the_next_check_that_leaves_no_work_untrimmed() -> None:
    import threading

    process = _Process()
    quiet = process.quiet_trim()
    process.cpu += 3.0
    answers: list[bool] = []
    waiting = threading.Thread(target=lambda: answers.append(quiet.settled(within_s=30)))
    waiting.start()
    while not answers:
        quiet.check()  # the first check is busy; the next, quiet, trims
        waiting.join(timeout=0.05)
    assert answers == [True]
    assert process.trims == 1
