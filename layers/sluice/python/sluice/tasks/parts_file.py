"""A partial child's buckets files: the partials of a run of its pieces share one file,
so that the shuffle's GETs (one per file and bucket, by the reducers) grow as the files,
not as the pieces.

Every reducer makes one ranged GET per buckets file: files x R in all. At 1 TB (14,902
pieces of a 64 MiB chunk, 2,368 buckets of at most 8M rows) one file a piece made 35M
GETs ($14, four fifths of the projected cost); a file of up to ``FILE_PART_BYTES`` of a
child's pieces (4 such parts) makes a quarter of them. The file is written once its
pieces are aggregated: until then it holds their partials' compressed streams (~34 MB
for a 64 MiB chunk's part of the high-cardinality BMAT file, its groups nearly its rows),
~140 MB for 4, which the partial's 1,769 MB holds beside one part's work (peak 0.58 GiB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from sluice.tasks.partials import BucketsBuilder

FILE_PART_BYTES = 128 * 1024 * 1024
"""The most Parquet bytes of pieces whose partials one buckets file holds (a group of
pieces aggregated together, ``steps.GROUP_PART_BYTES``, is never split, so a file holds at
least one group)."""


def schema_of(buckets: Sequence[pa.Table]) -> pa.Schema | None:
    """The schema of a group's partials (every bucket's is one), or None where none has
    rows (nothing of it is written)."""
    return next((table.schema for table in buckets if table.num_rows), None)


@dataclass
class PartsFile:
    """The partials of a run of a child's pieces, bound for one buckets file."""

    builder: BucketsBuilder
    parts: list[int] = field(default_factory=list)
    bytes: int = 0
    rows: int = 0
    groups: int = 0
    schema: pa.Schema | None = None

    @classmethod
    def empty(cls, buckets: int) -> PartsFile:
        return cls(builder=BucketsBuilder(buckets))

    def takes(self, size: int, schema: pa.Schema | None) -> bool:
        """Whether a group of pieces of ``size`` bytes, whose partials have ``schema``,
        joins this file: up to ``FILE_PART_BYTES``, one schema a file (a bucket's stream
        has one)."""
        if not self.parts:
            return True
        if self.bytes + size > FILE_PART_BYTES:
            return False
        return schema is None or self.schema is None or schema.equals(self.schema)

    def add(self, parts: list[int], size: int, rows: int, buckets: Sequence[pa.Table]) -> None:
        """Add a group's partials (bucket b is ``buckets[b]``), of ``parts`` (pieces'
        indexes) of ``size`` bytes and ``rows`` rows read."""
        self.builder.add([table if table.num_rows else None for table in buckets])
        self.schema = self.schema or schema_of(buckets)
        self.parts += parts
        self.bytes += size
        self.rows += rows
        self.groups += sum(table.num_rows for table in buckets)
