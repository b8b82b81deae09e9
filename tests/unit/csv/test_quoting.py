"""Quoted fields as pyarrow reads them (``sluice.csv.quoting``): a quote opens a field only
at its start, so an inch mark (``15"``, ``5" pipe``) is a character, and files holding
them split into ranges that read every record as pyarrow reads the whole file."""

from __future__ import annotations

import io
import random

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from sluice.csv import quoting
from sluice.csv.quoting import Transfer, outside_at, transfer
from sluice.ingest.decide_step import first_problem

from tests.unit.csv.csv_fixtures import scan_by_ranges, to_result

QUOTE, COMMA, NEWLINE = ord('"'), ord(","), ord("\n")


def reference_states(data: bytes, before: int) -> list[int]:
    """The state before each byte (1: inside a quoted field), byte by byte, as pyarrow's
    parser moves: a quote opens a field only at its start; inside, two quotes are one
    and a single one closes it."""
    state = "quoted" if before else "field start"
    states = []
    for byte in data:
        if state == "quote in quoted":  # an escaped quote, or the field closed
            state = "quoted" if byte == QUOTE else "unquoted"
            if byte == QUOTE:
                states.append(1)
                continue
        states.append(int(state == "quoted"))
        if state == "quoted":
            state = "quote in quoted" if byte == QUOTE else "quoted"
        elif byte in (COMMA, NEWLINE, ord("\r")):
            state = "field start"
        else:
            state = "quoted" if byte == QUOTE and state == "field start" else "unquoted"
    return states


def random_text(rnd: random.Random, size: int) -> bytes:
    return bytes(rnd.choice(b'"""",,\n\nab5 ') for _ in range(size))


def test_an_odd_run_after_a_field_edge_toggles_the_state() -> None:
    assert transfer(b'1,"x', 0, 4, QUOTE, COMMA) == Transfer(False, 1)


def test_a_run_after_any_other_byte_leaves_the_state_outside() -> None:
    assert transfer(b'1,15" wide', 0, 10, QUOTE, COMMA) == Transfer(True, 0)
    assert Transfer(True, 0).after(1) == Transfer(True, 0).after(0) == 0


def test_an_even_run_changes_nothing() -> None:
    assert transfer(b'a""b,""', 0, 7, QUOTE, COMMA) == Transfer()


def test_a_run_that_began_before_the_span_is_the_span_befores() -> None:
    data = b'x,"""y'
    assert transfer(data, 3, 6, QUOTE, COMMA) == Transfer()  # the run starts at 2
    assert transfer(data, 0, 3, QUOTE, COMMA) == Transfer(False, 1)  # counted whole: 3


def test_spans_compose_to_the_whole() -> None:
    rnd = random.Random(3)
    for _ in range(200):
        data = random_text(rnd, 40)
        cut = rnd.randrange(1, 40)
        whole = transfer(data, 0, 40, QUOTE, COMMA)
        parts = transfer(data, 0, cut, QUOTE, COMMA).then(transfer(data, cut, 40, QUOTE, COMMA))
        assert parts.after(0) == whole.after(0) and parts.after(1) == whole.after(1)


@pytest.mark.parametrize("block", [3, 7, 256 * 1024])
def test_outside_at_and_transfer_agree_with_a_byte_by_byte_reading(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quoting, "_BLOCK", block)
    rnd = random.Random(block)
    for _ in range(300):
        data = random_text(rnd, 60)
        for before in (0, 1):
            states = reference_states(data, before)
            positions = np.arange(len(data))
            # A byte's state is known once every run before it is over: not inside a run.
            settled = [p for p in range(len(data)) if data[p] != QUOTE]
            found = outside_at(data, positions, before, QUOTE, COMMA)
            assert [bool(found[p]) for p in settled] == [states[p] == 0 for p in settled]
            final = reference_states(data + b"x", before)[-1]
            assert transfer(data, 0, len(data), QUOTE, COMMA).after(before) == final


def _inch_file(rows: int, multiline: bool) -> bytes:
    lines = ["id,size,note"]
    for i in range(rows):
        size = f'{i % 30}"' if i % 7 == 0 else (f'{i % 30}" wide' if i % 11 == 0 else f"{i}")
        note = f'"item, {i}"' if i % 5 == 0 else f"item {i}"
        if multiline and i % 13 == 0:
            note = f'"two\nlines, {i}"'
        lines.append(f"{i},{size},{note}")
    return ("\n".join(lines) + "\n").encode()


def _pyarrow_rows(body: bytes) -> list[dict[str, str]]:
    table = pcsv.read_csv(
        io.BytesIO(body),
        read_options=pcsv.ReadOptions(column_names=["id", "size", "note"]),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(["id", "size", "note"], pa.string())
        ),
    )
    rows: list[dict[str, str]] = table.to_pylist()
    return rows


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize("chunk", [16, 64, 100, 1000])
def test_a_file_with_inch_marks_splits_where_pyarrow_reads_its_records(
    multiline: bool, chunk: int
) -> None:
    data = _inch_file(300, multiline)
    assert data.count(b'"') % 2 == 1  # an odd number of quotes in all
    result = scan_by_ranges(data, chunk)
    spans = [data[scan.first : scan.last] for scan in result.final if scan.last > scan.first]
    assert b"".join(spans) == data[result.header.data_start :]
    whole = _pyarrow_rows(data[result.header.data_start :])
    assert [row for span in spans for row in _pyarrow_rows(span)] == whole
    assert result.rows == len(whole) == 300
    assert first_problem(0, [to_result(scan) for scan in result.final]) is None


def test_a_quote_never_closed_is_still_named() -> None:
    data = b'id,note\n1,"open\n2,b\n3,c\n'
    result = scan_by_ranges(data, 8)
    problem = first_problem(0, [to_result(scan) for scan in result.final])
    assert problem == "the file ends inside a quoted field: a quote is never closed"


def _random_field(rnd: random.Random) -> str:
    word = rnd.choice(["a", "bb", "12", "x y", "日本", ""])
    return rnd.choice(
        [
            f'"{word}, {word}"',  # a quoted delimiter
            f'"{word}\n{word}"',  # a quoted line break
            f'"say ""{word}"""',  # escaped quotes
            f'{rnd.randrange(40)}"',  # an inch mark ending the field
            f'{rnd.randrange(9)}" {word}',  # one inside it
            '""',
            word,
            word,
        ]
    )


def _strings(body: bytes, columns: int) -> list[dict[str, str]]:
    names = [f"c{i}" for i in range(columns)]
    table = pcsv.read_csv(
        io.BytesIO(body),
        read_options=pcsv.ReadOptions(column_names=names),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    rows: list[dict[str, str]] = table.to_pylist()
    return rows


def test_random_files_of_every_kind_of_quote_split_where_pyarrow_reads_them() -> None:
    for seed in range(150):
        rnd = random.Random(seed)
        columns = rnd.randrange(1, 5)
        rows = [",".join(_random_field(rnd) for _ in range(columns)) for _ in range(40)]
        body = ("\n".join(rows) + "\n").encode()
        data = ",".join(f"h{i}" for i in range(columns)).encode() + b"\n" + body
        chunk = rnd.randrange(3, 200)
        result = scan_by_ranges(data, chunk)
        spans = [data[scan.first : scan.last] for scan in result.final if scan.last > scan.first]
        assert b"".join(spans) == body, (seed, chunk)
        split = [row for span in spans for row in _strings(span, columns)]
        assert split == _strings(body, columns), (seed, chunk)
