"""A dataset's columns with their statistics: kept in S3, served a page at a time.

A 10,000-column file's schema is megabytes of statistics, far past DynamoDB's 400 KB
item and a Lambda answer's 6 MB. So Decide writes each run's columns beside its typed
parts (``Workspace.columns``), one ``ColumnSchema`` as JSON per line; the record keeps
only their count and a preview of the first names (for the folder tree). A page is cut
from the lines, and only its columns are parsed; its size is known from the lines'
lengths before any is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from pydantic import BaseModel, Field

from sluice.errors import BadRequest
from sluice.inference.schema import ColumnSchema
from sluice.store import objects

SUMMARY_COLUMNS = 100
"""How many columns GET /datasets/{id} shows; /columns pages through the rest."""
PAGE_COLUMNS = 100
"""The columns of a page of /columns unless its ``limit`` says otherwise."""
MAX_PAGE_COLUMNS = 1000
"""The most columns one page of /columns holds."""
PAGE_BYTES = 2 * 1024 * 1024
"""The most JSON of columns one answer carries (a Lambda answer holds 6 MB): a page ends
before a column that would pass it, though it always holds at least one."""
PREVIEW_COLUMNS = 20
"""How many of the first columns the record keeps (name and type) for the folder tree..."""
PREVIEW_CHARS = 2000
"""... as long as their names come to no more characters than this: however wide the
file, and however long its names, the record stays small."""


class ColumnSummary(BaseModel):
    """A column's name and effective type."""

    name: str
    type: str


class ColumnPage(BaseModel):
    """Columns in the file's order, from where the token said, and where to go on."""

    columns: list[ColumnSchema]
    column_count: int = Field(description="How many columns the dataset has.")
    next_token: str | None = Field(
        None, description="Give it as next_token for the columns after these; null at the end."
    )


class Columns:
    """A dataset's columns in order, each kept as its JSON line (or as parsed) and parsed
    only when served."""

    def __init__(self, items: Sequence[bytes | ColumnSchema]) -> None:
        self._items = items

    @classmethod
    def from_jsonl(cls, body: bytes) -> Columns:
        """The columns of a ``to_jsonl`` body."""
        return cls(body.splitlines())

    def __len__(self) -> int:
        return len(self._items)

    def all(self) -> list[ColumnSchema]:
        """Every column, parsed."""
        return [_parsed(item) for item in self._items]

    def page(self, start: int, limit: int, max_bytes: int = PAGE_BYTES) -> ColumnPage:
        """Up to ``limit`` columns from ``start`` that come to at most ``max_bytes`` of
        JSON (at least one), and the token of the rest."""
        stop, size = start, 0
        while stop < len(self._items) and stop - start < limit:
            size += _size(self._items[stop])
            if size > max_bytes and stop > start:
                break
            stop += 1
        return ColumnPage(
            columns=[_parsed(item) for item in self._items[start:stop]],
            column_count=len(self._items),
            next_token=encode_token(stop) if stop < len(self._items) else None,
        )


def _parsed(item: bytes | ColumnSchema) -> ColumnSchema:
    return item if isinstance(item, ColumnSchema) else ColumnSchema.model_validate_json(item)


def _size(item: bytes | ColumnSchema) -> int:
    return len(item) if isinstance(item, bytes) else len(item.model_dump_json())


def to_jsonl(columns: Sequence[ColumnSchema]) -> bytes:
    """One column's JSON a line (JSON escapes every line break inside a string)."""
    return b"".join(column.model_dump_json().encode() + b"\n" for column in columns)


def store(bucket: str, key: str, columns: Sequence[ColumnSchema]) -> None:
    """Write ``columns`` at ``key``."""
    objects.put_bytes(bucket, key, to_jsonl(columns), "application/x-ndjson")


def load(bucket: str, key: str) -> Columns | None:
    """The columns stored at ``key``; None when there are none."""
    body = objects.find_bytes(bucket, key)
    return None if body is None else Columns.from_jsonl(body)


def preview(columns: Sequence[ColumnSchema]) -> list[ColumnSummary]:
    """The first columns' names and types, within ``PREVIEW_COLUMNS`` and ``PREVIEW_CHARS``."""
    shown: list[ColumnSummary] = []
    chars = 0
    for column in columns[:PREVIEW_COLUMNS]:
        chars += len(column.name)
        if chars > PREVIEW_CHARS:
            break
        shown.append(ColumnSummary(name=column.name, type=column.effective_type.value))
    return shown


def encode_token(start: int) -> str:
    """The token of the page that starts at column ``start``."""
    return base64.urlsafe_b64encode(json.dumps({"column": start}).encode()).decode()


def decode_token(token: str | None, count: int) -> int:
    """Where the page a token names starts (0 without one); BadRequest for a token this
    API did not issue for ``count`` columns."""
    if not token:
        return 0
    try:
        start = json.loads(base64.urlsafe_b64decode(token.encode()))["column"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError):
        start = None
    if type(start) is not int or not 0 <= start < max(count, 1):
        raise BadRequest("next_token is not a token this API issued", {"field": "next_token"})
    return start
