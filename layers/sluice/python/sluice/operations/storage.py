"""How operation steps read typed parts and write their outputs and partials in S3."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.datasets.derived import column_facts
from sluice.operations.base import WrittenPart
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem
from sluice.store.parquet_parts import read_footer
from sluice.store.parquet_parts import read_part as read_part  # the steps' reader of parts
from sluice.tasks.partials import read_bucket, read_partial, write_buckets, write_partial

FOOTER_THREADS = 16
"""Footers read at once: each is a round trip or two to S3, not work for a core."""

ROW_GROUP_ROWS = 64 * 1024
"""As the ingest's parts: a row read fetches one group of about this many rows."""


def part_footers(parts: list[tuple[str, int | None]]) -> list[pq.FileMetaData]:
    """The Parquet footers of the parts at these (key, size) (one ranged read or two each,
    in threads kept for the process: starting 16 took a loaded Plan ~40 ms; a HEAD first
    for a size not known)."""
    return objects.concurrently(lambda part: read_footer(*part), parts, FOOTER_THREADS)


def part_columns(key: str) -> list[str]:
    """The column names of a part, from its footer alone."""
    with s3_filesystem().open_input_file(f"{settings().data_bucket}/{key}") as source:
        return list(pq.read_schema(source).names)


def write_part(index: int, key: str, table: pa.Table) -> WrittenPart:
    """``table`` as a typed Parquet part of an output dataset, as the ingest writes them
    (LZ4, categories dictionary-encoded, statistics whose null counts ``finish`` reads)."""
    categories = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        row_group_size=ROW_GROUP_ROWS,
        compression="lz4",
        use_dictionary=categories,
    )
    data = sink.getvalue().to_pybytes()
    objects.put_bytes(settings().data_bucket, key, data, "application/vnd.apache.parquet")
    return WrittenPart(
        index=index, key=key, rows=table.num_rows, bytes=len(data), columns=column_facts(table)
    )


def write_arrow(key: str, table: pa.Table) -> None:
    """One table as one Arrow file (written once, read once: samples, bounds)."""
    write_partial(key, table)


def write_shuffle(key: str, tables: Sequence[pa.Table | None]) -> None:
    """A part's shuffle output, as the tasks write theirs: every bucket's rows in ONE
    object (``tables[b]`` is bucket b's; None an empty bucket, while a table of no rows
    keeps its columns), so that a part costs one PUT however many buckets there are."""
    write_buckets(key, tables)


def read_shuffle(keys: list[str], bucket: int) -> list[pa.Table]:
    """Bucket ``bucket``'s tables from the parts' shuffle objects at ``keys``, in their
    order, leaving out the parts where it is empty: per part, a ranged GET of its two
    offsets and one of its slice (``sluice.tasks.partials``)."""
    return read_bucket(keys, bucket)


def read_arrows(keys: list[str]) -> list[pa.Table]:
    """Shuffle partials, each whole in one GET, in parallel."""
    bodies = objects.get_all(settings().data_bucket, keys, threads=8)
    return [read_partial(body) for body in bodies]


def put_json(key: str, data: Any) -> None:
    objects.put_json(settings().data_bucket, key, data)


def get_jsons(keys: list[str]) -> list[Any]:
    """JSON partials, each in one GET, in parallel."""
    return [json.loads(body) for body in objects.get_all(settings().data_bucket, keys, threads=8)]


def find_jsons(keys: list[str]) -> list[Any] | None:
    """JSON partials, or None if any is gone (a run that ended removes its work folder
    while a reader of its output so far may be between listing and reading)."""
    bucket = settings().data_bucket
    bodies = objects.concurrently(lambda key: objects.find_bytes(bucket, key), keys, 8)
    if any(body is None for body in bodies):
        return None
    return [json.loads(body) for body in bodies if body is not None]
