"""Reading a CSV's header and scanning one byte range of it with pyarrow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from sluice.csv.dialect import COMMA, Dialect, normalise_spaces
from sluice.csv.quoting import Transfer, transfer
from sluice.csv.ranges import (
    BOM,
    NEWLINE,
    ByteRange,
    CsvError,
    Span,
    byte_counts,
    guess_parity,
    record_starts,
    records_span,
)

HEAD_BYTES = 1024 * 1024
"""How much of the file the plan reads to find the header; a longer header is refused."""

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""The longest record a scan follows past its range's end before calling the file broken."""

SCAN_OVERFLOW = 64 * 1024
"""How far past its range's end a scan first reads, to finish the range's last record."""

RAGGED_SAMPLES = 5
CARRIAGE_RETURN = ord("\r")

ReadRange = Callable[[int, int], bytes]
"""read(start, end) -> the file's bytes [start, end)."""


@dataclass(frozen=True)
class Header:
    columns: list[str]
    data_start: int  # byte offset of the first record after the header
    newlines: int  # line breaks before data_start, for line numbers
    notes: dict[str, list[str]] = field(default_factory=dict)  # generated names: why


def read_header(head: bytes, size: int, dialect: Dialect = COMMA) -> Header:
    """The column names from the first ``HEAD_BYTES`` of a file of ``size`` bytes."""
    if size == 0:
        raise CsvError("the file is empty")
    nul = head.find(b"\x00")
    if nul != -1:
        raise CsvError(f"this is a binary file, not CSV text (a NUL byte at byte {nul})")
    offset = len(BOM) if head.startswith(BOM) else 0
    starts = record_starts(head[offset:], 0, ord(dialect.quote), ord(dialect.delimiter))
    if len(starts):
        data_start = offset + int(starts[0])
    elif len(head) >= size:
        data_start = size  # a header with no line break after it
    else:
        raise CsvError(f"line 1: the header has no line break in its first {len(head)} bytes")
    raw = head[offset:data_start]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvError(
            f"line 1: the header is not valid UTF-8 (byte {offset + exc.start})"
        ) from exc
    if not raw.strip():
        raise CsvError("line 1: the header is empty")
    try:
        # Parsed as a header, so names stay as written (no type guessing, no nulls);
        # the extra line break ends a header that had none.
        names = pcsv.read_csv(
            pa.py_buffer(bytes(_records_text(raw, dialect)) + b"\n"),
            parse_options=dialect.parse_options(),
        ).column_names
    except pa.ArrowInvalid as exc:
        raise CsvError(f"line 1: the header cannot be parsed as CSV: {exc}") from exc
    columns, notes = _named([name.strip() for name in names])
    return Header(columns=columns, data_start=data_start, newlines=raw.count(b"\n"), notes=notes)


def _named(names: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The header's names, each empty one given ``column_<position>`` (made unique against
    the names the header has), with a note on each name so given; a name the header
    writes twice is refused."""
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise CsvError(f"line 1: the column name {name!r} appears more than once")
        seen.add(name)
    columns: list[str] = []
    notes: dict[str, list[str]] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            name = base = f"column_{position}"
            suffix = 1
            while name in seen:
                suffix += 1
                name = f"{base}_{suffix}"
            seen.add(name)
            notes[name] = [f"the header had no name for column {position}; named it {name}"]
        columns.append(name)
    return columns, notes


@dataclass(frozen=True)
class RaggedRow:
    """A record with more or fewer fields than the header."""

    newlines_before: int  # line breaks between the range's start and this record
    expected: int
    actual: int
    text: str


@dataclass
class ChunkScan:
    """What a worker learned about one range: enough to reconcile ranges and count rows."""

    index: int
    start: int
    end: int
    parity: int  # the quote parity at `start` this scan assumed
    # What the range's quotes do to the state at its start (sluice.csv.quoting.Transfer):
    # ``quotes`` toggles it that many times, or, with ``quotes_reset``, sets it to
    # ``quotes`` % 2 whatever it was. The same whatever the parity assumed.
    quotes: int
    newlines: int  # line breaks in [start, end)
    first: int
    last: int
    rows: int
    ragged: int = 0
    quotes_reset: bool = False
    ragged_rows: list[RaggedRow] = field(default_factory=list)
    invalid_text: InvalidText | None = None
    table: pa.Table | None = None  # the rows as text, when the scan was asked to keep them


@dataclass(frozen=True)
class InvalidText:
    """The first bytes in a range that are not UTF-8."""

    newlines_before: int  # line breaks between the range's start and the bad byte
    byte: int  # its offset in the file


def scan_range(
    read: ReadRange,
    rng: ByteRange,
    size: int,
    columns: list[str],
    parity: int | None = None,
    overflow: int = SCAN_OVERFLOW,
    na_values: list[str] | None = None,
    dialect: Dialect = COMMA,
) -> ChunkScan:
    """Count the records that start in ``rng``; ``parity`` None means guess it.

    With ``na_values`` the scan also keeps its rows as a table of text columns (those
    texts null) in ``table``, for inference; without, it only counts. ``dialect`` says
    how records split into fields.
    """
    quote = ord(dialect.quote)
    data_start = max(rng.start - 1, 0)
    fetched_to = min(size, rng.end + overflow)
    data = read(data_start, fetched_to)
    local = rng.start - data_start
    delimiter = ord(dialect.delimiter)
    quotes, newlines = byte_counts(data, local, rng.end - data_start, quote)
    previous = data[local - 1] if local > 0 else None
    moved = Transfer()
    if quotes:
        moved = transfer(data, local, rng.end - data_start, quote, delimiter, previous)
    if parity is None:
        parity = guess_parity(
            data, rng.start, previous, local, rng.end - data_start, quote, delimiter
        )
    eof = fetched_to >= size
    span = records_span(data, data_start, rng, parity, eof, quotes, quote, delimiter)
    while span is None:
        if fetched_to - rng.end > MAX_RECORD_BYTES:
            raise CsvError(
                f"a record starting near byte {rng.start} runs on for more than "
                f"{MAX_RECORD_BYTES} bytes (an unclosed quote?)"
            )
        grow_to = min(size, fetched_to + max(overflow, fetched_to - rng.end))
        data += read(fetched_to, grow_to)
        fetched_to = grow_to
        eof = fetched_to >= size
        span = records_span(data, data_start, rng, parity, eof, quotes, quote, delimiter)
    scan = ChunkScan(
        index=rng.index,
        start=rng.start,
        end=rng.end,
        parity=parity,
        quotes=moved.parity,
        quotes_reset=moved.resets,
        newlines=newlines,
        first=span.first,
        last=span.last,
        rows=0,
    )
    if not span.empty:
        _parse_rows(data, data_start, span, columns, scan, na_values, dialect)
    return scan


def _records_text(body: bytes | memoryview, dialect: Dialect) -> bytes | memoryview:
    """The records as pyarrow reads them: a space-aligned file's runs of spaces made one
    space (pyarrow splits on single bytes)."""
    return normalise_spaces(body) if dialect.space_aligned else body


def parse_text(
    body: bytes | memoryview,
    columns: list[str],
    na_values: list[str] | None,
    on_invalid_row: Callable[[pcsv.InvalidRow], str] | None = None,
    include: list[str] | None = None,
    dialect: Dialect = COMMA,
) -> pa.Table:
    """Records as a table of text columns (those ``include`` names, if given),
    ``na_values`` null; ``na_values`` None keeps only the first column, as bytes
    (counting needs the tokenizer, not conversion)."""
    if na_values is None:
        convert = pcsv.ConvertOptions(
            include_columns=columns[:1], column_types={columns[0]: pa.binary()}
        )
    else:
        convert = pcsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            null_values=na_values,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            include_columns=include,
        )
    body = _records_text(body, dialect)
    convert.check_utf8 = not is_ascii(body)
    try:
        return pcsv.read_csv(
            pa.py_buffer(body),
            read_options=_read_options(columns),
            parse_options=dialect.parse_options(invalid_row_handler=on_invalid_row or _skip),
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            kept = columns if include is None else include
            return pa.table({name: pa.array([], pa.string()) for name in kept})
        raise


def parse_native(
    body: bytes | memoryview,
    columns: list[str],
    na_values: list[str],
    native: dict[str, pa.DataType],
    true_texts: list[str],
    false_texts: list[str],
    include: list[str] | None = None,
    dialect: Dialect = COMMA,
) -> pa.Table:
    """Records (the columns ``include`` names, if given) with the ``native`` columns
    parsed by pyarrow's own C++ converters and the rest as text. Raises
    pyarrow.ArrowInvalid when any value does not parse, so the caller can fall back to
    :func:`parse_text` and keep the failing texts as exceptions. With a decimal comma,
    pyarrow reads ``3,5`` itself; ``1.234,5`` fails, and the text path reads it."""
    body = _records_text(body, dialect)
    try:
        return pcsv.read_csv(
            pa.py_buffer(body),
            read_options=_read_options(columns),
            parse_options=dialect.parse_options(invalid_row_handler=_skip),
            convert_options=pcsv.ConvertOptions(
                decimal_point=dialect.decimal,
                column_types={name: native.get(name, pa.string()) for name in columns},
                null_values=na_values,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                true_values=true_texts,
                false_values=false_texts,
                include_columns=include,
                check_utf8=not is_ascii(body),
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            kept = columns if include is None else include
            return pa.table({name: pa.array([], native.get(name, pa.string())) for name in kept})
        raise


def is_ascii(body: bytes | memoryview) -> bool:
    """Whether every byte of ``body`` is ASCII, so valid UTF-8: pyarrow then need not
    check its texts (a quarter of its CSV read of BMAT's plays: 38 of 148 ms a 60 MiB
    chunk; this look takes 3 ms). Any other byte leaves the check on, and invalid text
    is still refused."""
    return not len(body) or int(np.frombuffer(body, dtype=np.uint8).max()) < 0x80


def _read_options(columns: list[str]) -> pcsv.ReadOptions:
    # With one core, the threaded reader only adds its hand-offs: 1.6x the CPU, no faster.
    threaded = pa.cpu_count() > 1
    block = _THREADED_BLOCK_BYTES if threaded else _SERIAL_BLOCK_BYTES
    return pcsv.ReadOptions(column_names=columns, block_size=block, use_threads=threaded)


_THREADED_BLOCK_BYTES = 16 * 1024 * 1024
_SERIAL_BLOCK_BYTES = 24 * 1024 * 1024
"""One core reads a chunk in blocks this big: the reader's buffers for a block then stay
under glibc's largest mmap threshold (32 MiB, ``sluice.heap``) and come from the heap a
worker keeps. One block for a whole 60 MiB chunk needed buffers past it, mapped afresh
and faulted in on every chunk: on the 10,000-song file's 16 chunks the read took 2.2-3.6
s of CPU (1.2-1.4 s of it system), in blocks 1.8-1.9 s, where copying each column's
three arrays into one costs inference and conversion less than the faults did."""


def _skip(row: pcsv.InvalidRow) -> str:
    return "skip"


def _parse_rows(
    data: bytes,
    data_start: int,
    span: Span,
    columns: list[str],
    scan: ChunkScan,
    na_values: list[str] | None,
    dialect: Dialect,
) -> None:
    body = memoryview(data)[span.first - data_start : span.last - data_start]
    bad: list[pcsv.InvalidRow] = []

    def keep_aside(row: pcsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    try:
        table = parse_text(body, columns, na_values, keep_aside, dialect=dialect)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc):
            raise CsvError(f"near byte {span.first}: {exc}") from exc
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError as bad_text:
            at = span.first - data_start + bad_text.start
            scan.invalid_text = InvalidText(
                newlines_before=data.count(b"\n", scan.start - data_start, at),
                byte=data_start + at,
            )
            return
        raise CsvError(f"near byte {span.first}: {exc}") from exc
    scan.table = table if na_values is not None else None
    scan.rows = table.num_rows
    scan.ragged = len(bad)
    if bad and dialect.space_aligned:
        # pyarrow saw the records with their runs of spaces made one: look for the
        # rows there (line breaks are where they were).
        before = data[: span.first - data_start]
        data = before + normalise_spaces(body)
        span = Span(span.first, span.first + len(data) - len(before))
    search_from = span.first - data_start
    for row in bad[:RAGGED_SAMPLES]:
        at = _find_record(data, row.text.encode(), search_from, span.last - data_start)
        scan.ragged_rows.append(
            RaggedRow(
                newlines_before=data.count(b"\n", scan.start - data_start, at),
                expected=row.expected_columns,
                actual=row.actual_columns,
                text=row.text[:200],
            )
        )
        search_from = at + 1


def _find_record(data: bytes, text: bytes, start: int, stop: int) -> int:
    """Where the record whose text is ``text`` begins: at a line start, ending a line.

    pyarrow does not say where an invalid row was, only its text; matching whole lines
    keeps '2,3' from being found inside an earlier '1,2,3'.
    """
    at = data.find(text, start, stop)
    while at != -1:
        at_line_start = at == start or data[at - 1] == NEWLINE
        end = at + len(text)
        at_line_end = end >= stop or data[end] in (NEWLINE, CARRIAGE_RETURN)
        if at_line_start and at_line_end:
            return at
        at = data.find(text, at + 1, stop)
    return start
