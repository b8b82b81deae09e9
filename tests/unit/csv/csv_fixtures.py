"""Helpers for the CSV range tests: run the ingest's plan -> scan -> reconcile -> rescan
sequence over bytes held in memory, and build messy CSV text to run it on."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from sluice.csv.ranges import BOM, ByteRange, plan_ranges
from sluice.csv.scan import HEAD_BYTES, ChunkScan, Header, ReadRange, read_header, scan_range
from sluice.ingest.models import ChunkItem, ChunkResult, ObjectRef, Plan
from sluice.ingest.scan_steps import reconcile


def reader_of(data: bytes) -> ReadRange:
    """read(start, end) over bytes in memory, as the workers read the object from S3."""

    def read(start: int, end: int) -> bytes:
        return data[start:end]

    return read


@dataclass
class RangeScan:
    """Everything one pass of plan -> scan -> reconcile -> rescan produced."""

    header: Header
    ranges: list[ByteRange]
    guessed: list[ChunkScan]  # the first scan of every range (range 0 told parity 0)
    redo: list[ChunkItem]  # the ranges reconcile sent back, with their true parity
    final: list[ChunkScan]  # guessed, with the rescans in place of the wrong guesses

    @property
    def rows(self) -> int:
        return sum(scan.rows for scan in self.final)

    def plan(self, size: int) -> Plan:
        """The Plan the ingest state machine would carry for this file."""
        return Plan(
            object=ObjectRef(bucket="bucket", key="key", size=size),
            column_count=len(self.header.columns),
            data_start=self.header.data_start,
            header_newlines=self.header.newlines,
            na_values=[],
            max_categories=100,
            chunks=[
                ChunkItem(
                    index=r.index, start=r.start, end=r.end, parity=0 if r.index == 0 else None
                )
                for r in self.ranges
            ],
        )

    def results(self) -> list[ChunkResult]:
        return [to_result(scan) for scan in self.final]


def to_result(scan: ChunkScan) -> ChunkResult:
    return ChunkResult.model_validate(scan, from_attributes=True)


def scan_by_ranges(data: bytes, chunk_bytes: int, overflow: int | None = None) -> RangeScan:
    """Scan ``data`` the way the ingest does, with ranges of ``chunk_bytes``."""
    size = len(data)
    read = reader_of(data)
    header = read_header(read(0, min(size, HEAD_BYTES)), size)
    ranges = plan_ranges(header.data_start, size, chunk_bytes)
    extra = {} if overflow is None else {"overflow": overflow}

    def scan(rng: ByteRange, parity: int | None) -> ChunkScan:
        return scan_range(read, rng, size, header.columns, parity, **extra)

    guessed = [scan(rng, 0 if rng.index == 0 else None) for rng in ranges]
    redo = reconcile([to_result(s) for s in guessed]).redo
    final = list(guessed)
    for item in redo:
        final[item.index] = scan(ByteRange(item.index, item.start, item.end), item.parity)
    return RangeScan(header=header, ranges=ranges, guessed=guessed, redo=redo, final=final)


def count_by_ranges(data: bytes, chunk_bytes: int) -> tuple[int, list[ChunkScan]]:
    """The row count the ingest reaches for ``data``, and the final scan of every range."""
    result = scan_by_ranges(data, chunk_bytes)
    return result.rows, result.final


def python_csv_rows(data: bytes) -> int:
    """The data rows Python's csv module reads (blank lines skipped, header excluded)."""
    text = data.decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    return max(len(rows) - 1, 0)


_WORDS = ["alpha", "beta", "gamma", "42", "-3.5", "2024-01-31", "naïve", "日本", " padded "]


def _messy_field(rnd: random.Random) -> str:
    kind = rnd.randrange(12)
    word = rnd.choice(_WORDS)
    if kind == 0:
        return ""  # empty: `""` when alone on a row, else nothing between commas
    if kind == 1:
        return f"{word}, {rnd.choice(_WORDS)}"  # a quoted comma
    if kind == 2:
        return f'say "{word}"'  # escaped quotes mid-field
    if kind == 3:
        return f"{word}\n{rnd.choice(_WORDS)}"  # a quoted newline
    if kind == 4:
        return f"{word}\r\n{rnd.choice(_WORDS)},"  # a quoted CRLF, then a comma
    if kind == 5:
        return '"'  # a lone quote: `""""`
    if kind == 6:
        return f'"{word}"'  # quotes at both ends: `"""word"""`
    if kind == 7:
        return f"{word}\n"  # a quoted field ending in a newline
    if kind == 8:
        return ",\n" * rnd.randrange(1, 4)  # only delimiters and newlines
    if kind == 9:
        return "x" * rnd.randrange(20, 120)  # a long plain field
    return word


def messy_csv(
    seed: int,
    rows: int = 60,
    *,
    lineterminator: str = "\n",
    bom: bool = False,
    final_newline: bool = True,
    blank_lines: bool = True,
) -> bytes:
    """A CSV written by Python's csv module from seeded random fields: quoted commas,
    quotes and newlines, empty fields, blank lines; optionally CRLF, a BOM and no final
    line break. Every row has the header's three fields."""
    rnd = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(["id", "name, full", "note"])
    for i in range(rows):
        if blank_lines and rnd.random() < 0.1:
            out.write(lineterminator * rnd.randrange(1, 3))
        writer.writerow([str(i), _messy_field(rnd), _messy_field(rnd)])
    text = out.getvalue()
    if not final_newline:
        text = text.removesuffix(lineterminator)
    return (BOM if bom else b"") + text.encode("utf-8")
