"""Wide files (issue 18): 10,000 columns ingest; their statistics live in S3, the record
stays small, GET /datasets/{id} shows the first columns and /columns pages through all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sluice import aws
from sluice.config import settings
from sluice.datasets.columns import SUMMARY_COLUMNS

from tests.integration.uploader import Uploader
from tests.support import api_event, call_api, invoke, wait_for

WIDTH = 10_000
LAMBDA_ANSWER_BYTES = 6 * 1024 * 1024


def wide_csv(width: int) -> bytes:
    """Two rows under ``width`` columns: whole numbers, decimals and words in turn."""
    header = ",".join(f"c{i}" for i in range(width))
    first = ",".join(("1", "1.5", "a")[i % 3] for i in range(width))
    second = ",".join(("2", "3", "a")[i % 3] for i in range(width))
    return f"{header}\n{first}\n{second}\n".encode()


def expected_type(index: int) -> str:
    return ("int8", "float32", "category")[index % 3]


WIDE_CHUNK_BYTES = 1024 * 1024
"""One chunk: the suite's 1 KiB chunks cut the file's 80 KB into a few whose scans each
cost ~10 s for 10,000 columns' statistics (tests/integration/test_dialects.py and
others cover files of many chunks)."""


@pytest.fixture(scope="module")
def wide(local: Any) -> Iterator[tuple[Uploader, dict[str, Any]]]:
    """A 10,000-column dataset, ingested once for the module's tests."""
    uploader = Uploader(local)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SLUICE_CHUNK_BYTES", str(WIDE_CHUNK_BYTES))
        dataset_id, upload = uploader.create()
        uploader.put(upload["fields"]["key"], wide_csv(WIDTH))

        def settled() -> dict[str, Any] | None:
            dataset = uploader.dataset(dataset_id)
            return dataset if dataset["status"] in ("ready", "failed") else None

        # Each GET of an inferring 10,000-column dataset computes its provisional columns:
        # polled every 50 ms, the polls took the ingest's interpreter.
        dataset = wait_for(settled, 240, "the wide dataset to settle", every_s=1.0)
    yield uploader, dataset


def test_a_file_of_10000_columns_is_ingested_ready(wide: tuple[Uploader, dict[str, Any]]) -> None:
    _, dataset = wide
    assert (dataset["status"], dataset["error"]) == ("ready", None)
    assert (dataset["column_count"], dataset["row_count"]) == (WIDTH, 2)


def test_get_shows_the_first_columns_under_a_lambda_answers_limit(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    answer = invoke("api", api_event("GET", f"/datasets/{dataset['id']}", owner=uploader.owner))
    assert answer["statusCode"] == 200
    assert len(answer["body"].encode()) < LAMBDA_ANSWER_BYTES
    shown = json.loads(answer["body"])
    assert [(c["name"], c["effective_type"]) for c in shown["columns"]] == [
        (f"c{i}", expected_type(i)) for i in range(SUMMARY_COLUMNS)
    ]
    assert shown["column_count"] == WIDTH
    assert shown["columns_next_token"] is not None


def test_columns_pages_through_every_column_in_order(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    seen: list[tuple[str, str]] = []
    query: dict[str, str] = {"limit": "1000"}
    pages = 0
    while True:
        status, page = call_api(
            "GET", f"/datasets/{dataset['id']}/columns", owner=uploader.owner, query=query
        )
        assert (status, page["column_count"]) == (200, WIDTH)
        seen.extend((c["name"], c["effective_type"]) for c in page["columns"])
        pages += 1
        if page["next_token"] is None:
            break
        query = {"limit": "1000", "next_token": page["next_token"]}
    assert seen == [(f"c{i}", expected_type(i)) for i in range(WIDTH)]
    assert pages == WIDTH // 1000


def test_the_summarys_token_continues_after_its_columns(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    status, page = call_api(
        "GET",
        f"/datasets/{dataset['id']}/columns",
        owner=uploader.owner,
        query={"limit": "2", "next_token": dataset["columns_next_token"]},
    )
    assert (status, [c["name"] for c in page["columns"]]) == (200, ["c100", "c101"])


def test_the_record_stays_small_however_wide_the_file(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    table = aws.resource_table(settings().table)
    item = table.get_item(Key={"pk": f"OWNER#{uploader.owner}", "sk": f"DATASET#{dataset['id']}"})[
        "Item"
    ]
    assert len(json.dumps(item, default=str)) < 10_000


def test_another_users_dataset_has_no_columns_to_list(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    _, dataset = wide
    status, body = call_api("GET", f"/datasets/{dataset['id']}/columns", owner="someone-else")
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_a_token_the_api_did_not_issue_is_refused(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    status, body = call_api(
        "GET",
        f"/datasets/{dataset['id']}/columns",
        owner=uploader.owner,
        query={"next_token": "bm90IGEgdG9rZW4"},
    )
    assert (status, body["error"]) == (
        400,
        {
            "code": "bad_request",
            "message": "next_token is not a token this API issued",
            "details": {"field": "next_token"},
        },
    )


def test_a_page_of_more_than_1000_columns_is_refused(
    wide: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = wide
    status, body = call_api(
        "GET", f"/datasets/{dataset['id']}/columns", owner=uploader.owner, query={"limit": "1001"}
    )
    assert (status, body["error"]["code"]) == (422, "validation_error")


def test_a_dataset_awaiting_its_file_has_no_columns_to_list(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = call_api("GET", f"/datasets/{dataset_id}/columns", owner=uploader.owner)
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert uploader.dataset(dataset_id)["columns"] is None
