"""Compressed uploads, other encodings and files that are no CSV, ingested on the embedded
AWS: each compressed or transcoded file gives the rows Python's csv module reads from
the original text; a file that is no text fails saying what it looks like."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import zipfile
from typing import Any

import pyarrow as pa
import pytest
from sluice.ingest import prepare_step

from tests.integration.uploader import Uploader
from tests.support import call_api

NAMES = ["Zoë", "José", "Ærøskøbing", "naïve café", "Œuvre «ici»", "plain", "x, quoted"]


def text(rows: int = 400) -> str:
    """A CSV of several chunks (CHUNK_BYTES is 1 KiB) whose texts are not all ASCII."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "name", "note"])
    for i in range(rows):
        writer.writerow([i, NAMES[i % len(NAMES)], f"line {i}\nwrapped" if i % 50 == 7 else "ok"])
    return out.getvalue()


def expected(original: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(original, newline=""))
    return [{"id": int(r["id"]), "name": r["name"], "note": r["note"]} for r in reader]


def all_rows(uploader: Uploader, dataset_id: str) -> list[dict[str, Any]]:
    return uploader.rows(dataset_id, ("id", "name", "note"))


def zstd(body: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(body)
    return bytes(sink.getvalue().to_pybytes())


def zipped(members: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return sink.getvalue()


def ingested(uploader: Uploader, body: bytes, **settings: Any) -> dict[str, Any]:
    dataset = uploader.ingest(body, column_types={"name": "string", "note": "string"}, **settings)
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    return dataset


ORIGINAL = text()
UTF8 = ORIGINAL.encode("utf-8")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(gzip.compress(UTF8), id="gzip"),
        pytest.param(gzip.compress(UTF8[:999]) + gzip.compress(UTF8[999:]), id="gzip-members"),
        pytest.param(bz2.compress(UTF8), id="bzip2"),
        pytest.param(zstd(UTF8), id="zstd"),
        pytest.param(zipped({"data/export.csv": UTF8}), id="zip"),
        pytest.param(gzip.compress(ORIGINAL.encode("utf-16")), id="gzip-of-utf16"),
        pytest.param(ORIGINAL.encode("utf-16-le").join([b"\xff\xfe", b""]), id="utf16-le-bom"),
        pytest.param(ORIGINAL.encode("utf-16-be").join([b"\xfe\xff", b""]), id="utf16-be-bom"),
        pytest.param(b"\xef\xbb\xbf" + UTF8, id="utf8-bom"),
    ],
)
def test_compressed_and_utf16_uploads_give_the_rows_of_their_text(
    uploader: Uploader, body: bytes
) -> None:
    dataset = ingested(uploader, body)
    assert dataset["row_count"] == 400
    assert [c["name"] for c in dataset["columns"]] == ["id", "name", "note"]
    assert all_rows(uploader, dataset["id"]) == expected(ORIGINAL)


@pytest.mark.parametrize(
    ("body", "settings"),
    [
        pytest.param(gzip.compress(UTF8), {}, id="gzip"),
        pytest.param(ORIGINAL.encode("cp1252"), {"encoding": "cp1252"}, id="cp1252"),
    ],
)
def test_progress_while_preparing_tells_how_far_into_the_upload_it_read(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch, body: bytes, settings: dict[str, Any]
) -> None:
    # A progress report after every block: the position comes from a buffered S3 stream,
    # which cannot tell() it ("only valid on seekable files" failed a 200 MB gzip).
    monkeypatch.setattr(prepare_step, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(prepare_step, "BLOCK_BYTES", 1024)
    dataset = ingested(uploader, body, **settings)
    assert dataset["row_count"] == 400
    assert all_rows(uploader, dataset["id"]) == expected(ORIGINAL)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_declared_encoding_is_transcoded_to_utf8(uploader: Uploader, encoding: str) -> None:
    original = text().replace("Œuvre «ici»", "Œuvre «ici» €" if encoding == "cp1252" else "«ici»")
    dataset = ingested(uploader, original.encode(encoding), encoding=encoding)
    assert all_rows(uploader, dataset["id"]) == expected(original)
    assert dataset["settings"]["encoding"] == {"latin-1": "iso8859-1"}.get(encoding, encoding)


def test_latin1_undeclared_still_fails_as_not_utf8(uploader: Uploader) -> None:
    dataset = uploader.ingest(text().replace("Œuvre ", "").encode("latin-1"))
    assert dataset["status"] == "failed"
    assert "is not valid UTF-8" in dataset["error"]["message"]


def test_latin1_that_failed_as_utf8_is_read_by_an_inference_start_declaring_it(
    uploader: Uploader,
) -> None:
    original = text().replace("Œuvre ", "")
    dataset = uploader.ingest(original.encode("latin-1"))
    assert dataset["status"] == "failed"
    status, started = call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"encoding": "latin-1"}},
        owner=uploader.owner,
    )
    assert status == 202, started
    settled = uploader.settled(dataset["id"])
    assert (settled["status"], settled["error"]) == ("ready", None)
    assert all_rows(uploader, dataset["id"]) == expected(original)


def test_a_byte_the_declared_encoding_lacks_fails_naming_it(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"id,name\n1,a\x81b\n", encoding="cp1252")
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": "the text is not valid cp1252 (byte 11 of the file's text): declare the "
        "file's encoding in the dataset's settings, or save it as UTF-8",
    }


def test_an_unknown_encoding_is_refused_at_create(uploader: Uploader) -> None:
    status, body = call_api(
        "POST", "/datasets", {"name": "t", "encoding": "klingon"}, owner=uploader.owner
    )
    assert status == 422, body
    assert "unknown text encoding 'klingon'" in str(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "the file is not CSV text: it looks like a PDF document (starts with %PDF)",
        ),
        (
            zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
            "the file is not CSV text: it looks like an Excel workbook (.xlsx): save it as CSV",
        ),
        (
            b"PAR1\x15\x04\x15",
            "the file is not CSV text: it looks like a Parquet file (starts with PAR1)",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "the file is not CSV text: it looks like a PNG image",
        ),
        (
            b"id,name\x00\x01\x02",
            "the file is not CSV text: it looks like binary data (a NUL byte at byte 7)",
        ),
        (
            "id,name\n1,a\n".encode("utf-16-le"),
            "the file is not CSV text: it looks like UTF-16 (little-endian) text without a "
            "byte-order mark: declare utf-16-le",
        ),
        (
            gzip.compress(b"%PDF-1.4\n"),
            "the gzip file's content is not CSV text: it looks like a PDF document "
            "(starts with %PDF)",
        ),
        (
            zipped({"a.csv": b"a\n1\n", "b.csv": b"b\n2\n"}),
            "the zip archive holds 2 files (a.csv, b.csv): upload a zip of one CSV file",
        ),
        (
            gzip.compress(gzip.compress(UTF8)),
            "the gzip file holds a gzip file: upload a CSV compressed once",
        ),
    ],
    ids=["pdf", "xlsx", "parquet", "png", "binary", "utf16-no-bom", "gzip-pdf", "zip-2", "gz-gz"],
)
def test_a_file_that_is_no_csv_fails_saying_what_it_looks_like(
    uploader: Uploader, body: bytes, message: str
) -> None:
    dataset = uploader.ingest(body)
    assert dataset["status"] == "failed"
    assert dataset["error"] == {"code": "invalid_csv", "message": message}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (gzip.compress(b""), "the gzip file is empty"),
        (zipped({"empty.csv": b""}), "the zip archive's 'empty.csv' is empty"),
        (
            zipped({"a.csv": UTF8})[:-30],
            "the file starts like a zip archive but cannot be read as one "
            "(it is cut short or damaged)",
        ),
    ],
    ids=["empty-gzip", "empty-zip-member", "cut-zip"],
)
def test_an_empty_or_cut_archive_fails_saying_so(
    uploader: Uploader, body: bytes, message: str
) -> None:
    dataset = uploader.ingest(body)
    assert dataset["error"] == {"code": "invalid_csv", "message": message}


def test_a_damaged_gzip_fails_saying_so(uploader: Uploader) -> None:
    body = bytearray(gzip.compress(UTF8))
    body[200:260] = b"\x00" * 60
    dataset = uploader.ingest(bytes(body))
    assert dataset["status"] == "failed"
    assert dataset["error"]["message"].startswith("the gzip file is damaged")


def test_an_upload_past_the_lambdas_budget_is_prepared_by_the_preparers_task(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_PREPARE_TASK_BYTES", "100")  # this bzip2 file is ~2 KB
    dataset = ingested(uploader, bz2.compress(UTF8))
    assert all_rows(uploader, dataset["id"]) == expected(ORIGINAL)
    assert "PrepareInTask" in uploader.states_entered(dataset["id"])


def test_a_damaged_file_in_the_preparers_task_fails_with_its_reason(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_PREPARE_TASK_BYTES", "100")
    body = bytearray(gzip.compress(UTF8))
    body[200:260] = b"\x00" * 60
    dataset = uploader.ingest(bytes(body))
    assert dataset["status"] == "failed"
    assert dataset["error"]["message"].startswith("the gzip file is damaged")
    assert "PrepareInTask" in uploader.states_entered(dataset["id"])


def test_an_empty_header_name_gets_a_generated_name_and_a_note(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"id,,name,column_4,\n1,x,a,p,q\n2,y,b,r,s\n")
    assert dataset["status"] == "ready", dataset
    columns = {c["name"]: c for c in dataset["columns"]}
    assert list(columns) == ["id", "column_2", "name", "column_4", "column_5"]
    assert columns["column_2"]["notes"] == [
        "the header had no name for column 2; named it column_2"
    ]
    assert columns["column_5"]["notes"] == [
        "the header had no name for column 5; named it column_5"
    ]
    assert columns["column_4"]["notes"] == []


def test_a_compressed_dataset_reinfers_and_reconverts_from_its_upload(
    uploader: Uploader,
) -> None:
    dataset = ingested(uploader, gzip.compress(UTF8))
    path = f"/datasets/{dataset['id']}/inference"
    status, body = call_api(
        "POST", path, {"command": "start", "settings": {"tolerance": 1}}, owner=uploader.owner
    )
    assert status in (200, 202), body
    again = uploader.settled(dataset["id"])
    assert (again["status"], again["row_count"]) == ("ready", 400), again
    assert all_rows(uploader, dataset["id"]) == expected(ORIGINAL)
    # A re-convert reads the decompressed copy of the run that scanned.
    status, body = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"id": "string"}},
        owner=uploader.owner,
    )
    assert status == 202, body
    converted = uploader.settled(dataset["id"])
    assert (converted["status"], converted["row_count"]) == ("ready", 400), converted
    rows = all_rows(uploader, dataset["id"])
    assert rows == [{**row, "id": str(row["id"])} for row in expected(ORIGINAL)]
