"""A typed dataset's manifest: its Parquet parts in row order, and its columns' types.

The ingest writes it last (``datasets/<owner>/<id>/<run>/manifest.json``); row reads,
downloads and tasks read it to find the parts they need. The columns' statistics are
not in it but beside it (``Workspace.columns``): a row read of a wide dataset would
otherwise parse megabytes of them.
"""

from __future__ import annotations

from pydantic import BaseModel

from sluice.inference.types import ColumnType


class Part(BaseModel):
    key: str
    first_row: int
    rows: int
    bytes: int


class ManifestColumn(BaseModel):
    """A column of the typed parts: its name and the type its values have there."""

    name: str
    effective_type: ColumnType


class Manifest(BaseModel):
    """The typed dataset: its parts in row order, and its columns."""

    run: str
    row_count: int
    columns: list[ManifestColumn]
    parts: list[Part]
