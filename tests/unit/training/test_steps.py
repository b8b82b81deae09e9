"""sluice.training.steps and reporter: a failure in words; the record written at most
once a second, only while the job runs."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from sluice.training.models import TrainingStatus
from sluice.training.reporter import Reporter
from sluice.training.steps import CaughtError, task_failure


def test_a_failed_tasks_exit_code_and_reasons_are_the_message() -> None:
    task = {
        "Containers": [{"ExitCode": 137, "Reason": "OutOfMemoryError: Container killed"}],
        "StoppedReason": "Essential container in task exited",
    }
    message = task_failure(CaughtError(Error="States.TaskFailed", Cause=json.dumps(task)))
    assert message == (
        "the trainer exited with code 137: OutOfMemoryError: Container killed "
        "(Essential container in task exited)"
    )


def test_a_lambda_steps_failure_is_its_own_message() -> None:
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'SLUICE_TRAINER_CLUSTER'"})
    assert task_failure(CaughtError(Error="KeyError", Cause=cause)) == "'SLUICE_TRAINER_CLUSTER'"


class _Repo:
    def __init__(self, running: bool = True) -> None:
        self.writes: list[tuple[float, dict[str, Any], TrainingStatus]] = []
        self.running = running
        self.lock = threading.Lock()

    def update(self, owner: str, job_id: str, changes: Any, *, only_if_status: Any) -> Any:
        with self.lock:
            self.writes.append((time.monotonic(), changes.written(), only_if_status))
        return object() if self.running else None


def test_writes_are_throttled_to_the_newest_values() -> None:
    repo = _Repo()
    reporter = Reporter(repo, "o", "j", min_interval_s=0.2)  # type: ignore[arg-type]
    for step in range(50):
        reporter.set(progress=step / 100)
        time.sleep(0.01)
    reporter.close(progress=1.0)
    times = [at for at, _, _ in repo.writes]
    assert len(times) <= 5  # 0.5 s of updates, one write per 0.2 s, and the last
    throttled = times[:-1]  # the close writes at once
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(throttled))
    assert repo.writes[-1][1] == {"progress": 1.0}


def test_a_write_that_finds_the_job_not_running_stops_the_trainer() -> None:
    repo = _Repo(running=False)
    reporter = Reporter(repo, "o", "j", min_interval_s=0.01)  # type: ignore[arg-type]
    reporter.set(progress=0.5)
    assert reporter.stopped.wait(2)
    assert reporter.close(TrainingStatus.CANCELLED, history={"loss": [1.0]}) is False
    assert repo.writes[-1][2] is TrainingStatus.CANCELLED
