"""The dialect sniffer, and the ranges, quote reconciliation and parsing under other
delimiters and quote characters, checked against Python's csv module."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from sluice.csv.dialect import Dialect, normalise_spaces, resolve, sniff, sniff_decimal
from sluice.csv.ranges import ByteRange, byte_counts, guess_parity, plan_ranges, record_starts
from sluice.csv.scan import ChunkScan, read_header, scan_range
from sluice.ingest.scan_steps import reconcile

from tests.unit.csv.csv_fixtures import messy_csv, reader_of, to_result


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"a,b,c\n1,2,3\n4,5,6\n", (",", '"')),
        (b"a\tb\tc\n1,5\t2\tx, y\n3\t4\t5\n", ("\t", '"')),
        (b"name;price\nfoo;1.234,56\nbar;3,5\n", (";", '"')),
        (b'a|b\n"x|y"|2\n3|4\n', ("|", '"')),
        (b"a;b\n'x;y';2\n3;4\n", (";", "'")),
        (b"a;b\r\n1;2\r\n3;4\r\n", (";", '"')),
        (b'a,b\n"x\ny;z;w",1\n2,3\n', (",", '"')),  # delimiters inside quotes do not count
        (b"name\nJohn Smith\nJane Doe\n", (",", '"')),  # one column
        (b"first last\nJohn Smith\nJane Doe\n", (",", '"')),  # two words are no alignment
        (b"   x    y   z\n 1.0  2.0  3\n 4.5  5.0  6\n", (" ", '"')),
        (b"  year  value\n  1950    1.5\n  1951   12.5\n", (" ", '"')),
        (b"x y\n1 2\n", (",", '"')),  # too few records to call it space-aligned
        (b"a;b;c\n1;2;3\n4;5\n6;7;8\n" + b"1;2;3\n" * 20, (";", '"')),  # a ragged row
        (b"\xef\xbb\xbfa\tb\n1\t2\n", ("\t", '"')),
    ],
)
def test_sniff_finds_the_delimiter_and_quote(head: bytes, expected: tuple[str, str]) -> None:
    assert sniff(head, at_eof=True) == expected


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_sniff_reads_inch_marks_as_text(delimiter: str) -> None:
    # Quoting every quote would keep most of these records "inside" one quoted field.
    rows = [f'{i}{delimiter}{i % 9}" wide{delimiter}"a{delimiter} b"' for i in range(41)]
    head = ("id" + delimiter + "size" + delimiter + "note\n" + "\n".join(rows) + "\n").encode()
    assert head.count(b'"') % 2 == 1
    assert sniff(head, at_eof=True) == (delimiter, '"')


def test_sniff_ignores_the_unfinished_last_record_of_a_head() -> None:
    assert sniff(b"a\tb\n1\t2\n3\t4\n5", at_eof=False) == ("\t", '"')


def test_a_declared_field_is_kept_and_the_others_fit_it() -> None:
    dialect = resolve(b"a;b\n1,5;2\n", True, None, None, ".")
    assert (dialect.delimiter, dialect.decimal, dialect.detected) == (
        ";",
        ".",
        ["delimiter", "quote"],
    )
    assert resolve(b"a;b\n1;2\n", True, "|", None, None).delimiter == "|"


@pytest.mark.parametrize(
    ("head", "delimiter", "decimal"),
    [
        (b"a;b\nx;3,5\ny;1.234,56\n", ";", ","),
        (b"a;b\nx;3.5\ny;1.5\n", ";", "."),
        (b"a;b\nx;1.234\ny;2\n", ";", "."),  # thousands alone say nothing
        (b"a\tb\nx\t3,5\ny\t2.5\n", "\t", ","),  # as many commas as points
        (b'a,b\nx,"3,5"\n', ",", "."),  # a comma file has decimal points
        (b"a;b\n01.02.2024;x\n", ";", "."),
        # A column that is not UTF-8 (latin-1 here) is no column of numbers.
        ("Ort;Preis\nZürich;3,5\nGenève;12,25\n".encode("latin-1"), ";", ","),
    ],
)
def test_sniff_decimal(head: bytes, delimiter: str, decimal: str) -> None:
    assert sniff_decimal(head, True, delimiter, '"') == decimal


def test_normalise_spaces_keeps_line_breaks_and_makes_runs_one_space() -> None:
    assert normalise_spaces(b"  a   b \r\n 1  2\n") == b"a b\r\n1 2\n"


def test_the_ranges_follow_another_quote_character() -> None:
    data = b"'a\nb'|x\n'c'|'d\ne'\n"
    quote = ord("'")
    assert list(record_starts(data, 0, quote, ord("|"))) == [8, 18]
    assert byte_counts(data, 0, len(data), quote) == (6, 4)
    # Inside "'d\ne'" after its newline: a closing quote before the line end.
    assert guess_parity(data, 0, None, 15, len(data), quote, ord("|")) == 1
    assert guess_parity(data, 0, None, 8, len(data), quote, ord("|")) == 0


def _dialect_file(seed: int, delimiter: str, quote: str) -> bytes:
    """``messy_csv`` rewritten by Python's csv module in another dialect."""
    rows = list(csv.reader(io.StringIO(messy_csv(seed).decode(), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, quotechar=quote, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _scan_all(data: bytes, chunk_bytes: int, dialect: Dialect) -> list[ChunkScan]:
    read, size = reader_of(data), len(data)
    header = read_header(data, size, dialect)
    ranges = plan_ranges(header.data_start, size, chunk_bytes)

    def scan(rng: ByteRange, parity: int | None) -> ChunkScan:
        return scan_range(read, rng, size, header.columns, parity, 64, [], dialect)

    final = [scan(rng, 0 if rng.index == 0 else None) for rng in ranges]
    for item in reconcile([to_result(s) for s in final]).redo:
        final[item.index] = scan(ByteRange(item.index, item.start, item.end), item.parity)
    return final


@pytest.mark.parametrize(("delimiter", "quote"), [("\t", '"'), (";", "'"), ("|", "'")])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk_bytes", [7, 64, 500])
def test_scans_in_any_dialect_read_what_python_csv_reads(
    delimiter: str, quote: str, seed: int, chunk_bytes: int
) -> None:
    data = _dialect_file(seed, delimiter, quote)
    dialect = resolve(data, True, None, None, ".")
    assert (dialect.delimiter, dialect.quote) == (delimiter, quote)
    scans = _scan_all(data, chunk_bytes, dialect)
    tables = [s.table for s in scans if s.table is not None and s.table.num_rows]
    got = pa.concat_tables(tables).to_pylist() if tables else []
    rows = [
        r
        for r in csv.reader(
            io.StringIO(data.decode(), newline=""), delimiter=delimiter, quotechar=quote
        )
        if r
    ]
    assert [[v or None for v in r.values()] for r in got] == [
        [v or None for v in r] for r in rows[1:]
    ]


def test_a_space_aligned_file_scans_in_many_ranges() -> None:
    lines = ["  id    value  name"] + [f"  {i:>3}  {i * 0.5:>6.2f}  n{i}" for i in range(50)]
    data = ("\n".join(lines) + "\n").encode()
    dialect = resolve(data, True, None, None, None)
    assert dialect.space_aligned
    scans = _scan_all(data, 40, dialect)
    got = pa.concat_tables([s.table for s in scans if s.table is not None]).to_pylist()
    assert got[7] == {"id": "7", "value": "3.50", "name": "n7"}
    assert len(got) == 50
