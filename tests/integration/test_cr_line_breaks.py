"""Files whose lines end with a carriage return alone (classic Mac OS, Excel for Mac's
"CSV (Macintosh)"), ingested on the embedded AWS: plain, compressed or UTF-16, each gives
the rows pyarrow reads from the original, quoted CRs kept in their values."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import pyarrow.csv as pcsv
import pytest

from tests.integration.uploader import Uploader

NAMES = ["Zoë", "José", "plain", "x, quoted", 'a "quote"']


def mac_text(rows: int = 300, delimiter: str = ",") -> str:
    """A CSV of many chunks (CHUNK_BYTES is 1 KiB), lines ended by CR, some quoted
    values holding a CR of their own."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r")
    writer.writerow(["id", "name", "note"])
    for i in range(rows):
        writer.writerow([i, NAMES[i % len(NAMES)], f"line {i}\rwrapped" if i % 40 == 7 else "ok"])
    return out.getvalue()


def pyarrows_rows(original: bytes, delimiter: str = ",") -> list[dict[str, Any]]:
    options = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    return pcsv.read_csv(io.BytesIO(original), parse_options=options).to_pylist()


def all_rows(uploader: Uploader, dataset_id: str) -> list[dict[str, Any]]:
    return uploader.rows(dataset_id, ("id", "name", "note"))


UTF8 = mac_text().encode("utf-8")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(UTF8, id="plain"),
        pytest.param(gzip.compress(UTF8), id="gzip"),
        pytest.param(mac_text().encode("utf-16"), id="utf-16"),
    ],
)
def test_a_file_with_cr_line_breaks_reads_as_pyarrow_reads_it(
    uploader: Uploader, body: bytes
) -> None:
    dataset = uploader.ingest(body, column_types={"name": "string", "note": "string"})
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    assert dataset["row_count"] == 300
    assert all_rows(uploader, dataset["id"]) == pyarrows_rows(UTF8)
    assert all_rows(uploader, dataset["id"])[7]["note"] == "line 7\rwrapped"


def test_a_semicolon_file_with_cr_line_breaks_is_sniffed_and_split(uploader: Uploader) -> None:
    original = mac_text(120, ";").encode()
    dataset = uploader.ingest(original, column_types={"name": "string", "note": "string"})
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    assert dataset["dialect"]["delimiter"] == ";"
    assert all_rows(uploader, dataset["id"]) == pyarrows_rows(original, ";")
