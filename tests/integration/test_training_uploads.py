"""A training job on a file uploaded with it: the upload's ingest starts the job, and
an ingest that fails, or columns that do not fit, fail it with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.training_support import (
    csv_rows,
    finished,
    job_of,
    ready_dataset,
)
from tests.integration.uploader import Uploader
from tests.support import call_api


@pytest.fixture(scope="module")
def ready(local: Any) -> dict[str, str]:
    """One owner's ready dataset and graph, shared by the module's jobs."""
    return ready_dataset(local)


def test_an_uploaded_csv_starts_the_job_by_itself(local: Any, ready: dict[str, str]) -> None:
    body = {
        "upload": {"filename": "rows.csv", "bytes": len(csv_rows(200, seed=3))},
        "x_columns": ["a", "b", "c"],
        "y_column": "label",
        "loss": "binary_crossentropy",
        "epochs": 2,
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    assert job["status"] == "queued" and job["upload"]["fields"]["key"]
    assert "upload" not in job_of(ready, job["id"])  # the ticket is not stored
    Uploader(local).put(job["upload"]["fields"]["key"], csv_rows(200, seed=3))
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    assert sum(done["rows"][s] for s in ("train", "validation", "test")) == 200


def test_a_long_filename_names_its_dataset_with_its_last_200_characters(
    ready: dict[str, str],
) -> None:
    # The API fuzzer's request: a 255-character name was a 500 (a dataset's is 200 at most).
    filename = "0" * 250 + ".csv"
    body = {"upload": {"filename": filename, "bytes": 10}, "x_columns": ["a"], "y_column": "b"}
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    status, dataset = call_api("GET", f"/datasets/{job['dataset_id']}", owner=ready["owner"])
    assert (status, dataset["name"]) == (200, filename[-200:])


def test_a_filename_that_names_no_dataset_is_422_on_the_filename(ready: dict[str, str]) -> None:
    body = {"upload": {"filename": "folder/", "bytes": 10}, "x_columns": ["a"], "y_column": "b"}
    path = f"/networks/graphs/{ready['graph']}/train"
    status, answer = call_api("POST", path, body, owner=ready["owner"])
    assert status == 422, answer
    assert answer["error"]["details"] == {"field": "upload.filename"}


def test_a_failed_ingest_fails_the_job_with_its_reason(local: Any, ready: dict[str, str]) -> None:
    content = b"a,b,c,label\n\xe9,1,2,1\n"  # latin-1, undeclared: not UTF-8
    body = {
        "upload": {"filename": "bad.csv", "bytes": len(content)},
        "x_columns": ["a", "b", "c"],
        "y_column": "label",
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    Uploader(local).put(job["upload"]["fields"]["key"], content)
    done = finished(ready, job["id"])
    assert done["status"] == "failed", done
    assert done["error"]["code"] == "ingest_failed"
    assert "not valid UTF-8" in done["error"]["message"]


def test_an_upload_whose_columns_do_not_fit_fails_once_ingested(
    local: Any, ready: dict[str, str]
) -> None:
    content = csv_rows(50)
    body = {
        "upload": {"filename": "rows.csv", "bytes": len(content)},
        "x_columns": ["a", "b", "missing"],
        "y_column": "label",
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    Uploader(local).put(job["upload"]["fields"]["key"], content)
    done = finished(ready, job["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "invalid_training"
    assert "'missing'" in done["error"]["message"]
