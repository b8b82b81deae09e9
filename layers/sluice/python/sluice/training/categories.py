"""The values of a dataset's category columns, as the ingest found them over the whole
file: a category input is one-hot over them (in this order), so its width is their count."""

from __future__ import annotations

from collections.abc import Iterable

from sluice.config import settings
from sluice.datasets import columns as stored_columns
from sluice.datasets.workspace import Workspace
from sluice.inference.types import ColumnType


def category_values(
    owner: str, dataset_id: str, data_run: str, names: Iterable[str]
) -> dict[str, list[str] | None]:
    """For each of ``names`` that is a category column: its values (None if the ingest kept
    none); other columns are left out."""
    wanted = set(names)
    found = stored_columns.load(
        settings().data_bucket, Workspace(owner, dataset_id, data_run).columns
    )
    if found is None:
        return {}
    return {
        column.name: column.categories
        for column in found.all()
        if column.name in wanted and column.effective_type is ColumnType.CATEGORY
    }
