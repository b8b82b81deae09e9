"""Splitting a CSV into byte ranges and counting each range's records on its own.

A record belongs to the range in which it starts; each worker guesses the quote
parity at its range's start, reconcile works out the true parity from the quote
counts before it, and the wrong guesses are scanned again. Whatever the ranges, the
total must be the row count Python's csv module reads.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import pytest
from sluice.csv import ranges as csv_ranges
from sluice.csv.quoting import Transfer, transfer
from sluice.csv.ranges import (
    BOM,
    ByteRange,
    Span,
    balanced_chunk_bytes,
    byte_counts,
    guess_parity,
    plan_ranges,
    record_starts,
    records_span,
)
from sluice.csv.scan import scan_range
from sluice.ingest.decide_step import first_problem
from sluice.ingest.models import ChunkItem, ChunkResult, RaggedRowOut

from tests.unit.csv.csv_fixtures import (
    count_by_ranges,
    messy_csv,
    python_csv_rows,
    reader_of,
    scan_by_ranges,
)

# --- plan_ranges ---------------------------------------------------------------------


def _spans(ranges: list[ByteRange]) -> list[tuple[int, int, int]]:
    return [(r.index, r.start, r.end) for r in ranges]


@pytest.mark.parametrize(
    ("data_start", "size", "chunk"), [(0, 1, 1), (5, 23, 8), (7, 100, 3), (12, 13, 64), (9, 64, 8)]
)
def test_plan_ranges_cover_the_data_region_exactly_without_overlap(
    data_start: int, size: int, chunk: int
) -> None:
    ranges = plan_ranges(data_start, size, chunk)
    assert ranges[0].start == data_start
    assert ranges[-1].end == size
    assert [r.index for r in ranges] == list(range(len(ranges)))
    for before, after in itertools.pairwise(ranges):
        assert before.end == after.start
    assert all(r.start < r.end for r in ranges)


def test_plan_ranges_end_on_multiples_of_the_chunk_size() -> None:
    assert _spans(plan_ranges(5, 23, 8)) == [(0, 5, 8), (1, 8, 16), (2, 16, 23)]


MIB = 1024 * 1024


def test_balanced_chunks_split_a_file_into_a_multiple_of_the_workers() -> None:
    chunk = balanced_chunk_bytes(1_000_000_000, 64 * MIB, 2, 4 * MIB)
    assert (chunk, len(plan_ranges(40, 1_000_000_000, chunk))) == (60 * MIB, 16)


@pytest.mark.parametrize("workers", [0, 1])
def test_balanced_chunks_keep_the_chunk_size_when_the_workers_are_not_fixed(
    workers: int,
) -> None:
    assert balanced_chunk_bytes(1_000_000_000, 64 * MIB, workers, 4 * MIB) == 64 * MIB


def test_balanced_chunks_keep_the_chunk_size_when_the_count_is_already_a_multiple() -> None:
    assert balanced_chunk_bytes(128 * MIB, 64 * MIB, 2, 4 * MIB) == 64 * MIB


def test_balanced_chunks_split_a_file_of_fewer_chunks_than_workers_among_them() -> None:
    assert balanced_chunk_bytes(70 * MIB, 64 * MIB, 2, 4 * MIB) == 36 * MIB


def test_balanced_chunks_are_never_larger_than_the_chunk_size() -> None:
    assert balanced_chunk_bytes(100, 8, 2, 4 * MIB) == 8


def test_plan_ranges_boundaries_do_not_depend_on_where_the_header_ends() -> None:
    ends_a = [r.end for r in plan_ranges(3, 40, 8)]
    ends_b = [r.end for r in plan_ranges(6, 40, 8)]
    assert ends_a == ends_b == [8, 16, 24, 32, 40]


def test_plan_ranges_after_a_header_longer_than_a_chunk_start_at_the_header_end() -> None:
    assert _spans(plan_ranges(10, 20, 4)) == [(0, 10, 12), (1, 12, 16), (2, 16, 20)]


def test_plan_ranges_for_a_header_ending_on_a_boundary_start_a_whole_chunk() -> None:
    assert _spans(plan_ranges(8, 20, 4)) == [(0, 8, 12), (1, 12, 16), (2, 16, 20)]


def test_plan_ranges_of_an_empty_data_region_are_empty() -> None:
    assert plan_ranges(10, 10, 4) == []


@pytest.mark.parametrize("chunk", [0, -1])
def test_plan_ranges_refuse_a_chunk_size_that_is_not_positive(chunk: int) -> None:
    with pytest.raises(ValueError, match="chunk_bytes must be positive"):
        plan_ranges(0, 10, chunk)


# --- record_starts -------------------------------------------------------------------


def test_record_starts_are_the_offsets_just_after_each_newline() -> None:
    assert record_starts(b"a,b\nc,d\n", 0).tolist() == [4, 8]


def test_record_starts_skip_a_newline_inside_quotes() -> None:
    # 1,"x\ny"\n2,z\n : the newline at 4 is quoted; the ones at 7 and 11 end records
    assert record_starts(b'1,"x\ny"\n2,z\n', 0).tolist() == [8, 12]


def test_record_starts_with_parity_one_read_the_data_as_beginning_inside_quotes() -> None:
    # the same bytes, but the first quote now closes a field opened before them: what
    # follows is unquoted, where pyarrow takes y's quote as a character of the field
    assert record_starts(b'1,"x\ny"\n2,z\n', 1).tolist() == [5, 8, 12]


def test_record_starts_treat_escaped_quotes_as_staying_inside_the_field() -> None:
    assert record_starts(b'1,"a""\nb"\n2\n', 0).tolist() == [10, 12]


def test_record_starts_accept_a_memoryview() -> None:
    starts = record_starts(memoryview(b"xx\na\nb")[2:], 0)
    assert isinstance(starts, np.ndarray)
    assert starts.tolist() == [1, 3]


# --- guess_parity --------------------------------------------------------------------


def test_guess_parity_is_outside_for_an_opening_quote_after_a_delimiter() -> None:
    assert guess_parity(b'x,"abc",y\n', 100, ord("a")) == 0


def test_guess_parity_is_inside_for_a_closing_quote_before_a_delimiter() -> None:
    assert guess_parity(b'abc",y\n', 100, ord("z")) == 1


def test_guess_parity_is_inside_for_escaped_quotes_mid_field() -> None:
    assert guess_parity(b'ab""cd",e\n', 100, ord("z")) == 1


def test_guess_parity_is_outside_for_an_empty_quoted_field() -> None:
    assert guess_parity(b'1,"",2\n', 100, ord("\n")) == 0


def test_guess_parity_is_outside_for_an_empty_quoted_field_at_the_end_of_a_line() -> None:
    assert guess_parity(b'1,""\r\n', 100, ord("\n")) == 0


def test_guess_parity_is_outside_for_a_lone_escaped_quote_value() -> None:
    # the value `"` is written `""""`: an even run after a delimiter, then a delimiter
    assert guess_parity(b'1,"""",2\n', 100, ord("\n")) == 0


def test_guess_parity_is_inside_for_escaped_quotes_after_a_quoted_comma() -> None:
    # the range starts just after `"a,` of the field `"a,""b"""`
    assert guess_parity(b'""b""",c\n', 100, ord(",")) == 1


def test_guess_parity_is_outside_without_quotes() -> None:
    assert guess_parity(b"plain,text\nmore,rows\n", 100, ord("x")) == 0


def test_guess_parity_uses_the_previous_byte_when_the_range_starts_with_a_quote() -> None:
    assert guess_parity(b'"x",1\n', 100, ord("\n")) == 0
    assert guess_parity(b'",1\n', 100, ord("x")) == 1


def test_guess_parity_within_bounds_is_the_guess_on_that_slice() -> None:
    data = messy_csv(4, 300)
    for lo in range(1, len(data) - 1, 97):
        hi = min(len(data), lo + 500)
        whole = guess_parity(data[lo:hi], 1000 + lo, data[lo - 1])
        assert guess_parity(data, 1000 + lo, data[lo - 1], lo, hi) == whole


def test_byte_counts_count_the_quotes_and_line_breaks() -> None:
    data = messy_csv(4, 300)
    assert byte_counts(data, 10, len(data) - 10) == (
        data.count(b'"', 10, len(data) - 10),
        data.count(b"\n", 10, len(data) - 10),
    )


def test_byte_counts_add_up_across_their_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_ranges, "_COUNT_BLOCK", 7)
    data = messy_csv(4, 300)
    assert byte_counts(data, 10, len(data) - 10) == (
        data.count(b'"', 10, len(data) - 10),
        data.count(b"\n", 10, len(data) - 10),
    )


# --- records_span --------------------------------------------------------------------


def test_records_span_with_the_quotes_counted_is_the_span_without() -> None:
    data = messy_csv(4, 300)
    for start in range(1, len(data) - 300, 211):
        rng = ByteRange(1, start, start + 300)
        for parity in (0, 1):
            quotes = data.count(b'"', rng.start, rng.end)
            expected = records_span(data, 0, rng, parity, at_eof=True)
            assert records_span(data, 0, rng, parity, True, quotes) == expected


# id\n10\n2000\n3\n : header 0-2, records at 3 ("10"), 6 ("2000") and 11 ("3"); size 13
SMALL = b"id\n10\n2000\n3\n"


def test_records_span_keeps_a_row_straddling_the_end_in_the_range_where_it_starts() -> None:
    assert records_span(SMALL, 0, ByteRange(0, 3, 8), 0, at_eof=False) == Span(3, 11)


def test_records_span_leaves_the_straddling_row_out_of_the_next_range() -> None:
    assert records_span(SMALL, 0, ByteRange(1, 8, 13), 0, at_eof=True) == Span(11, 13)


def test_records_span_gives_a_record_starting_on_the_boundary_to_the_next_range() -> None:
    assert records_span(SMALL, 0, ByteRange(0, 3, 6), 0, at_eof=False) == Span(3, 6)
    assert records_span(SMALL, 0, ByteRange(1, 6, 11), 0, at_eof=False) == Span(6, 11)


def test_records_span_of_a_range_where_no_record_starts_is_empty() -> None:
    span = records_span(SMALL, 0, ByteRange(1, 7, 10), 0, at_eof=False)
    assert span == Span(10, 10)
    assert span is not None and span.empty


def test_records_span_of_a_range_inside_a_quoted_field_is_empty() -> None:
    data = b'id\n1,"a\nb\nc\nd"\n2\n'
    span = records_span(data, 0, ByteRange(1, 8, 12), 1, at_eof=False)
    assert span == Span(12, 12)
    assert span is not None and span.empty


def test_records_span_is_none_when_the_data_stops_inside_the_last_record() -> None:
    assert records_span(SMALL[:9], 0, ByteRange(0, 3, 8), 0, at_eof=False) is None


def test_records_span_runs_to_the_end_of_the_data_at_eof() -> None:
    no_final_newline = SMALL[:-1]
    assert records_span(no_final_newline, 0, ByteRange(1, 8, 12), 0, at_eof=True) == Span(11, 12)


def test_records_span_reads_data_that_starts_before_the_range() -> None:
    # data held from byte 5 of the file (the byte before the range is byte 5)
    assert records_span(SMALL[5:], 5, ByteRange(1, 6, 11), 0, at_eof=False) == Span(6, 11)


# --- scan_range over every range: exact counts --------------------------------------

_LONG_VALUE = ('He said "hi", then,\nleft. ' * 200)[:5000]
_LONG_FIELD = ('"' + _LONG_VALUE.replace('"', '""') + '"').encode()

CASES: dict[str, tuple[bytes, int]] = {
    "crlf": (b"id,name\r\n1,a\r\n2,b\r\n3,c\r\n", 3),
    "no-final-newline": (b"id,name\n1,a\n2,b\n3,c", 3),
    "no-final-newline-crlf": (b"id,name\r\n1,a\r\n2,b", 2),
    "no-final-newline-quoted": (b'id,name\n1,a\n2,"b\nc"', 2),
    "bom": (BOM + b"id,name\n1,a\n2,b\n", 2),
    "quoted-commas-quotes-newlines": (
        b'id,note,n\n1,"a,b",2\n3,"line1\nline2",4\n5,"say ""hi""\n, ok",6\n7,"""",8\n',
        4,
    ),
    "quoted-crlf-in-crlf-file": (b'id,note\r\n1,"a\r\nb"\r\n2,"\r\n"\r\n3,c\r\n', 3),
    "empty-quoted-fields": (b'id,note\n1,""\n"",2\n"",""\n3,\n', 4),
    "long-quoted-field": (b"id,text,n\n1,short,2\n2," + _LONG_FIELD + b",3\n3,after,4\n", 3),
    "blank-lines": (b"id,name\n\n1,a\n\n\n2,b\n\n3,c\n\n", 3),
    "blank-lines-crlf": (b"id,name\r\n\r\n1,a\r\n\r\n\r\n2,b\r\n\r\n", 2),
}

CHUNK_SIZES = [1, 2, 3, 7, 16, 64, 1000, None]  # None: one range for the whole file


def _chunk(data: bytes, chunk: int | None) -> int:
    return len(data) if chunk is None else chunk


@pytest.mark.parametrize("chunk", CHUNK_SIZES, ids=lambda c: f"chunk-{c or 'whole'}")
@pytest.mark.parametrize("case", list(CASES))
def test_ranges_count_exactly_the_rows_python_csv_reads(case: str, chunk: int | None) -> None:
    data, rows = CASES[case]
    counted, scans = count_by_ranges(data, _chunk(data, chunk))
    assert python_csv_rows(data) == rows
    assert counted == rows
    assert sum(s.ragged for s in scans) == 0


MESSY: dict[str, dict[str, Any]] = {
    "lf": {},
    "crlf": {"lineterminator": "\r\n"},
    "bom-no-final-newline": {"bom": True, "final_newline": False},
    "crlf-bom-no-final-newline": {"lineterminator": "\r\n", "bom": True, "final_newline": False},
}


@pytest.mark.parametrize("chunk", CHUNK_SIZES, ids=lambda c: f"chunk-{c or 'whole'}")
@pytest.mark.parametrize(("seed", "style"), list(enumerate(list(MESSY) * 2)))
def test_ranges_count_a_messy_file_exactly_as_python_csv_does(
    seed: int, style: str, chunk: int | None
) -> None:
    data = messy_csv(seed, rows=40, **MESSY[style])
    counted, scans = count_by_ranges(data, _chunk(data, chunk))
    assert counted == python_csv_rows(data)
    assert sum(s.ragged for s in scans) == 0


def test_a_scan_reads_past_its_overflow_to_finish_a_long_record() -> None:
    data, rows = CASES["long-quoted-field"]
    assert scan_by_ranges(data, 64, overflow=16).rows == rows


def test_a_scan_counts_its_range_quotes_and_newlines_whatever_the_parity() -> None:
    data = b'id,note\n1,"a\nb"\n2,"c,""d"""\n'
    rng = ByteRange(1, 13, len(data))
    read = reader_of(data)
    outside = scan_range(read, rng, len(data), ["id", "note"], 0)
    inside = scan_range(read, rng, len(data), ["id", "note"], 1)
    # b's closing quote and d's last run leave the state outside whatever came before;
    # c's opening quote toggles it in between, and the escaped pair changes nothing.
    seen = (outside.quotes, outside.quotes_reset, outside.newlines)
    assert seen == (inside.quotes, inside.quotes_reset, inside.newlines) == (0, True, 2)
    assert (outside.parity, inside.parity) == (0, 1)


def test_the_ranges_quote_states_and_newline_counts_add_up_to_the_data_region() -> None:
    data = messy_csv(7, rows=30, lineterminator="\r\n")
    result = scan_by_ranges(data, 16)
    start = result.header.data_start
    moved = [Transfer(s.quotes_reset, s.quotes % 2) for s in result.final]
    whole = transfer(data, start, len(data), ord('"'), ord(","), data[start - 1])
    assert functools.reduce(Transfer.then, moved) == whole
    assert whole.after(0) == 0
    assert sum(s.newlines for s in result.final) == data[start:].count(b"\n")


# --- guesses and reconcile -----------------------------------------------------------


def test_every_guess_is_right_on_a_file_without_quotes() -> None:
    data = b"id,name,score\n" + b"".join(b"%d,name %d,%d.5\n" % (i, i, i) for i in range(200))
    result = scan_by_ranges(data, 7)
    assert result.redo == []
    assert result.rows == 200


def test_a_wrong_guess_is_rescanned_with_the_true_parity_and_counts_exactly() -> None:
    # id,note\n | 1,"ab\n | "\n2,c\n   -- range 1 starts at byte 14 on the closing quote
    # after a quoted newline, which looks like an opening quote: it guesses 0, truly 1.
    data = b'id,note\n1,"ab\n"\n2,c\n'
    result = scan_by_ranges(data, 14)
    assert [(r.start, r.end) for r in result.ranges] == [(8, 14), (14, 20)]
    assert result.guessed[1].parity == 0
    assert result.redo == [ChunkItem(index=1, start=14, end=20, parity=1)]
    assert result.final[1].parity == 1
    assert result.rows == python_csv_rows(data) == 2
    assert sum(s.ragged for s in result.final) == 0


def test_wrong_guesses_inside_a_field_spanning_many_ranges_are_all_rescanned() -> None:
    # No quote inside the field: each range within it guesses "outside".
    data, rows = b'id,text,n\n1,"' + b"words, then\nmore " * 300 + b'",3\n2,after,4\n', 2
    result = scan_by_ranges(data, 64)
    assert len(result.redo) > 0
    for item in result.redo:
        assert result.final[item.index].parity == item.parity
    assert result.rows == rows


# --- ragged rows ---------------------------------------------------------------------


def _ragged_line(data: bytes, chunk: int) -> str | None:
    result = scan_by_ranges(data, chunk)
    return first_problem(result.plan(len(data)).header_newlines, result.results())


RAGGED = b"id,name,note\n1,a,x\n2,b\n3,c,z\n"


@pytest.mark.parametrize("chunk", CHUNK_SIZES, ids=lambda c: f"chunk-{c or 'whole'}")
def test_a_row_with_too_few_fields_is_ragged_and_named_by_its_line(chunk: int | None) -> None:
    result = scan_by_ranges(RAGGED, _chunk(RAGGED, chunk))
    assert sum(s.ragged for s in result.final) == 1
    assert result.rows == 2
    message = first_problem(result.plan(len(RAGGED)).header_newlines, result.results())
    assert message == "line 3: expected 3 fields like the header, found 2: '2,b'"


@pytest.mark.parametrize("chunk", CHUNK_SIZES, ids=lambda c: f"chunk-{c or 'whole'}")
def test_a_ragged_row_line_counts_quoted_and_crlf_line_breaks_before_it(chunk: int | None) -> None:
    # header lines 1-2 (a quoted newline), row 1 lines 3-4, the ragged row is line 5
    data = b'id,"na\nme",note\r\n1,"multi\r\nline",x\r\n2,b\r\n3,c,z\r\n'
    message = _ragged_line(data, _chunk(data, chunk))
    assert message is not None
    assert message.startswith("line 5: expected 3 fields like the header, found 2: '2,b'")


def test_a_ragged_row_whose_text_occurs_in_an_earlier_row_gets_its_own_line() -> None:
    # "2,3" (line 3) also occurs inside "1,2,3" (line 2), in the same range
    data = b"a,b,c\n1,2,3\n2,3\n"
    message = _ragged_line(data, len(data))
    assert message is not None
    assert message.startswith("line 3: ")


def test_a_row_with_too_many_fields_is_ragged_too() -> None:
    data = b"id,name\n1,a\n2,b,extra\n"
    result = scan_by_ranges(data, 5)
    assert (sum(s.ragged for s in result.final), result.rows) == (1, 1)
    message = first_problem(result.plan(len(data)).header_newlines, result.results())
    assert message == "line 3: expected 2 fields like the header, found 3: '2,b,extra'"


def test_first_problem_adds_header_lines_earlier_ranges_lines_and_lines_in_range() -> None:
    def chunk(index: int, newlines: int, ragged: list[RaggedRowOut]) -> ChunkResult:
        return ChunkResult(
            index=index,
            start=index * 10,
            end=index * 10 + 10,
            parity=0,
            quotes=0,
            newlines=newlines,
            first=index * 10,
            last=index * 10 + 10,
            rows=1,
            ragged=len(ragged) * 2,
            ragged_rows=ragged,
        )

    row = RaggedRowOut(newlines_before=2, expected=3, actual=2, text="x,y")
    chunks = [chunk(0, 4, []), chunk(1, 3, [row]), chunk(2, 5, [])]
    assert first_problem(1, chunks) == (
        "line 8: expected 3 fields like the header, found 2: 'x,y'"
        " (2 rows in all have the wrong number of fields)"
    )


def test_first_problem_is_none_when_every_row_has_the_header_width() -> None:
    assert _ragged_line(messy_csv(3, rows=30), 16) is None


def test_the_messy_files_hold_every_awkward_case() -> None:
    data = messy_csv(0, rows=40)
    lines = data.count(b"\n")
    assert b"\n\n" in data  # blank lines
    assert b'""' in data  # escaped quotes or empty quoted fields
    assert b", " in data and b'"' in data  # quoted commas
    assert python_csv_rows(data) + 1 < lines - data.count(b"\n\n")  # quoted newlines
    assert b"\r\n" in messy_csv(0, rows=40, lineterminator="\r\n")
    assert messy_csv(0, bom=True).startswith(BOM)
    assert not messy_csv(0, final_newline=False).endswith(b"\n")
