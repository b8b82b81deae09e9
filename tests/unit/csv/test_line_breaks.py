"""Text whose lines end with CR alone, rewritten with LF outside quoted fields
(sluice.csv.line_breaks): pyarrow reads the rewrite as it reads the original."""

from __future__ import annotations

import io
import random

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from sluice.csv.line_breaks import cr_line_breaks, lf_line_breaks


def _rewritten(text: bytes, block: int, quote: str = '"', delimiter: str = ",") -> bytes:
    blocks = [text[at : at + block] for at in range(0, len(text), block)]
    return b"".join(lf_line_breaks(blocks, quote, delimiter))


def _rows(text: bytes, delimiter: str = ",") -> list[dict[str, object]]:
    options = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    return pcsv.read_csv(io.BytesIO(text), parse_options=options).to_pylist()


def _reading(text: bytes) -> object:
    """pyarrow's rows, or the kind of error it gives (a random text may be no CSV)."""
    try:
        return _rows(text)
    except pa.ArrowInvalid:
        return pa.ArrowInvalid


def test_text_with_cr_and_no_lf_has_cr_line_breaks() -> None:
    assert cr_line_breaks(b"a,b\r1,2\r")
    assert not cr_line_breaks(b"a,b\r\n1,2\r\n")
    assert not cr_line_breaks(b"a,b\n1,2\n")
    assert not cr_line_breaks(b"a,b")


def test_each_cr_between_records_becomes_a_lf() -> None:
    assert _rewritten(b"a,b\r1,2\r3,4\r", 1024) == b"a,b\n1,2\n3,4\n"


def test_a_cr_inside_a_quoted_field_stays_part_of_its_value() -> None:
    text = b'id,note\r1,"two\rlines"\r2,plain\r'
    assert _rewritten(text, 1024) == b'id,note\n1,"two\rlines"\n2,plain\n'
    assert _rows(_rewritten(text, 1024)) == [
        {"id": 1, "note": "two\rlines"},
        {"id": 2, "note": "plain"},
    ]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_blocks_split_anywhere_rewrite_as_the_whole_text(block: int) -> None:
    text = b'id,note\r1,"a ""quoted"" word\rand a line"\r2,15" pipe\r3,""\r4,"x"""\r'
    assert _rewritten(text, block) == _rewritten(text, len(text))


def test_random_files_read_as_pyarrow_reads_their_cr_original() -> None:
    pieces = ['"', '""', "x", '5"', ",", "\r", '"a\rb"', '"q""r"', "é"]
    generator = random.Random(20_261_207)
    for _ in range(150):
        rows = []
        for n in range(generator.randint(1, 6)):
            fields = [
                "".join(generator.choice(pieces[2:]) for _ in range(generator.randint(0, 3)))
                .replace("\r", "")
                .replace(",", "")
                for _ in range(3)
            ]
            quoted = [
                '"' + f.replace('"', '""') + f'\r{n}"' if generator.random() < 0.4 else f
                for f in fields
            ]
            rows.append(",".join(quoted))
        text = ("a,b,c\r" + "\r".join(rows) + "\r").encode()
        expected = _reading(text)
        for block in (1, 5, 64):
            assert _reading(_rewritten(text, block)) == expected, text


def test_a_declared_delimiter_decides_where_a_quoted_field_may_open() -> None:
    # After a ';' a quote opens a field; after a ',' it is text, its CR a line break.
    assert _rewritten(b'a;b\r1;"x\ry"\r', 4, delimiter=";") == b'a;b\n1;"x\ry"\n'
