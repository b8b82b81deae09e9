"""A task's or an operation's failed read told as what happened to its input."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sluice.datasets.lost_inputs import explained, lost_input
from sluice.datasets.repository import DatasetRepository
from sluice.step_errors import StepFailure


class Records:
    """Datasets by id, as ``DatasetRepository.find`` answers (None: not there)."""

    def __init__(self, runs: dict[str, str]) -> None:
        self.runs = runs

    def find(self, owner: str, dataset_id: str) -> Any:
        run = self.runs.get(dataset_id)
        return None if run is None else type("Found", (), {"data_run": run})()


def datasets(**runs: str) -> DatasetRepository:
    return cast(DatasetRepository, Records(runs))


def test_a_deleted_input_is_named() -> None:
    message = lost_input(datasets(a="r1"), "o", [("a", "r1"), ("b", "r1")], "operation")
    assert message == "dataset b was deleted while this operation read it"


def test_a_reconverted_input_is_named_and_the_reader_told_to_start_again() -> None:
    message = lost_input(datasets(a="r2"), "o", [("a", "r1")], "task")
    assert message == (
        "dataset a was re-converted while this task read it (its typed files were "
        "replaced); start the task again"
    )


def test_inputs_as_they_were_read_explain_nothing() -> None:
    assert lost_input(datasets(a="r1", b="r9"), "o", [("a", "r1"), ("b", None)], "task") is None


def test_explained_keeps_a_failure_whose_inputs_are_as_read() -> None:
    failure = StepFailure("ValueError", "no column 'x'")
    assert explained(failure, datasets(a="r1"), "o", [("a", "r1")], "task") == "no column 'x'"


@pytest.mark.parametrize(
    "failure",
    [
        StepFailure("NoSuchKey", "The specified key does not exist."),
        StepFailure("FileNotFoundError", "AWS Error NO_SUCH_KEY during GetObject"),
        # Each of Arrow's ways to fail a read of an object deleted under it.
        StepFailure(
            "OSError",
            "Could not open Parquet input source 'sluice-data/datasets/o/a/parts/"
            "part-000000.parquet': AWS Error RESOURCE_NOT_FOUND during GetObject operation: ",
        ),
        StepFailure(
            "OSError",
            "AWS Error INTERNAL_FAILURE during GetObject operation: Failed to flush response "
            "stream (eof: 0, bad: 1)",
        ),
    ],
)
def test_explained_names_the_deleted_input_whatever_the_read_said(failure: StepFailure) -> None:
    explanation = explained(failure, datasets(), "o", [("a", "r1")], "training job")
    assert explanation == "dataset a was deleted while this training job read it"
