"""A large, messy CSV whose right column types are known.

Rows are built a block at a time with numpy (random values) and Arrow compute (the
text of every cell, joined into lines), and each block's bytes are written straight
from the Arrow buffer: no Python loop per row.

    python -m bench.ingest.generate --bytes 1e9 --out /tmp/messy.csv [--seed 7]
    python -m bench.ingest.generate --bytes 1e9 --out /tmp/messy-semicolon.csv --dialect semicolon

``--dialect semicolon`` writes the same rows as a European spreadsheet exports them:
``;`` between fields and a decimal comma in price, measure and late_float (``123,45``);
the comment, quoted as ever, holds a ``;`` of its own (``"Order 10000000000; ok"``).
Its right types are the same.

The columns and the type sluice should infer for each (see ``EXPECTED_TYPES``):

============  =========  ==============================================================
column        type       what makes it messy
============  =========  ==============================================================
id            int64      ids beyond int32
quantity      int16      integers 0..30000 with "NA", "null" and empty cells
price         float64    decimals with more digits than float32 holds, with NA cells
measure       float64    signed decimals, no NAs
active        bool       yes / no in mixed case (yes, Yes, YES, no, No, NO)
order_date    datetime   D/M/Y dates, days up to 28 (so not M/D/Y)
mixed_date    datetime   ISO (Y-M-D) and D/M/Y mixed in one column
late_float    float64    integers for the first 1,000,000 rows, decimals after
late_text     string     integers for the first 1,000,000 rows, codes like "K-1234" after
region        category   12 region names
comment       string     quoted text with commas, doubled quotes and embedded newlines
============  =========  ==============================================================
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SWITCH_ROW = 1_000_000
"""late_float and late_text change from integers to decimals / text at this row."""

BLOCK_ROWS = 100_000
"""Rows built per block: small blocks reuse memory and run faster than large ones."""

EXPECTED_TYPES: dict[str, str] = {
    "id": "int64",
    "quantity": "int16",
    "price": "float64",
    "measure": "float64",
    "active": "bool",
    "order_date": "datetime",
    "mixed_date": "datetime",
    "late_float": "float64",
    "late_text": "string",
    "region": "category",
    "comment": "string",
}
"""The sluice type each column should get: the narrowest type that holds every value."""

NA_TEXTS = ("NA", "null", "")
NA_FRACTION = 0.02
BOOL_TEXTS = ("yes", "Yes", "YES", "no", "No", "NO")
REGIONS = (
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Northeast",
    "Northwest",
    "Southeast",
    "Southwest",
    "Islands",
    "Highlands",
    "Coast",
)
PHRASES = (
    "ok",
    "late, but complete",
    'said ""fine""',
    "two lines\nof text",
    "call back, maybe",
    "see attached\nline two, with comma",
    "n/a for now",
    "priority: high",
)
_PHRASE_ENDS = tuple(f', {phrase}"\n' for phrase in PHRASES)
_SEMICOLON_PHRASE_ENDS = tuple(f'; {phrase}"\n' for phrase in PHRASES)
DIALECTS: dict[str, tuple[str, str]] = {"comma": (",", "."), "semicolon": (";", ",")}
"""Each dialect's field delimiter and decimal mark."""
_EPOCH_DAY_2000 = 10_957  # 2000-01-01 as days since 1970-01-01
_DAYS = 25 * 365


def _texts(values: tuple[str, ...], picks: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(picks))


def _with_nas(text: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Replace about NA_FRACTION of the cells with one of the NA texts."""
    n = len(text)
    missing = rng.random(n) < NA_FRACTION
    na = _texts(NA_TEXTS, rng.integers(0, len(NA_TEXTS), n))
    return pc.if_else(pa.array(missing), na, text)


_DATE_TEXTS: dict[str, pa.Array] = {}


def _dates(offsets: np.ndarray, fmt: str) -> pa.Array:
    """Dates ``offsets`` days after 2000-01-01 as text: a lookup in the range's few thousand."""
    table = _DATE_TEXTS.get(fmt)
    if table is None:
        days = np.arange(_EPOCH_DAY_2000, _EPOCH_DAY_2000 + _DAYS).astype("datetime64[D]")
        table = pc.strftime(pa.array(days.astype("datetime64[s]")), format=fmt)
        _DATE_TEXTS[fmt] = table
    return table.take(pa.array(offsets))


def _decimal_text(values: np.ndarray, decimal: str) -> pa.Array:
    """Floats as text (Arrow's shortest round-trip form) with the decimal mark ``decimal``."""
    text = pc.cast(pa.array(values), pa.string())
    return text if decimal == "." else pc.replace_substring(text, ".", decimal)


def _block(first_row: int, rows: int, rng: np.random.Generator, dialect: str = "comma") -> pa.Array:
    """``rows`` CSV lines (each ending in a newline) starting at row ``first_row``.

    The random draws are the same in every dialect, so every dialect holds the same values.
    """
    delimiter, decimal = DIALECTS[dialect]
    index = np.arange(first_row, first_row + rows, dtype=np.int64)
    late = index >= SWITCH_ROW

    ids = pc.cast(pa.array(10_000_000_000 + index), pa.string())
    quantity = _with_nas(pc.cast(pa.array(rng.integers(0, 30_001, rows)), pa.string()), rng)
    price_values = np.round(rng.lognormal(4.0, 1.2, rows) + 1.0, 6)
    price = _with_nas(_decimal_text(price_values, decimal), rng)
    measure = _decimal_text(np.round(rng.normal(0.0, 1000.0, rows), 9), decimal)
    active = _texts(BOOL_TEXTS, rng.integers(0, len(BOOL_TEXTS), rows))

    days = rng.integers(0, _DAYS, rows)
    order_date = _dates(days, "%d/%m/%Y")
    other_days = rng.integers(0, _DAYS, rows)
    iso = rng.random(rows) < 0.5
    mixed_date = pc.if_else(
        pa.array(iso), _dates(other_days, "%Y-%m-%d"), _dates(other_days, "%d/%m/%Y")
    )

    whole = rng.integers(0, 1_000_000, rows)
    late_float = pc.if_else(
        pa.array(late),
        _decimal_text(np.round(whole + rng.random(rows), 4), decimal),
        pc.cast(pa.array(whole), pa.string()),
    )
    codes = pc.binary_join_element_wise(
        _texts(tuple("ABCDEFGHJK"), rng.integers(0, 10, rows)),
        pc.cast(pa.array(rng.integers(0, 10_000, rows)), pa.string()),
        "-",
    )
    late_text = pc.if_else(
        pa.array(late & (rng.random(rows) < 0.5)),
        codes,
        pc.cast(pa.array(rng.integers(0, 100_000, rows)), pa.string()),
    )
    region = _texts(REGIONS, rng.integers(0, len(REGIONS), rows))
    # The last cell ends its line: '"Order <id>, <phrase>"' and a newline ('; ' after the
    # id in the semicolon dialect: a quoted delimiter there too).
    phrase_ends = _PHRASE_ENDS if delimiter == "," else _SEMICOLON_PHRASE_ENDS
    comment = pc.binary_join_element_wise(
        _texts(('"Order ',), np.zeros(rows, dtype=np.int32)),
        ids,
        _texts(phrase_ends, rng.integers(0, len(phrase_ends), rows)),
        "",
    )
    cells = [
        ids,
        quantity,
        price,
        measure,
        active,
        order_date,
        mixed_date,
        late_float,
        late_text,
        region,
        comment,
    ]
    return pc.binary_join_element_wise(*cells, delimiter)


def _buffer_bytes(lines: pa.Array) -> memoryview:
    """The concatenated text of a string array, straight from its value buffer."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start = int(offsets[lines.offset])
    end = int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[start:end]


def write_messy_csv(
    path: str | Path, target_bytes: int, seed: int = 7, dialect: str = "comma"
) -> dict[str, str]:
    """Write about ``target_bytes`` of messy CSV to ``path``; the expected type per column.

    ``dialect`` "semicolon": ``;``-separated with decimal commas (see the module's doc).

    The file holds whole rows only, so it ends at the first row boundary at or past
    ``target_bytes`` (a few hundred bytes over at most). The same seed and size give
    the same file. A file of at most ``SWITCH_ROW`` rows (under ~140 MB) never reaches
    the late changes, so its late_float and late_text are int32.
    """
    target_bytes = int(target_bytes)
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    header = (DIALECTS[dialect][0].join(EXPECTED_TYPES) + "\n").encode()
    written = 0
    with open(path, "wb") as out:
        out.write(header)
        written += len(header)
        row = 0
        block_number = 0
        while written < target_bytes:
            rng = np.random.default_rng([seed, block_number])
            lines = _block(row, BLOCK_ROWS, rng, dialect)
            data = _buffer_bytes(lines)
            if written + len(data) > target_bytes:
                # Keep just enough whole rows to reach the target.
                ends = np.cumsum(pc.binary_length(lines).to_numpy(zero_copy_only=False))
                keep = int(np.searchsorted(ends, target_bytes - written)) + 1
                lines = lines.slice(0, keep)
                data = _buffer_bytes(lines)
                rows = keep
            else:
                rows = len(lines)
            out.write(data)
            written += len(data)
            row += rows
            block_number += 1
    types = dict(EXPECTED_TYPES)
    if row <= SWITCH_ROW:  # too small a file for the late changes: still integers
        types["late_float"] = types["late_text"] = "int32"
    return types


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=float, default=1e9, help="about how many bytes (1e9)")
    parser.add_argument("--out", required=True, help="the CSV file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dialect", choices=tuple(DIALECTS), default="comma")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    types = write_messy_csv(args.out, int(args.bytes), args.seed, args.dialect)
    seconds = time.perf_counter() - started
    size = Path(args.out).stat().st_size
    print(
        f"wrote {size:,} bytes to {args.out} in {seconds:.1f} s ({size / seconds / 1e6:.0f} MB/s)",
        file=sys.stderr,
    )
    for name, kind in types.items():
        print(f"{name}\t{kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
