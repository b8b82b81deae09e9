"""A partial child's buckets files: the partials of a run of its pieces share one file,
so that the shuffle's GETs (one per file and bucket, by the reducers) grow as the files,
not as the pieces.

Every reducer makes one ranged GET per buckets file: files x R in all. At 1 TB (14,902
pieces of a 64 MiB chunk, 2,368 buckets of at most 8M rows) one file a piece made 35M
GETs ($14, four fifths of the projected cost); a file of up to ``FILE_PART_BYTES`` of a
child's pieces (4 such parts) makes a quarter of them. The file is written once its
pieces are aggregated: until then it holds their partials' compressed streams (~33 MB
for a 64 MiB chunk's part of the high-cardinality BMAT file, its groups nearly its
rows). Peak resident memory, measured locally (a fresh process, the Lambdas' heap
settings, one Arrow thread, the BMAT file's parts of 24.4 MiB): 4 parts into one file
0.96 GiB at 256 buckets and 1.01 GiB at 2,368 (into a file each, 0.82 and 0.84 GiB), 5
parts (the most that fit 128 MiB) 1.16 GiB, 8 parts 1.34 GiB: 1.5-1.8x under the
partial's 1,769 MB at 128 MiB, not at 256.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from sluice.tasks.partials import BucketsBuilder

FILE_PART_BYTES = 128 * 1024 * 1024
"""The most Parquet bytes of pieces whose partials one buckets file holds (a group of
pieces aggregated together, ``steps_partial.GROUP_PART_BYTES``, is never split, so a file
holds at least one group)."""


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
