"""GET /datasets/{id}/columns/{column}/profile: a chart's histogram or top values of one
column, from a dataset of several parts, checked against numpy and Python's own counts of
the CSV's values."""

from __future__ import annotations

import collections
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from sluice.operations import column_profile

from tests.integration.uploader import Uploader
from tests.support import call_api

ROWS = 240
CITIES = ("Zürich", "東京", "São Paulo", "Oslo")
START = datetime(2024, 1, 1, 6, 30)


def amount(i: int) -> int | None:
    """Large integers, one in 7 missing."""
    return None if i % 7 == 0 else (i * 3_000_000_000_000_000) % (2**62) - 2**61


def when(i: int) -> datetime:
    return START + timedelta(hours=i * 37, seconds=i)


def city(i: int) -> str | None:
    return None if i % 11 == 0 else CITIES[(i * i + i // 3) % len(CITIES)]


def sales_csv() -> bytes:
    lines = ["amount,price,sold at,city"]
    for i in range(ROWS):
        value = amount(i)
        lines.append(
            f"{'' if value is None else value},{i * 1.25 - 40:.2f},"
            f"{when(i).isoformat(sep=' ')},{city(i) or ''}"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, dict[str, Any]]:
    uploader = Uploader(local)
    dataset = uploader.ingest(sales_csv())
    assert dataset["status"] == "ready"
    return uploader, dataset


def profile(sales: tuple[Uploader, dict[str, Any]], column: str, **query: str) -> tuple[int, Any]:
    uploader, dataset = sales
    path = f"/datasets/{dataset['id']}/columns/{quote(column)}/profile"
    return call_api("GET", path, owner=uploader.owner, query=query or None)


def test_every_row_of_every_part_is_read_below_the_limit(
    sales: tuple[Uploader, dict[str, Any]],
) -> None:
    status, body = profile(sales, "amount")
    assert status == 200
    assert (body["rows"], body["sampled"]) == (ROWS, False)


def test_an_integer_column_has_numpys_histogram(sales: tuple[Uploader, dict[str, Any]]) -> None:
    status, body = profile(sales, "amount", bins="8")
    values = [float(v) for i in range(ROWS) if (v := amount(i)) is not None]
    counts, edges = np.histogram(values, bins=8)
    assert status == 200
    assert body["type"] == "int64"
    assert body["nulls"] == sum(1 for i in range(ROWS) if amount(i) is None)
    assert body["histogram"] == {"edges": edges.tolist(), "counts": counts.tolist()}
    assert body["top_values"] is None


def test_a_decimal_column_has_numpys_histogram(sales: tuple[Uploader, dict[str, Any]]) -> None:
    status, body = profile(sales, "price", bins="5")
    assert status == 200
    counts, _ = np.histogram([i * 1.25 - 40 for i in range(ROWS)], bins=5)
    assert body["histogram"]["counts"] == counts.tolist()
    assert body["histogram"]["edges"][0] == -40.0


def test_a_datetime_column_is_binned_by_time_with_iso_edges(
    sales: tuple[Uploader, dict[str, Any]],
) -> None:
    status, body = profile(sales, "sold at", bins="4")
    micros = [(when(i) - datetime(1970, 1, 1)) // timedelta(microseconds=1) for i in range(ROWS)]
    counts, _ = np.histogram(np.array(micros, dtype=np.float64), bins=4)
    assert status == 200
    assert body["type"] == "datetime"
    assert body["histogram"]["counts"] == counts.tolist()
    assert body["histogram"]["edges"][0] == when(0).isoformat()
    assert body["histogram"]["edges"][-1] == when(ROWS - 1).isoformat()


def test_a_category_column_has_its_top_values_by_count_then_value(
    sales: tuple[Uploader, dict[str, Any]],
) -> None:
    status, body = profile(sales, "city", top="3")
    counted = collections.Counter(c for i in range(ROWS) if (c := city(i)) is not None)
    expected = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert status == 200
    assert body["type"] == "category"
    assert body["top_values"] == [{"value": v, "count": n} for v, n in expected]
    assert (body["distinct"], body["nulls"]) == (len(CITIES), ROWS - sum(counted.values()))
    assert body["histogram"] is None


def test_past_the_row_limit_evenly_spaced_parts_are_read_and_it_says_so(
    sales: tuple[Uploader, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(column_profile, "PROFILE_ROWS", ROWS // 3)
    status, body = profile(sales, "price", bins="3")
    assert status == 200
    assert body["sampled"] is True
    assert 0 < body["rows"] < ROWS
    assert sum(body["histogram"]["counts"]) == body["rows"]


def test_an_unknown_column_is_404_naming_it(sales: tuple[Uploader, dict[str, Any]]) -> None:
    status, body = profile(sales, "nope")
    assert status == 404
    assert body["error"]["message"] == "the dataset has no column named 'nope'"


def test_bins_past_the_limit_are_422(sales: tuple[Uploader, dict[str, Any]]) -> None:
    status, _ = profile(sales, "price", bins="201")
    assert status == 422


def test_another_users_dataset_is_404(sales: tuple[Uploader, dict[str, Any]]) -> None:
    _, dataset = sales
    status, _ = call_api(
        "GET", f"/datasets/{dataset['id']}/columns/price/profile", owner="someone-else"
    )
    assert status == 404
