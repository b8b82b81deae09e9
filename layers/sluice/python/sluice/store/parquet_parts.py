"""Reading typed Parquet parts from the data bucket: only the column chunks (and row
groups) asked for, chunks near each other in one ranged GET, and no HEAD first where the
part's size is known. The tasks' partials, the operations' steps and the join's row-group
skipping read parts through it."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.store.arrow_fs import s3_filesystem

HOLE_BYTES = 1024 * 1024
"""Column chunks of a part this close are fetched by one ranged GET, the bytes between
them read and dropped: a request costs about what a MiB does here (the embedded S3's
~2.5 ms a request, ~2.5 ms a MiB, both sides' CPU) and less than S3's own (a first byte
in tens of ms, at ~90 MB/s: several MiB). A part's row groups are 64K rows, so its
columns' chunks are many small ranges: filter_select's 5 columns of 11 were 32 GETs a
part with Arrow's default 8 KiB."""

RANGE_BYTES = 32 * 1024 * 1024
"""The most one coalesced GET fetches (Arrow's default)."""

_SCAN_OPTIONS = ds.ParquetFragmentScanOptions(
    pre_buffer=True,
    cache_options=pa.CacheOptions(hole_size_limit=HOLE_BYTES, range_size_limit=RANGE_BYTES),
)
_FORMAT = ds.ParquetFileFormat(default_fragment_scan_options=_SCAN_OPTIONS)


def part_file(
    key: str, size: int | None = None, dictionaries: Sequence[str] = ()
) -> ds.ParquetFileFragment:
    """The part at ``key`` in the data bucket, nothing read yet; its ``size`` (the whole
    file's), when known, spares the HEAD that asks it. The columns ``dictionaries`` are
    read as Arrow dictionaries (each row group's own), not decoded into values."""
    path = f"{settings().data_bucket}/{key}"
    form = _FORMAT
    if dictionaries:
        form = ds.ParquetFileFormat(
            read_options=ds.ParquetReadOptions(dictionary_columns=set(dictionaries)),
            default_fragment_scan_options=_SCAN_OPTIONS,
        )
    return form.make_fragment(path, filesystem=s3_filesystem(), file_size=size)


def read_part(
    key: str,
    columns: list[str] | None = None,
    size: int | None = None,
    row_groups: Sequence[int] | None = None,
    dictionaries: Sequence[str] = (),
) -> pa.Table:
    """A typed part's ``columns`` (all when None) of its ``row_groups`` (all when None),
    fetched by ranged reads of their column chunks, all at once; ``dictionaries`` as
    :func:`part_file`'s."""
    part = part_file(key, size, dictionaries)
    if row_groups is not None:
        part = part.subset(row_group_ids=list(row_groups))
    return part.to_table(columns=columns)


def read_footer(key: str, size: int | None = None) -> pq.FileMetaData:
    """A part's Parquet footer (one ranged read or two)."""
    part = part_file(key, size)
    part.ensure_complete_metadata()
    metadata: pq.FileMetaData = part.metadata
    return metadata
