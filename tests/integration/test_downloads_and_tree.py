"""Whole-dataset downloads and the folder tree."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import requests

from tests.integration.uploader import Uploader
from tests.support import api_event, call_api, invoke, wait_for

BODY = b"id,day,amount\n" + b"".join(
    f"{i},2024-01-{i % 28 + 1:02d},{i * 0.5}\n".encode() for i in range(200)
)


@pytest.fixture(scope="module")
def ready(local: Any) -> tuple[Uploader, dict[str, Any]]:
    uploader = Uploader(local)
    dataset = uploader.ingest(BODY)
    assert dataset["status"] == "ready", dataset["error"]
    return uploader, dataset


def download(uploader: Uploader, dataset_id: str, fmt: str) -> dict[str, Any]:
    """Ask until the export is ready (the first answer is 202 while it is built)."""

    def ask() -> dict[str, Any] | None:
        status, body = call_api(
            "GET", f"/datasets/{dataset_id}/download", owner=uploader.owner, query={"format": fmt}
        )
        assert status in (200, 202), body
        return body if status == 200 else None

    return wait_for(ask, 60, f"the {fmt} export")


def test_the_first_download_request_is_202_with_retry_after(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"n\n1\n2\n")  # a dataset of its own: nothing exported yet
    event = api_event(
        "GET", f"/datasets/{dataset['id']}/download", owner=uploader.owner, query={"format": "csv"}
    )
    response = invoke("api", event)
    assert response["statusCode"] == 202
    headers = dict(response.get("headers") or {})
    headers.update({k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()})
    assert headers["Retry-After"] == "2"
    assert json.loads(response["body"]) == {
        "status": "preparing",
        "format": "csv",
        "url": None,
        "bytes": None,
        "expires_in": None,
        "retry_after": 2,
    }


def test_csv_download_holds_every_typed_row(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    answer = download(uploader, dataset["id"], "csv")
    assert answer["format"] == "csv" and answer["bytes"] > 0
    table = pcsv.read_csv(io.BytesIO(requests.get(answer["url"], timeout=30).content))
    assert table.num_rows == 200
    assert table.column_names == ["id", "day", "amount"]
    assert table.column("amount")[9].as_py() == 4.5


def test_parquet_download_keeps_the_types(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    answer = download(uploader, dataset["id"], "parquet")
    table = pq.read_table(io.BytesIO(requests.get(answer["url"], timeout=30).content))
    assert table.num_rows == 200
    assert str(table.schema.field("id").type) == "int16"
    assert str(table.schema.field("day").type) == "timestamp[us]"


def test_download_before_any_typed_data_is_409(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = call_api(
        "GET", f"/datasets/{dataset_id}/download", owner=uploader.owner, query={"format": "csv"}
    )
    assert status == 409
    assert body["error"]["message"] == "the dataset has no typed data yet (status awaiting_upload)"


def test_tree_lists_folders_and_datasets_to_a_depth(uploader: Uploader) -> None:
    for name, path in [("a", "sales"), ("b", "sales/eu"), ("c", "sales/eu/fr"), ("d", "hr")]:
        uploader.create(name=name, path=path)
    status, tree = call_api(
        "GET", "/datasets/tree", owner=uploader.owner, query={"path": "sales", "depth": "1"}
    )
    assert status == 200
    assert (tree["kind"], tree["path"], tree["dataset_count"]) == ("folder", "sales", 3)
    children = tree["children"]
    assert [(c["kind"], c["name"]) for c in children] == [("folder", "eu"), ("dataset", "a")]
    assert "children" not in children[0] and children[0]["dataset_count"] == 2
    assert children[1]["status"] == "awaiting_upload"


def test_tree_depth_0_is_the_folder_itself(uploader: Uploader) -> None:
    uploader.create(name="x", path="top/inner")
    _, tree = call_api(
        "GET", "/datasets/tree", owner=uploader.owner, query={"path": "top", "depth": "0"}
    )
    assert tree == {"kind": "folder", "name": "top", "path": "top", "dataset_count": 1}


def test_tree_shows_a_ready_datasets_schema_summary(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    _, tree = call_api("GET", "/datasets/tree", owner=uploader.owner, query={"depth": "1"})
    entry = next(c for c in tree["children"] if c.get("id") == dataset["id"])
    assert entry["row_count"] == 200
    assert [c["name"] for c in entry["columns"]] == ["id", "day", "amount"]
    assert entry["columns"][1]["type"] == "datetime"


def test_tree_of_an_unknown_folder_is_404(uploader: Uploader) -> None:
    status, body = call_api("GET", "/datasets/tree", owner=uploader.owner, query={"path": "nope"})
    assert status == 404
    assert body["error"]["message"] == "no folder 'nope'"
