"""A CSV's dialect: its delimiter, quote character and decimal mark, declared or sniffed.

The plan step sniffs the head of the file it reads anyway (``scan.HEAD_BYTES``) and
records the dialect on its payload, so that every scan and conversion reads the file
the same way. Sniffing is vectorised over the head's bytes: for each candidate
delimiter (``,`` tab ``;`` ``|``) and quote character (``"``, or ``'`` when it splits
the records more consistently), count the delimiters outside quotes on every record; a candidate
whose count is the header's on (nearly) every record, and gives more than one field,
wins. Space-aligned files (columns padded with runs of spaces, no quotes) are taken
only when every record splits into the same number of fields. A file with a
delimiter other than ``,`` whose numbers are written ``3,5`` or ``1.234,56`` has
decimal commas.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from pydantic import BaseModel, Field

from sluice.csv.quoting import inside_mask

DELIMITERS = (",", "\t", ";", "|")
"""The delimiters sniffed, in the order that breaks a tie."""
SPACE_ALIGNED = " "
"""The delimiter of a space-aligned file: one or more spaces, leading and trailing ones
ignored."""
QUOTES = ('"', "'")
CONSISTENT_SHARE = 0.9
"""The share of the head's records that must have the header's field count (a ragged
row or two does not hide the delimiter)."""
SPACE_MIN_RECORDS = 3
"""A space-aligned file is taken only with a header and at least two records."""

DialectField = Literal["delimiter", "quote", "decimal"]

_NEWLINE = ord("\n")
_RETURN = ord("\r")
_SPACE = ord(" ")

_COMMA_NUMBER = r"^\s*[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)?,\d+\s*$"
"""A number with a decimal comma (``3,5``, ``-1.234,56``, ``,5``)."""
_DOT_NUMBER = r"^\s*[+-]?\d*\.\d+(?:[eE][+-]?\d+)?\s*$"
_THOUSANDS = r"^\s*[+-]?\d{1,3}(?:\.\d{3})+\s*$"
"""``1.234``: a decimal point, or a thousands separator where the decimal mark is a comma."""


class Dialect(BaseModel):
    """How the file's records split into fields; ``detected`` names what was sniffed
    rather than declared in the dataset's settings."""

    delimiter: str = Field(
        ",", description="The field delimiter; ' ' means runs of spaces (space-aligned)."
    )
    quote: str = Field('"', description="The quote character.")
    decimal: Literal[".", ","] = Field(".", description="The decimal mark of numbers.")
    detected: list[DialectField] = Field(
        default_factory=list, description="The fields sniffed from the file, not declared."
    )

    @property
    def space_aligned(self) -> bool:
        return self.delimiter == SPACE_ALIGNED

    def parse_options(self, **options: object) -> pcsv.ParseOptions:
        """pyarrow's options for this dialect (quoted newlines allowed)."""
        return pcsv.ParseOptions(
            delimiter=self.delimiter,
            quote_char=self.quote,
            newlines_in_values=True,
            **options,
        )


COMMA = Dialect()


def resolve(
    head: bytes, at_eof: bool, delimiter: str | None, quote: str | None, decimal: str | None
) -> Dialect:
    """The dialect of a file whose first bytes are ``head`` (all of it when ``at_eof``):
    the declared fields (not None) as given, the rest sniffed."""
    detected: list[DialectField] = []
    if delimiter is None or quote is None:
        sniffed_delimiter, sniffed_quote = sniff(head, at_eof, delimiter, quote)
        if delimiter is None:
            delimiter = sniffed_delimiter
            detected.append("delimiter")
        if quote is None:
            quote = sniffed_quote
            detected.append("quote")
    if decimal is None:
        decimal = sniff_decimal(head, at_eof, delimiter, quote)
        detected.append("decimal")
    return Dialect(
        delimiter=delimiter,
        quote=quote,
        decimal="," if decimal == "," else ".",
        detected=detected,
    )


def sniff(
    head: bytes, at_eof: bool, delimiter: str | None = None, quote: str | None = None
) -> tuple[str, str]:
    """(delimiter, quote) of the file whose first bytes are ``head``; a declared one (not
    None) is kept and the other chosen to fit it. A file no candidate splits
    consistently (one column, say) reads as comma-separated."""
    arr = np.frombuffer(_without_bom(head), dtype=np.uint8)
    quotes = [quote] if quote is not None else [q for q in QUOTES if _quote_candidate(arr, q)]
    delimiters = [delimiter] if delimiter is not None else list(DELIMITERS)
    best: tuple[float, int, int] | None = None
    chosen = (delimiter or ",", quote or '"')
    for q_rank, q in enumerate(quotes):
        for d_rank, d in enumerate(delimiters):
            if d == SPACE_ALIGNED:
                continue
            # Where quoted fields lie depends on the delimiter too: a quote opens one only
            # at a field's start (an inch mark, 15", is text).
            starts, ends, inside = _records(arr, ord(q), ord(d), at_eof)
            if not len(starts):
                continue
            share, fields = _consistency(arr, ord(d), inside, starts, ends)
            if fields < 2 or share < CONSISTENT_SHARE:
                continue
            # The more consistent wins, then the one giving more fields, then the order.
            score = (share, fields, -(q_rank * len(DELIMITERS) + d_rank))
            if best is None or score > best:
                best, chosen = score, (d, q)
    if best is None and delimiter in (None, SPACE_ALIGNED) and _space_aligned(arr, at_eof):
        return SPACE_ALIGNED, quote or '"'
    return chosen


def _without_bom(head: bytes) -> bytes:
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def _quote_candidate(arr: np.ndarray, quote: str) -> bool:
    """'"' always; "'" only in a head that holds one (it wins only where it splits the
    records more consistently, as where '"' is text inside "'"-quoted fields)."""
    return quote == '"' or bool((arr == ord(quote)).any())


def _records(
    arr: np.ndarray, quote: int, delimiter: int, at_eof: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, inside): the head's non-blank records (complete ones only, unless
    the head is the whole file) as byte bounds [start, end) without the line break, and
    per byte whether it lies inside quoted fields (``sluice.csv.quoting``)."""
    if not len(arr):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    inside = inside_mask(arr, quote, delimiter)
    breaks = np.flatnonzero((arr == _NEWLINE) & ~inside)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(arr)]])
    if not at_eof or (len(arr) and arr[-1] == _NEWLINE):
        starts, ends = starts[:-1], ends[:-1]
    # A line break written \r\n ends before its \r.
    has_return = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == _RETURN)
    ends = ends - has_return
    blank = ends <= starts
    return starts[~blank], ends[~blank], inside


def _consistency(
    arr: np.ndarray, delimiter: int, inside: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[float, int]:
    """(share of records with the header's field count, that count) for ``delimiter``."""
    counted = np.concatenate([[0], np.cumsum((arr == delimiter) & ~inside)])
    counts = counted[ends] - counted[starts]
    return float(np.mean(counts == counts[0])), int(counts[0]) + 1


def _space_aligned(arr: np.ndarray, at_eof: bool) -> bool:
    """Whether every record of a quote-free head splits into the same number (> 1) of
    fields on runs of spaces, leading and trailing spaces aside; with only two fields,
    some run must be longer than one space (padding), so that a column of two-word
    texts is not taken for two columns."""
    if (arr == ord('"')).any() or (arr == ord("'")).any():
        return False
    starts, ends, _ = _records(arr, ord('"'), _SPACE, at_eof)
    if len(starts) < SPACE_MIN_RECORDS:
        return False
    space = arr == _SPACE
    previous = np.concatenate([[False], space[:-1]])
    following = np.concatenate([space[1:], [False]])
    run_starts = np.flatnonzero(space & ~previous)
    run_ends = np.flatnonzero(space & ~following) + 1
    record = np.searchsorted(starts, run_starts, side="right") - 1
    valid = record >= 0
    run_starts, run_ends, record = run_starts[valid], run_ends[valid], record[valid]
    within = run_ends <= ends[record]
    inner = within & (run_starts > starts[record]) & (run_ends < ends[record])
    counts = np.bincount(record[inner], minlength=len(starts))
    fields = int(counts[0]) + 1
    if fields < 2 or not (counts == counts[0]).all():
        return False
    return fields > 2 or bool(((run_ends - run_starts)[inner] > 1).any())


def sniff_decimal(head: bytes, at_eof: bool, delimiter: str, quote: str) -> str:
    """',' when the head's values (the header aside) hold numbers with a decimal comma
    (``3,5``, ``1.234,56``) and no more numbers with a decimal point; else '.'. A
    comma-separated file has decimal points (a comma in a number would be quoted)."""
    if delimiter == ",":
        return "."
    text = _without_bom(head)
    if not at_eof:
        head_bytes = np.frombuffer(text, dtype=np.uint8)
        starts = _records(head_bytes, ord(quote), ord(delimiter[0]), at_eof)[1]
        if not len(starts):
            return "."
        text = text[: int(starts[-1]) + 1]
    dialect = Dialect(delimiter=delimiter, quote=quote)
    if dialect.space_aligned:
        text = normalise_spaces(text)
    try:
        table = pcsv.read_csv(
            pa.py_buffer(text),
            parse_options=dialect.parse_options(invalid_row_handler=lambda row: "skip"),
        )
    except (pa.ArrowInvalid, ValueError):
        return "."
    commas = dots = 0
    for column in table.columns:
        if pa.types.is_binary(column.type):
            # Text that is not UTF-8 (the scans name its line): no column of numbers.
            continue
        # pyarrow typed the columns it could read; a comma decimal stays text.
        values = pc.cast(column, pa.string())
        commas += pc.sum(pc.match_substring_regex(values, _COMMA_NUMBER)).as_py() or 0
        dotted = pc.and_(
            pc.match_substring_regex(values, _DOT_NUMBER),
            pc.invert(pc.match_substring_regex(values, _THOUSANDS)),
        )
        dots += pc.sum(dotted).as_py() or 0
    return "," if commas and commas >= dots else "."


_EDGE_SPACES = re.compile(rb"(?m)^ +| +(?=\r?$)")
_SPACE_RUNS = re.compile(rb" {2,}")


def normalise_spaces(body: bytes | memoryview) -> bytes:
    """Space-aligned records as single-space-delimited ones: leading and trailing spaces
    dropped, runs of spaces one space. Line breaks stay where they were."""
    return _SPACE_RUNS.sub(b" ", _EDGE_SPACES.sub(b"", bytes(body)))
