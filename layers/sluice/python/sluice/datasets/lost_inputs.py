"""Why a task or an operation could not read its input: the dataset was deleted, or
re-converted (its typed files replaced by a new run's), while it read. Said in those
words rather than as S3's "NoSuchKey" or Arrow's "Could not open Parquet input source"
with an internal path."""

from __future__ import annotations

from collections.abc import Iterable

from sluice.datasets.repository import DatasetRepository
from sluice.step_errors import StepFailure


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
    """``failure``'s message, or, where an input of ``read`` was deleted or re-converted
    meanwhile, that (:func:`lost_input`).

    Whatever the failure says: a read of an object deleted under it fails as boto3's
    NoSuchKey, or in Arrow as NO_SUCH_KEY, RESOURCE_NOT_FOUND (a 404 it got no error code
    from) or INTERNAL_FAILURE ("Failed to flush response stream": a ranged read's buffer
    too small for S3's error document), and an input gone is the reason in each case."""
    return lost_input(datasets, owner, read, reader) or failure.message


__all__ = ["explained", "lost_input"]
