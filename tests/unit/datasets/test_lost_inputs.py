"""A task's or an operation's failed read told as what happened to its input."""

from __future__ import annotations

from typing import Any, cast

from sluice.datasets.lost_inputs import explained, lost_input, missing_object
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


def test_a_read_of_an_object_that_is_not_there_is_told_by_boto3s_type_or_arrows_words() -> None:
    assert missing_object(StepFailure("NoSuchKey", "The specified key does not exist."))
    arrow = "Could not open Parquet input source 'x': AWS Error NO_SUCH_KEY during GetObject"
    assert missing_object(StepFailure("OSError", arrow))
    assert not missing_object(StepFailure("ValueError", "group_by: no column 'x'"))


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


def test_explained_keeps_a_failure_that_is_no_missing_object_as_it_is() -> None:
    failure = StepFailure("ValueError", "no column 'x'")
    assert explained(failure, datasets(), "o", [("a", "r1")], "task") == "no column 'x'"


def test_explained_names_the_deleted_input_of_a_missing_object() -> None:
    failure = StepFailure("FileNotFoundError", "AWS Error NO_SUCH_KEY during GetObject")
    explanation = explained(failure, datasets(), "o", [("a", "r1")], "training job")
    assert explanation == "dataset a was deleted while this training job read it"


def test_explained_keeps_a_missing_object_whose_inputs_are_as_read() -> None:
    failure = StepFailure("NoSuchKey", "The specified key does not exist.")
    explanation = explained(failure, datasets(a="r1"), "o", [("a", "r1")], "task")
    assert explanation == "The specified key does not exist."
