"""Tab, semicolon, pipe and space-aligned files: the dialect is detected from the head (or
declared in the settings), shown on the dataset, and every chunk of a multi-chunk
ingest reads the records as Python's csv module does, quoted delimiters and newlines
included."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from tests.conftest import CHUNK_BYTES
from tests.integration.uploader import Uploader
from tests.support import call_api


def _rows(uploader: Uploader, dataset: dict[str, Any]) -> list[dict[str, Any]]:
    assert dataset["status"] == "ready", dataset["error"]
    status, page = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"num_rows": "5000"}
    )
    assert status == 200
    return page["rows"]  # type: ignore[no-any-return]


def _types(dataset: dict[str, Any]) -> dict[str, str]:
    assert dataset["status"] == "ready", dataset["error"]
    return {c["name"]: c["effective_type"] for c in dataset["columns"]}


def _dialect(dataset: dict[str, Any]) -> tuple[str, str, str]:
    shown = dataset["dialect"]
    return shown["delimiter"], shown["quote"], shown["decimal"]


def _file(delimiter: str, rows: int = 300) -> bytes:
    """id, a text holding the delimiter, quotes and (every 7th row) a newline, a number."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["id", "note", "amount"])
    for i in range(rows):
        note = f'say "hi"{delimiter} to {i}' + ("\nsecond line" if i % 7 == 0 else "")
        writer.writerow([i, note, f"{i}.123456789"])
    return out.getvalue().encode()


def _expected(body: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode()), delimiter=delimiter))[1:]


def test_tab_and_pipe_files_with_quoted_delimiters_and_newlines_read_in_many_chunks(
    uploader: Uploader,
) -> None:
    for delimiter in ("\t", "|", ";"):
        body = _file(delimiter)
        assert len(body) > 8 * CHUNK_BYTES
        dataset = uploader.ingest(body)
        assert _dialect(dataset) == (delimiter, '"', ".")
        assert set(dataset["dialect"]["detected"]) == {"delimiter", "quote", "decimal"}
        assert dataset["chunk_count"] > 8
        assert _types(dataset) == {"id": "int16", "note": "string", "amount": "float64"}
        rows = _rows(uploader, dataset)
        expected = _expected(body, delimiter)
        assert [[str(r["id"]), r["note"], repr(r["amount"])] for r in rows] == expected


def _european(rows: int = 300) -> bytes:
    lines = ["Artikel;Preis;Menge;Datum"]
    for i in range(rows):
        price = f"{i * 1000 + 0.25:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        lines.append(f'"Ware; Nr. {i}";{price};{i};{1 + i % 28:02d}.03.2024')
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_semicolon_file_with_decimal_commas_reads_its_numbers_as_numbers(
    uploader: Uploader,
) -> None:
    body = _european()
    dataset = uploader.ingest(body)
    assert _dialect(dataset) == (";", '"', ",")
    assert dataset["chunk_count"] > 8
    types = _types(dataset)
    assert types["Preis"].startswith("float")  # float32 or float64: not this test's matter
    assert {**types, "Preis": "float"} == {
        "Artikel": "string",
        "Preis": "float",
        "Menge": "int16",
        "Datum": "datetime",
    }
    rows = _rows(uploader, dataset)
    assert len(rows) == 300
    assert rows[2]["Preis"] == 2000.25
    assert rows[123]["Preis"] == 123000.25
    assert rows[123]["Artikel"] == "Ware; Nr. 123"
    assert all(not r["_exceptions"] for r in rows)


def test_a_space_aligned_file_splits_on_runs_of_spaces(uploader: Uploader) -> None:
    lines = ["   year     value  name"]
    lines += [f"   {1900 + i}  {i * 0.5:>8.2f}  n{i}" for i in range(200)]
    dataset = uploader.ingest(("\n".join(lines) + "\n").encode())
    assert _dialect(dataset) == (" ", '"', ".")
    assert _types(dataset) == {"year": "int16", "value": "float32", "name": "string"}
    rows = _rows(uploader, dataset)
    assert [(r["year"], r["value"], r["name"]) for r in rows[:2]] == [
        (1900, 0.0, "n0"),
        (1901, 0.5, "n1"),
    ]
    assert len(rows) == 200


def test_declared_settings_override_detection_and_start_can_change_them(
    uploader: Uploader,
) -> None:
    body = _european(60)
    dataset = uploader.ingest(body, decimal=".")
    assert _dialect(dataset) == (";", '"', ".")
    assert dataset["dialect"]["detected"] == ["delimiter", "quote"]
    assert _types(dataset)["Preis"] == "string"

    status, started = call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"decimal": None, "delimiter": "|"}},
        owner=uploader.owner,
    )
    assert status == 202
    assert started["settings"]["delimiter"] == "|"
    assert started["settings"]["decimal"] is None
    settled = uploader.settled(dataset["id"])
    # No record holds a pipe: each is one field, the header's line its name.
    assert _dialect(settled) == ("|", '"', ".")
    assert list(_types(settled)) == ["Artikel;Preis;Menge;Datum"]

    status, _ = call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"delimiter": None}},
        owner=uploader.owner,
    )
    assert status == 202
    settled = uploader.settled(dataset["id"])
    assert _dialect(settled) == (";", '"', ",")
    assert _types(settled)["Preis"].startswith("float")


def test_a_single_quote_file_is_read_with_its_quote(uploader: Uploader) -> None:
    body = "a;b\n" + "".join(f"'x;{i}';{i}\n" for i in range(100))
    dataset = uploader.ingest(body.encode())
    assert _dialect(dataset) == (";", "'", ".")
    rows = _rows(uploader, dataset)
    assert rows[5] == {"a": "x;5", "b": 5, "_exceptions": {}}


def _inch_marks(rows: int = 1000) -> bytes:
    """Sizes in inches (``15"``, ``15" wide``: 221 of them, none quoting; an odd count of
    quotes in all), beside quoted notes that hold a delimiter or a line break."""
    lines = ["id,size,note"]
    for i in range(rows):
        size = f'{i % 30}"' if i % 7 == 0 else (f'{i % 30}" wide' if i % 11 == 0 else f"{i}")
        note = f'"two\nlines, {i}"' if i % 13 == 0 else f'"item, {i}"' if i % 5 == 0 else f"n{i}"
        lines.append(f"{i},{size},{note}")
    return ("\n".join(lines) + "\n").encode()


def test_inch_marks_beside_quoted_line_breaks_read_in_many_chunks_as_pyarrow_reads_them(
    uploader: Uploader,
) -> None:
    body = _inch_marks()
    assert body.count(b'"') % 2 == 1 and len(body) > 8 * CHUNK_BYTES
    dataset = uploader.ingest(body)
    assert dataset["chunk_count"] > 8
    whole = pcsv.read_csv(
        io.BytesIO(body),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(column_types={"size": pa.string()}),
    )
    rows = _rows(uploader, dataset)
    assert [[r["id"], r["size"], r["note"]] for r in rows] == [
        list(row.values()) for row in whole.to_pylist()
    ]
    assert rows[7]["size"] == '7"' and rows[11]["size"] == '11" wide'


def test_impossible_dialect_settings_are_422(uploader: Uploader) -> None:
    for settings in ({"delimiter": ";;"}, {"delimiter": ";", "quote": ";"}, {"quote": "\n"}):
        status, _ = call_api("POST", "/datasets", {"name": "t", **settings}, owner="o")
        assert status == 422, settings
    dataset = uploader.ingest(b"a,b\n1,2\n")
    status, _ = call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"decimal": ",", "delimiter": ","}},
        owner=uploader.owner,
    )
    assert status == 422
