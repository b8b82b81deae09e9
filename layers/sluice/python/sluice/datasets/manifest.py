"""A typed dataset's manifest: its Parquet parts in row order, and its schema.

The ingest writes it last (``datasets/<owner>/<id>/<run>/manifest.json``); row reads,
downloads and tasks read it to find the parts they need.
"""

from __future__ import annotations

from pydantic import BaseModel

from sluice.inference.schema import ColumnSchema


class Part(BaseModel):
    key: str
    first_row: int
    rows: int
    bytes: int


class Manifest(BaseModel):
    """The typed dataset: its parts in row order, and its schema."""

    run: str
    row_count: int
    columns: list[ColumnSchema]
    parts: list[Part]
