"""sluice.datasets.columns: a dataset's columns kept as JSON lines, served a page at a time."""

from __future__ import annotations

import base64

import pytest
from sluice.datasets.columns import (
    PREVIEW_CHARS,
    PREVIEW_COLUMNS,
    Columns,
    ColumnSummary,
    decode_token,
    encode_token,
    preview,
    to_jsonl,
)
from sluice.errors import BadRequest
from sluice.inference.schema import ColumnSchema
from sluice.inference.types import ColumnType


def _column(name: str, **extra: object) -> ColumnSchema:
    return ColumnSchema(
        name=name,
        inferred_type=ColumnType.INT8,
        effective_type=ColumnType.INT8,
        null_count=0,
        failures={"int8": 0},
        **extra,  # type: ignore[arg-type]
    )


def _names(count: int) -> list[ColumnSchema]:
    return [_column(f"c{i}") for i in range(count)]


def test_columns_come_back_from_their_json_lines_as_they_were_written() -> None:
    columns = [_column("a"), _column("line\nbreak", notes=["two\nlines"]), _column("c")]
    assert Columns.from_jsonl(to_jsonl(columns)).all() == columns


def test_a_page_holds_limit_columns_from_its_start_and_the_token_of_the_rest() -> None:
    page = Columns.from_jsonl(to_jsonl(_names(250))).page(100, 100)
    assert [c.name for c in page.columns] == [f"c{i}" for i in range(100, 200)]
    assert (page.column_count, decode_token(page.next_token, 250)) == (250, 200)


def test_the_last_page_has_no_token() -> None:
    page = Columns.from_jsonl(to_jsonl(_names(250))).page(200, 100)
    assert ([c.name for c in page.columns], page.next_token) == (
        [f"c{i}" for i in range(200, 250)],
        None,
    )


def test_pages_follow_their_tokens_through_every_column_once_in_order() -> None:
    columns = Columns.from_jsonl(to_jsonl(_names(1234)))
    seen: list[str] = []
    start = 0
    while True:
        page = columns.page(start, 100)
        seen.extend(c.name for c in page.columns)
        if page.next_token is None:
            break
        start = decode_token(page.next_token, len(columns))
    assert seen == [f"c{i}" for i in range(1234)]


def test_a_page_ends_before_the_column_that_would_pass_its_bytes() -> None:
    lines = to_jsonl(_names(10)).splitlines()
    page = Columns(lines).page(0, 10, max_bytes=len(lines[0]) * 3 + 1)
    assert [c.name for c in page.columns] == ["c0", "c1", "c2"]
    assert decode_token(page.next_token, 10) == 3


def test_a_page_holds_one_column_even_when_it_alone_passes_the_bytes() -> None:
    page = Columns(to_jsonl(_names(3)).splitlines()).page(1, 10, max_bytes=1)
    assert ([c.name for c in page.columns], decode_token(page.next_token, 3)) == (["c1"], 2)


def test_columns_held_parsed_page_like_their_lines() -> None:
    parsed = Columns(_names(5)).page(1, 2)
    assert ([c.name for c in parsed.columns], decode_token(parsed.next_token, 5)) == (
        ["c1", "c2"],
        3,
    )


def test_no_token_starts_at_the_first_column() -> None:
    assert (decode_token(None, 5), decode_token("", 5)) == (0, 0)


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"start": 1}').decode(),
        base64.urlsafe_b64encode(b'{"column": "1"}').decode(),
        base64.urlsafe_b64encode(b'{"column": true}').decode(),
        base64.urlsafe_b64encode(b'{"column": -1}').decode(),
        base64.urlsafe_b64encode(b"[1]").decode(),
        encode_token(5),  # past the last of 5 columns
    ],
)
def test_a_token_this_api_did_not_issue_is_a_bad_request(token: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_token(token, 5)
    assert (raised.value.message, raised.value.details) == (
        "next_token is not a token this API issued",
        {"field": "next_token"},
    )


def test_the_preview_names_the_first_columns_and_their_types() -> None:
    assert preview(_names(PREVIEW_COLUMNS + 5)) == [
        ColumnSummary(name=f"c{i}", type="int8") for i in range(PREVIEW_COLUMNS)
    ]


def test_the_preview_stops_before_names_longer_than_its_characters() -> None:
    long_names = [_column("x" * (PREVIEW_CHARS // 2) + str(i)) for i in range(3)]
    assert [c.name for c in preview(long_names)] == [long_names[0].name]
