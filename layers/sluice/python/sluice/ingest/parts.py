"""Typed Parquet parts: writing one with a note of what it was made from, reading that
note back, and naming the column plan it was written with."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, field_serializer

from sluice.config import settings
from sluice.csv.dialect import Dialect
from sluice.datasets.workspace import Workspace
from sluice.ingest.models import ColumnPlan, Converted, DatasetRef
from sluice.store import objects

ROW_GROUP_ROWS = 64 * 1024
"""Row reads seek to a row group: small enough to read a slice cheaply, big enough to compress."""


ORIGIN_KEY = b"sluice.origin"
"""The Parquet key-value metadata entry that holds a part's :class:`PartOrigin`."""
ARROW_SCHEMA_KEY = b"ARROW:schema"
"""Where a Parquet file keeps the Arrow schema it was written from (Arrow's own key)."""


class PartOrigin(BaseModel):
    """What a part was made from: the records of bytes [first, last) of an upload, read
    with these NA texts and dialect and converted with these column plans. A later
    conversion of the same records needs the texts of only the columns whose plan changed."""

    object_key: str
    first: int
    last: int
    na_values: list[str]
    columns: list[ColumnPlan]
    dialect: Dialect = Field(default_factory=Dialect)

    @field_serializer("dialect")
    def _records_dialect(self, dialect: Dialect) -> dict[str, Any]:
        # How the dialect was found (detected or declared) does not change the records.
        return dialect.model_dump(exclude={"detected"})

    def same_records(self, other: PartOrigin) -> bool:
        """Whether ``other`` reads the same records as this, the same way."""
        return self.model_dump(exclude={"columns"}) == other.model_dump(exclude={"columns"})


DICTIONARY_SHARE = 0.25
"""A column whose first row group holds at most this share of distinct values is written
with dictionary pages (see :func:`dictionary_columns`)."""
DICTIONARY_PAGE_BYTES = 1024 * 1024
"""The writer's dictionary page limit (pyarrow's default, stated): past it a column chunk
goes on as plain values, the hashing spent."""
_DICTIONARY_MIN_ROWS = 4096
"""Fewer rows than this are written plain (a wide file's small parts: thousands of
columns, a look at each would cost more than their dictionaries save)."""


def dictionary_columns(table: pa.Table) -> list[str]:
    """The columns to write with dictionary pages: every category, and each text, number
    or time column whose first row group holds few distinct values (at most
    ``DICTIONARY_SHARE`` of its rows, in at most ``DICTIONARY_PAGE_BYTES``).

    On BMAT's 10,000-song plays a 60 MiB chunk's part is 11.9 MB with the songs'
    dictionaries, not 25.1, written in 0.11 s, not 0.17, and read back (as texts: the
    Arrow type stays the column's) in less time too; its dates and play counts take
    it to 9.0 MB. A column of texts that are nearly all distinct (the high-cardinality
    file's 1.2M titles a part) stays plain: there a dictionary only costs.
    """
    chosen = []
    sample_rows = min(table.num_rows, ROW_GROUP_ROWS)
    for field in table.schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            chosen.append(field.name)
            continue
        if sample_rows < _DICTIONARY_MIN_ROWS or not _may_use_dictionary(kind):
            continue
        distinct = pc.unique(table.column(field.name).slice(0, sample_rows))
        if len(distinct) <= DICTIONARY_SHARE * sample_rows and (
            distinct.nbytes <= DICTIONARY_PAGE_BYTES
        ):
            chosen.append(field.name)
    return chosen


def _may_use_dictionary(kind: pa.DataType) -> bool:
    # Parquet keeps booleans as bits, never in a dictionary; nested columns (the
    # exceptions' map) stay as they are.
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_temporal(kind)
    )


def parquet_bytes(
    table: pa.Table,
    origin: PartOrigin | None = None,
    encoded: Mapping[str, pa.DictionaryArray] | None = None,
) -> bytes:
    """``table`` as one Parquet file in row groups of ``ROW_GROUP_ROWS``; ``encoded``:
    columns already in hand as dictionaries of their values (see :func:`_write_encoded`).

    Only columns of few distinct values are dictionary-encoded
    (:func:`dictionary_columns`): trying a dictionary on every column doubles the time to
    write and, for columns of many distinct values, saves nothing.
    LZ4 against zstd at level 1, on a 60 MiB chunk of the ingest bench's file: 0.13 s to
    write, not 0.19, and 0.05 s to read, not 0.09, for a part a third bigger (29 MB, not
    21). Every part is written once and read by every task and row read, on the CPU they
    share with S3, so LZ4. Text columns carry no min/max statistics: nothing prunes row
    groups by text, and computing them is a tenth of the write.
    """
    bounded = [
        field.name
        for field in table.schema
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
    ]
    dictionaries = dictionary_columns(table)
    if origin is not None:
        table = table.replace_schema_metadata({ORIGIN_KEY: origin.model_dump_json().encode()})
    options: dict[str, Any] = {
        "compression": "lz4",
        "use_dictionary": dictionaries,
        "dictionary_pagesize_limit": DICTIONARY_PAGE_BYTES,
        "write_statistics": bounded,
    }
    sink = pa.BufferOutputStream()
    given = {
        name: array
        for name, array in (encoded or {}).items()
        if name in dictionaries and _every_group_holds_most(array)
    }
    if given:
        _write_encoded(sink, table, given, options)
    else:
        pq.write_table(table, sink, row_group_size=ROW_GROUP_ROWS, **options)
    return sink.getvalue().to_pybytes()


HANDED_SHARE = 0.8
"""A dictionary in hand is handed to the writer when the first row group holds at least
this share of its values (see :func:`_every_group_holds_most`)."""


def _every_group_holds_most(array: pa.DictionaryArray) -> bool:
    """Whether writing ``array`` as the dictionary it is costs no more bytes than the
    writer's own dictionaries: given one, the writer puts all of its values in every row
    group's dictionary page, where its own holds only the values of that row group. So
    only a dictionary of at most a page (``DICTIONARY_PAGE_BYTES``) whose values the
    first row group nearly all holds (most rows' groups then do too: the 10,000-song
    file's hold 9,985 of a chunk's 10,000 titles) is handed over; a chunk whose first
    rows repeat a few texts and whose later rows differ would have its many texts
    written in every row group (7x the bytes, in a test)."""
    values = len(array.dictionary)
    if not values or array.dictionary.nbytes > DICTIONARY_PAGE_BYTES:
        return False
    first = pc.count_distinct(array.indices.slice(0, ROW_GROUP_ROWS)).as_py()
    return bool(first >= HANDED_SHARE * values)


def _write_encoded(
    sink: pa.BufferOutputStream,
    table: pa.Table,
    encoded: Mapping[str, pa.DictionaryArray],
    options: dict[str, Any],
) -> None:
    """Write ``table`` with the columns ``encoded`` handed to the writer as the
    dictionaries they are (each equal to its column once decoded), and the file's Arrow
    schema ``table``'s own, so a reader gets the same columns, types and metadata.

    The writer builds a dictionary page by hashing every value; given a dictionary it
    writes its indices as they are. A scan dictionary-encodes a column of few distinct
    texts anyway, to parse each text once (``inference.column_parse.few_distinct``): on
    the 10,000-song file its part's titles then cost 0.09 s to write, not 0.12-0.15.
    Written from the dictionary type, the file's stored Arrow schema would say
    dictionary, so that schema is left out and ``table``'s own put in its place (the
    same bytes the writer stores: the schema's IPC form in base64)."""
    written = table.replace_schema_metadata(None)
    for name, array in encoded.items():
        written = written.set_column(written.schema.get_field_index(name), name, array)
    metadata = dict(table.schema.metadata or {})
    metadata[ARROW_SCHEMA_KEY] = base64.b64encode(table.schema.serialize().to_pybytes())
    with pq.ParquetWriter(sink, written.schema, store_schema=False, **options) as writer:
        writer.write_table(written, row_group_size=ROW_GROUP_ROWS)
        writer.add_key_value_metadata(metadata)


def store_part(
    ref: DatasetRef,
    index: int,
    typed: pa.Table,
    exceptions: int,
    origin: PartOrigin,
    encoded: Mapping[str, pa.DictionaryArray] | None = None,
) -> Converted:
    """Write chunk ``index``'s typed rows as its run's part (overwriting a retry's);
    ``encoded`` as :func:`parquet_bytes`'s."""
    data = parquet_bytes(typed, origin, encoded)
    key = Workspace(ref.owner, ref.id, ref.run).part(index)
    objects.put_bytes(settings().data_bucket, key, data, "application/vnd.apache.parquet")
    return Converted(
        index=index, rows=typed.num_rows, exceptions=exceptions, key=key, bytes=len(data)
    )


def load_part(key: str) -> tuple[pq.ParquetFile, PartOrigin] | None:
    """A stored part and what it was made from; None when there is no such part or it
    holds no note of its origin (written before parts had one)."""
    # One GET of the whole part: its note is in the footer, and a re-conversion reads
    # most of its columns anyway (ranged reads would be a footer request, then others).
    data = objects.find_bytes(settings().data_bucket, key)
    if data is None:
        return None
    part = pq.ParquetFile(pa.BufferReader(data))
    note = (part.schema_arrow.metadata or {}).get(ORIGIN_KEY)
    if note is None:
        return None
    return part, PartOrigin.model_validate_json(note)


def plan_digest(plans: Sequence[ColumnPlan]) -> str:
    """A short name for a column plan: two parts written with equal digests are typed alike."""
    text = json.dumps([p.model_dump(mode="json") for p in plans], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
