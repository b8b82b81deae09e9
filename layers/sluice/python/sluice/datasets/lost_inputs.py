"""Why a task or an operation could not read its input: the dataset was deleted, or
re-converted (its typed files replaced by a new run's), while it read. Said in those
words rather than as S3's "NoSuchKey" or Arrow's "Could not open Parquet input source"
with an internal path."""

from __future__ import annotations

from collections.abc import Iterable

from sluice.datasets.repository import DatasetRepository
from sluice.step_errors import StepFailure

# How a read of an object that is not there fails: boto3's error, and Arrow's S3 reads.
_MISSING = ("NoSuchKey", "NO_SUCH_KEY")


def missing_object(failure: StepFailure) -> bool:
    """Whether ``failure`` is a read of an object that is not there."""
    return failure.type in _MISSING or any(word in failure.message for word in _MISSING)


def lost_input(
    datasets: DatasetRepository,
    owner: str,
    read: Iterable[tuple[str, str | None]],
    reader: str,
) -> str | None:
    """The message for the first dataset of ``read`` (its id, and the data run the
    ``reader``, "task" or "operation", read) that is gone or re-converted since; None
    while every one is as it was read."""
    for dataset_id, run in read:
        dataset = datasets.find(owner, dataset_id)
        if dataset is None:
            return f"dataset {dataset_id} was deleted while this {reader} read it"
        if run is not None and dataset.data_run != run:
            return (
                f"dataset {dataset_id} was re-converted while this {reader} read it (its "
                f"typed files were replaced); start the {reader} again"
            )
    return None


def explained(
    failure: StepFailure,
    datasets: DatasetRepository,
    owner: str,
    read: Iterable[tuple[str, str | None]],
    reader: str,
) -> str:
    """``failure``'s message, or, where it is a read of an object that is not there and
    an input of ``read`` was deleted or re-converted meanwhile, that (:func:`lost_input`)."""
    if not missing_object(failure):
        return failure.message
    return lost_input(datasets, owner, read, reader) or failure.message


__all__ = ["explained", "lost_input", "missing_object"]
