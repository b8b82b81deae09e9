"""The plumbing of an aggregation: how many buckets, which bucket a group key goes to, and
the final output files split under a size limit."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sluice.inference.string_bytes import StringBytes

BYTES_PER_BUCKET = 48 * 1024 * 1024
ROWS_PER_BUCKET = 2_000_000
MAX_BUCKETS = 256
MOST_BUCKET_ROWS = 8_000_000
"""The most rows a bucket holds at any size (``bucket_count``): past 256 buckets of it
(2.05 billion rows, ~108 GB of the BMAT CSV) the buckets grow in number, not in size. A
reducer merges at most its bucket's rows (a part's groups are at most its rows), and one of
the BMAT file's 5M groups peaked at 1.46 GiB, of 10M at 2.60 GiB
(``bench.aggregate.forecast.REDUCER_GIB``): ~2.1 GiB at 8M, 1.4x under the reducers'
3,008 MB (``sluice.catalog``). Rows, not bytes: a task reads only its columns of the
typed bytes, and a reducer's memory follows its groups."""


def bucket_count(total_rows: int, total_bytes: int, workers: int = 0) -> int:
    """R = max(ceil(typed bytes / 48 MiB), ceil(rows / 2M)), at most 256, but never fewer
    than ceil(rows / 8M) (``MOST_BUCKET_ROWS``: a reducer's memory is bounded at any
    size), at least 1 and never more than the rows, rounded up to a multiple of ``workers``
    when that is known (> 1).

    Compressed Parquet says little about how many groups there are, so rows count as much
    as bytes. Every part writes one file of all R buckets, and every reducer reads its
    slice of each with a ranged GET (``sluice.tasks.partials``): parts x R small GETs, so
    buckets of 2M rows rather than 1M halve them (the 1 GB BMAT task: 16 x 10, not 16 x
    19), for a reducer of twice the rows, and the cap of 256 keeps them down up to ~100 GB
    (a bucket of up to 8M rows), past which the bound on a bucket's rows sets R. The bytes
    are the parts' (LZ4 Parquet, about 1.5x what zstd made of them, when the rule was 32
    MiB).
    """
    rows = max(total_rows, 0)
    by_size = math.ceil(max(total_bytes, 0) / BYTES_PER_BUCKET)
    by_rows = math.ceil(rows / ROWS_PER_BUCKET)
    needed = math.ceil(rows / MOST_BUCKET_ROWS)
    most = max(MAX_BUCKETS, needed)
    buckets = max(1, min(max(by_size, by_rows, needed), most, max(rows, 1)))
    if workers > 1 and buckets > 1:
        # Past 256 the count is a floor, not a cap: rounding it up only shrinks the buckets.
        balanced = -(-buckets // workers) * workers
        if balanced <= min(MAX_BUCKETS if buckets <= MAX_BUCKETS else balanced, max(rows, 1)):
            buckets = balanced
    return buckets


# --- stable key hashing -----------------------------------------------------------------
# A group key's bucket must not depend on the part, the process or the chunking, so the
# hash is computed from the values alone: each key column gives one 64-bit word per row
# (a number's or temporal's value bits; a text's digest of its length and four 8-byte
# words: the first, a third in, two thirds in, the last), the words are folded in by
# multiply and xor-shift, and splitmix64's finaliser mixes the result once. Keys that
# differ only between those words share a hash, which costs nothing but balance: a
# bucket merges by the whole key. One mix per key, not one per word: a part's hashes
# took a third less time (0.16 against 0.25 s for 1.2M song-and-date keys).

_U64 = np.uint64
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_FOLD = _U64(0x9E3779B97F4A7C15)
_LENGTH_SEED = _U64(0xC2B2AE3D27D4EB4F)
_NULL_HASH = _U64(0x6A09E667F3BCC909)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> _U64(30))
    x = x * _MIX1
    x = x ^ (x >> _U64(27))
    x = x * _MIX2
    return x ^ (x >> _U64(31))


def _fold(into: np.ndarray, word: np.ndarray, shift: int) -> None:
    """Fold ``word`` into the running hashes ``into``, in place."""
    into ^= word
    into *= _FOLD
    into ^= into >> _U64(shift)


_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def _text_digest(array: pa.Array) -> np.ndarray:
    view = StringBytes.of(array)
    # Every byte offset read as a little-endian uint64: each 8-byte word of a value is
    # then one gather. A value shorter than 8 bytes has one word, its own bytes masked;
    # every other word read lies within the value.
    data, starts = view.data, view.starts
    shift = None
    if len(data) >= 8:
        # A short value in the buffer's last 7 bytes is read from 8 bytes before the end
        # and shifted down to its own bytes: no copy of the buffer with 8 spare bytes
        # (a part's 44 MB of titles, in fresh pages, for a handful of values).
        safe = np.minimum(starts, len(data) - 8)
        if (safe != starts).any():
            shift = ((starts - safe) * 8).astype(np.uint64)
            starts = safe
    else:
        data = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    words = np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    lengths = view.lengths
    mask = _LOW_BYTES[np.minimum(lengths, 8)]
    last = np.maximum(lengths - 8, 0)
    digest = lengths.astype(np.uint64) * _LENGTH_SEED
    # Titles share first and last words ("Careless in the ... (Instrumental)"): words a
    # third and two thirds in tell most of them apart.
    for offset in (None, last // 3, last * 2 // 3, last):
        word = words[starts if offset is None else starts + offset]
        if shift is not None:
            word >>= shift  # only the short values at the end move (their offsets are 0)
        word &= mask
        _fold(digest, word, 29)
    return digest


def numbers(values: pa.Array | pa.ChunkedArray, fill: float = 0) -> np.ndarray:
    """``values`` (of a fixed-width type) as numpy, nulls as ``fill``: without a copy when
    there are no nulls (Arrow's fill_null always writes a new array), so read-only then."""
    if values.null_count:
        values = values.fill_null(fill)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _column_words(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One 64-bit word per value, equal for equal values (null its own word)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        # The words of the dictionary's values, gathered by index: the same words as
        # the decoded values', for a fraction of the work when values repeat.
        if not len(array.dictionary):
            return np.full(len(array), _NULL_HASH, dtype=np.uint64)
        words = _column_words(array.dictionary)[numbers(array.indices)]
        if array.null_count:
            nulls = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            words[nulls] = _NULL_HASH
        return words
    kind = array.type
    if kind in (pa.string(), pa.large_string(), pa.binary(), pa.large_binary()):
        words = _text_digest(array)
    elif pa.types.is_floating(kind):
        values = numbers(array.cast(pa.float64()), 0.0) + 0.0
        values[np.isnan(values)] = np.nan  # one NaN; +0.0 made -0.0 into 0.0
        words = values.view(np.uint64)
    else:
        if pa.types.is_date(kind) or pa.types.is_time(kind):
            array = array.view(pa.int32() if kind.bit_width == 32 else pa.int64())
        elif pa.types.is_timestamp(kind) or pa.types.is_duration(kind):
            array = array.view(pa.int64())
        words = numbers(array.cast(pa.int64(), safe=False)).view(np.uint64)
    if array.null_count:
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        words = np.where(valid, words, _NULL_HASH)
    return words


def key_hash(columns: Sequence[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """A 64-bit hash of each row's key, from the key values alone (uint64)."""
    n = len(columns[0]) if columns else 0
    combined = np.zeros(n, dtype=np.uint64)
    for column in columns:
        _fold(combined, _column_words(column), 32)
    return _mix(combined)


def key_buckets(columns: Sequence[pa.Array | pa.ChunkedArray], buckets: int) -> np.ndarray:
    """The bucket (0..buckets-1) of each row's key, from the key values alone."""
    return hash_buckets(key_hash(columns), buckets)


def hash_buckets(hashed: np.ndarray, buckets: int) -> np.ndarray:
    """The bucket (0..buckets-1) of each key whose :func:`key_hash` is in ``hashed``: its
    low 32 bits scaled to [0, buckets) by a multiply and a shift (Lemire's reduction),
    a fifth of the time of a 64-bit modulo. The high 32 bits, which partials carry to
    order a bucket by, stay independent of the bucket."""
    if not 1 <= buckets <= 2**31:
        raise ValueError(f"buckets must be within [1, 2**31], not {buckets}")
    low = hashed & _U64(0xFFFFFFFF)
    low *= _U64(buckets)
    low >>= _U64(32)
    return low.astype(np.int64)


# --- output files -----------------------------------------------------------------------

FULL_ENOUGH = 0.97
"""A file at least this share of the limit is not grown further."""


def _csv_ready(table: pa.Table) -> pa.Table:
    """Datetime columns whose values are all at midnight are written as YYYY-MM-DD."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            column = table.column(index)
            dates = pc.cast(column, pa.date32(), safe=False)
            if pc.all(pc.equal(pc.cast(dates, field.type), column)).as_py() is not False:
                table = table.set_column(index, field.name, dates)
    return table


CSV_BATCH_ROWS = 65_536
"""Rows Arrow's CSV writer formats at a time: a quarter less CPU than its default of
1,024 for a reducer's 1.9M rows (0.33 against 0.42 s); larger batches gained nothing."""


def _render_csv(table: pa.Table) -> Callable[[int, int], bytes]:
    options = pa_csv.WriteOptions(batch_size=CSV_BATCH_ROWS)

    def render(start: int, count: int) -> bytes:
        sink = io.BytesIO()
        pa_csv.write_csv(table.slice(start, count), sink, write_options=options)
        return sink.getvalue()

    return render


def _render_parquet(table: pa.Table) -> Callable[[int, int], bytes]:
    def render(start: int, count: int) -> bytes:
        sink = io.BytesIO()
        # One chunk, so row groups are cut by size and not at the merge's chunk ends.
        pq.write_table(table.slice(start, count).combine_chunks(), sink)
        return sink.getvalue()

    return render


def write_outputs(
    table: pa.Table, fmt: Literal["csv", "parquet"], max_file_bytes: int
) -> list[tuple[bytes, int]]:
    """``table`` as consecutive files of at most ``max_file_bytes`` each: (bytes, rows) per
    file, rows in order. Every CSV file has the header. An empty table gives one file with
    no rows. A single row that cannot fit in a file raises ValueError.

    Rows per file are estimated from the measured average row size, then verified by
    writing; a file that is too big is shrunk, one well under the limit grown."""
    if fmt == "csv":
        render = _render_csv(_csv_ready(table))
    elif fmt == "parquet":
        render = _render_parquet(table)
    else:
        raise ValueError(f"unknown output format {fmt!r}; use csv or parquet")
    empty = render(0, 0)
    overhead = len(empty)
    if overhead > max_file_bytes:
        raise ValueError(
            f"an empty {fmt} file is already {overhead} bytes, over max_file_bytes={max_file_bytes}"
        )
    n = table.num_rows
    if n == 0:
        return [(empty, 0)]
    sample = min(n, 1000)
    per_row = max((len(render(0, sample)) - overhead) / sample, 1e-3)
    room = max_file_bytes - overhead
    files: list[tuple[bytes, int]] = []
    start = 0
    while start < n:
        remaining = n - start
        fits, fits_data, too_big = 0, b"", remaining + 1
        count = max(1, min(remaining, int(room / per_row * 0.995)))
        attempts = 0
        while True:
            data = render(start, count)
            attempts += 1
            if len(data) <= max_file_bytes:
                fits, fits_data = count, data
            else:
                too_big = count
                if count == 1:
                    raise ValueError(
                        f"row {start} alone makes a {len(data)}-byte {fmt} file, over"
                        f" max_file_bytes={max_file_bytes}"
                    )
            per_row = max((len(data) - overhead) / count, 1e-3)
            if too_big == fits + 1:
                break
            if fits and (
                fits == remaining or len(fits_data) >= FULL_ENOUGH * max_file_bytes or attempts >= 6
            ):
                break
            guess = int(room / per_row * 0.995) if attempts < 4 else (fits + too_big) // 2
            count = min(max(guess, fits + 1), too_big - 1)
        files.append((fits_data, fits))
        per_row = max((len(fits_data) - overhead) / fits, 1e-3)
        start += fits
    return files
