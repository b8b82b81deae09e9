"""Where an upload is prepared: a compressed one past a Lambda's 15 minutes goes to the
preparer's Fargate task, and a task that stopped without a word is described."""

from __future__ import annotations

import json

import pytest
from sluice.config import Settings
from sluice.ingest.prepare_step import GB, _lambda_budget, task_ended


def settings(**env: str) -> Settings:
    return Settings.model_validate(
        {"SLUICE_TABLE": "t", "SLUICE_UPLOAD_BUCKET": "u", "SLUICE_DATA_BUCKET": "d", **env}
    )


@pytest.mark.parametrize(
    ("compression", "budget"),
    [("gzip", 20 * GB), ("zstd", 20 * GB), ("zip", 20 * GB), ("bz2", 2 * GB)],
)
def test_a_compressed_upload_has_a_lambdas_budget_by_its_kind(
    compression: str, budget: int
) -> None:
    assert _lambda_budget(settings(), compression) == budget  # type: ignore[arg-type]


def test_a_plain_or_transcoded_upload_is_always_prepared_by_the_step() -> None:
    assert _lambda_budget(settings(SLUICE_PREPARE_TASK_BYTES="100"), None) == float("inf")


def test_one_setting_holds_every_compressed_kind_to_one_budget() -> None:
    assert _lambda_budget(settings(SLUICE_PREPARE_TASK_BYTES="100"), "bz2") == 100


def test_a_task_killed_for_memory_is_told_by_its_exit_code_and_stop_reason() -> None:
    cause = {
        "Containers": [{"ExitCode": 137, "Reason": "OutOfMemoryError"}],
        "StoppedReason": "Essential container in task exited",
    }
    assert task_ended("States.TaskFailed", json.dumps(cause)) == (
        "the preparer exited with code 137: OutOfMemoryError (Essential container in task exited)"
    )


def test_a_failure_that_is_no_task_is_told_by_its_cause() -> None:
    assert task_ended("States.Timeout", "the task ran past its heartbeat") == (
        "the task ran past its heartbeat"
    )
