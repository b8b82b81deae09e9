"""read_header: the column names and where the data starts, from the head of a file."""

from __future__ import annotations

import pytest
from sluice.csv.ranges import BOM, CsvError
from sluice.csv.scan import Header, read_header

from tests.unit.csv.csv_fixtures import count_by_ranges


def _header(data: bytes) -> Header:
    return read_header(data, len(data))


def test_the_header_gives_the_column_names_and_the_first_record_offset() -> None:
    header = _header(b"id,name\n1,a\n")
    assert header.columns == ["id", "name"]
    assert header.data_start == 8
    assert header.newlines == 1


def test_a_crlf_header_ends_after_its_line_feed() -> None:
    header = _header(b"id,name\r\n1,a\r\n")
    assert header.columns == ["id", "name"]
    assert header.data_start == 9


def test_a_bom_is_stripped_from_the_first_column_name() -> None:
    header = _header(BOM + b"id,name\n1,a\n")
    assert header.columns == ["id", "name"]
    assert header.data_start == len(BOM) + 8


def test_quoted_header_names_keep_their_commas() -> None:
    header = _header(b'"last, first",age,"a ""quoted"" name"\n1,2,3\n')
    assert header.columns == ["last, first", "age", 'a "quoted" name']


def test_a_quoted_newline_in_the_header_is_part_of_the_name_and_counted() -> None:
    data = b'id,"two\nlines"\n1,2\n'
    header = _header(data)
    assert header.columns == ["id", "two\nlines"]
    assert header.data_start == data.index(b"1,2")
    assert header.newlines == 2


def test_header_names_are_stripped_of_surrounding_spaces() -> None:
    assert _header(b" id , name \n").columns == ["id", "name"]


def test_blank_header_names_become_column_and_their_position() -> None:
    assert _header(b'a,,c, ,""\n1,2,3,4,5\n').columns == [
        "a",
        "column_2",
        "c",
        "column_4",
        "column_5",
    ]


def test_a_duplicate_name_is_refused_naming_it_and_line_1() -> None:
    with pytest.raises(CsvError) as caught:
        _header(b"id,name,id\n1,2,3\n")
    assert str(caught.value) == "line 1: the column name 'id' appears more than once"


def test_blank_header_names_carry_a_note_saying_so() -> None:
    assert _header(b"a,,c\n").notes == {
        "column_2": ["the header had no name for column 2; named it column_2"]
    }
    assert _header(b"a,b\n").notes == {}


def test_a_generated_name_steps_around_a_name_the_header_has() -> None:
    header = _header(b"column_2,,column_2_2,\n")
    assert header.columns == ["column_2", "column_2_3", "column_2_2", "column_4"]
    assert header.notes["column_2_3"] == [
        "the header had no name for column 2; named it column_2_3"
    ]


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(CsvError) as caught:
        read_header(b"", 0)
    assert str(caught.value) == "the file is empty"


def test_a_blank_first_line_is_refused_as_an_empty_header() -> None:
    with pytest.raises(CsvError) as caught:
        _header(b"\nid,name\n")
    assert str(caught.value) == "line 1: the header is empty"


def test_a_file_with_a_nul_byte_is_refused_as_binary() -> None:
    with pytest.raises(CsvError) as caught:
        _header(b"id,name\n1,\x00\n")
    assert "binary" in str(caught.value)
    assert "byte 10" in str(caught.value)


def test_a_header_without_a_line_break_runs_to_the_end_of_the_file() -> None:
    header = _header(b"id,name")
    assert header.columns == ["id", "name"]
    assert header.data_start == 7
    assert header.newlines == 0


def test_a_file_that_is_only_a_header_line_has_no_ranges_and_no_rows() -> None:
    assert count_by_ranges(b"id,name\n", 4) == (0, [])


def test_a_header_longer_than_the_head_without_a_line_break_is_refused() -> None:
    head = b"column," * 20
    with pytest.raises(CsvError) as caught:
        read_header(head, len(head) + 1000)
    assert (
        str(caught.value) == f"line 1: the header has no line break in its first {len(head)} bytes"
    )


def test_a_header_whose_only_line_break_in_the_head_is_quoted_is_refused() -> None:
    head = b'id,"a\nlong name'
    with pytest.raises(CsvError, match="line 1: the header has no line break"):
        read_header(head, len(head) + 1000)


def test_a_header_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(CsvError) as caught:
        _header(b"id,na\xffme\n1,2\n")
    assert str(caught.value) == "line 1: the header is not valid UTF-8 (byte 5)"


def test_the_utf8_byte_position_counts_the_bom() -> None:
    with pytest.raises(CsvError, match=r"not valid UTF-8 \(byte 8\)"):
        _header(BOM + b"id,na\xffme\n1,2\n")


@pytest.mark.parametrize(
    "names",
    [
        ["0", "name"],
        ["id", "-0"],
        ["01", "1e3", "true"],
        ["id", "false"],
        ["id", "NA", "null", "N/A"],
        ["id", "nan"],
    ],
    ids=lambda names: ",".join(names),
)
def test_header_names_are_kept_as_written_whatever_they_look_like(names: list[str]) -> None:
    line = ",".join(names).encode() + b"\n"
    assert _header(line).columns == names


def test_non_ascii_utf8_header_names_are_kept() -> None:
    assert _header("id,naïve,日本\n".encode()).columns == ["id", "naïve", "日本"]
