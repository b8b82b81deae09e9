"""`sluice local` as a user meets it: a subprocess, real HTTP, a real multipart upload."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from sluice.local.launch import Launched, launch
from sluice.local.system import DEMO_PASSWORD, DEMO_USER, free_port

from tests.support import wait_for

MAX_UPLOAD_BYTES = 50_000


@pytest.fixture(scope="module")
def system() -> Iterator[Launched]:
    port = free_port()
    args = ["--port", str(port), "--chunk-bytes", "2048"]
    args += ["--max-upload-bytes", str(MAX_UPLOAD_BYTES), "--no-sample"]
    started = launch(args)
    process = started.process
    yield started
    process.send_signal(2)  # Ctrl-C
    remaining = process.communicate(timeout=30)[0]
    assert process.returncode == 0, remaining
    assert "sluice local: stopped" in remaining


def sign_in(
    system: Launched, username: str = DEMO_USER, password: str = DEMO_PASSWORD
) -> dict[str, str]:
    answer = requests.post(
        f"{system.api}/auth/token", json={"username": username, "password": password}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['id_token']}"}


def second_user(system: Launched) -> dict[str, str]:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=system.aws,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pool = cognito.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="other", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="other", Password="other-pass-1", Permanent=True
    )
    return sign_in(system, "other", "other-pass-1")


def upload(ticket: dict[str, Any], body: bytes) -> requests.Response:
    return requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("data.csv", body)}, timeout=60
    )


def settled(system: Launched, headers: dict[str, str], dataset_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        dataset: dict[str, Any] = requests.get(
            f"{system.api}/datasets/{dataset_id}", headers=headers, timeout=30
        ).json()
        return dataset if dataset["status"] in ("ready", "failed") else None

    return wait_for(probe, 90, "the upload to be ingested")


def test_sign_in_create_upload_and_poll_until_ready(system: Launched) -> None:
    headers = sign_in(system)
    created = requests.post(
        f"{system.api}/datasets",
        json={"name": "e2e", "path": "tests/e2e"},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201
    rows = "".join(f'{i},"name, {i}",{i * 1.5}\r\n' for i in range(1000))
    body = ("id,name,score\r\n" + rows).encode()
    assert upload(created.json()["upload"], body).status_code == 204
    dataset = settled(system, headers, created.json()["dataset"]["id"])
    assert (dataset["status"], dataset["row_count"]) == ("ready", 1000)
    assert [(c["name"], c["effective_type"]) for c in dataset["columns"]] == [
        ("id", "int16"),
        ("name", "string"),
        ("score", "float32"),
    ]


def test_a_file_uploaded_in_parts_through_the_gateway_is_ingested(system: Launched) -> None:
    headers = sign_in(system)
    created = requests.post(
        f"{system.api}/datasets", json={"name": "parts"}, headers=headers, timeout=30
    ).json()
    dataset_id = created["dataset"]["id"]
    body = ("n,word\n" + "".join(f"{i},w{i}\n" for i in range(500))).encode()
    ticket = requests.post(
        f"{system.api}/datasets/{dataset_id}/multipart-upload",
        json={"bytes": len(body)},
        headers=headers,
        timeout=30,
    )
    assert ticket.status_code == 201, ticket.text
    (part,) = ticket.json()["parts"]
    put = requests.put(part["url"], data=body, timeout=30)
    assert put.status_code == 200
    completed = requests.post(
        f"{system.api}/datasets/{dataset_id}/multipart-upload/complete",
        json={
            "upload_id": ticket.json()["upload_id"],
            "parts": [{"number": 1, "etag": put.headers["ETag"]}],
        },
        headers=headers,
        timeout=30,
    )
    assert completed.status_code == 200, completed.text
    dataset = settled(system, headers, dataset_id)
    assert (dataset["status"], dataset["row_count"]) == ("ready", 500)


def test_preferred_type_then_rows_then_download(system: Launched) -> None:
    headers = sign_in(system)
    created = requests.post(
        f"{system.api}/datasets", json={"name": "typed"}, headers=headers, timeout=30
    )
    dataset_id = created.json()["dataset"]["id"]
    body = b"code,when\n" + b"".join(
        f"{i},2024-05-{i % 28 + 1:02d}\n".encode() for i in range(3000)
    )
    upload(created.json()["upload"], body)
    settled(system, headers, dataset_id)
    answer = requests.put(
        f"{system.api}/datasets/{dataset_id}/preferred-types",
        json={"types": {"code": "string"}},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 202
    dataset = settled(system, headers, dataset_id)
    assert [c["effective_type"] for c in dataset["columns"]] == ["string", "datetime"]
    page = requests.get(
        f"{system.api}/datasets/{dataset_id}/rows",
        params={"start_row": 2000, "num_rows": 10},
        headers=headers,
        timeout=30,
    ).json()
    assert [row["code"] for row in page["rows"]] == [str(i) for i in range(2000, 2010)]
    assert page["rows"][0]["when"] == "2024-05-13T00:00:00"

    def ready_download() -> dict[str, Any] | None:
        answer = requests.get(
            f"{system.api}/datasets/{dataset_id}/download",
            params={"format": "csv"},
            headers=headers,
            timeout=30,
        )
        return answer.json() if answer.status_code == 200 else None

    link = wait_for(ready_download, 60, "the download")
    text = requests.get(link["url"], timeout=30).text
    assert text.splitlines()[0] == '"code","when"'
    assert len(text.splitlines()) == 3001


def test_another_user_gets_404_on_the_dataset(system: Launched) -> None:
    headers = sign_in(system)
    dataset_id = requests.post(
        f"{system.api}/datasets", json={"name": "mine"}, headers=headers, timeout=30
    ).json()["dataset"]["id"]
    answer = requests.get(
        f"{system.api}/datasets/{dataset_id}", headers=second_user(system), timeout=30
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_an_oversized_upload_is_refused_by_s3_and_the_dataset_waits(system: Launched) -> None:
    headers = sign_in(system)
    created = requests.post(
        f"{system.api}/datasets", json={"name": "big"}, headers=headers, timeout=30
    ).json()
    body = b"a\n" + b"12345\n" * (MAX_UPLOAD_BYTES // 6 + 1)
    # The policy's content-length-range, checked by the local S3 as by S3
    # (patches/s3_post_policy.py); on_upload's own check of a file that lands too large
    # anyway is tests/integration/test_ingest_pipeline.py's.
    answer = upload(created["upload"], body)
    assert answer.status_code == 400
    assert b"<Code>EntityTooLarge</Code>" in answer.content
    dataset = requests.get(
        f"{system.api}/datasets/{created['dataset']['id']}", headers=headers, timeout=30
    ).json()
    assert dataset["status"] == "awaiting_upload"


def test_routes_without_a_token_are_401(system: Launched) -> None:
    answer = requests.get(f"{system.api}/datasets", timeout=30)
    assert answer.status_code == 401
    assert answer.json() == {"error": {"code": "unauthorized", "message": "missing bearer token"}}


def test_a_malformed_token_is_401(system: Launched) -> None:
    answer = requests.get(
        f"{system.api}/datasets", headers={"Authorization": "Bearer not.a.jwt"}, timeout=30
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "malformed token"


def test_an_expired_token_is_401(system: Launched) -> None:
    # Re-sign the demo user's token with moto's own key, with an expiry in the past.
    token = sign_in(system)["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    from moto.utilities.utils import load_resource

    key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    expired = jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})
    answer = requests.get(
        f"{system.api}/datasets", headers={"Authorization": f"Bearer {expired}"}, timeout=30
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "token expired"


def test_an_access_token_is_401_as_behind_the_cognito_authorizer(system: Launched) -> None:
    tokens = requests.post(
        f"{system.api}/auth/token",
        json={"username": DEMO_USER, "password": DEMO_PASSWORD},
        timeout=30,
    ).json()
    answer = requests.get(
        f"{system.api}/datasets",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == (
        "access tokens are not accepted here; send the id_token"
    )


def test_docs_render_and_openapi_is_served(system: Launched) -> None:
    docs = requests.get(f"{system.api}/docs", timeout=30)
    assert docs.status_code == 200
    assert "text/html" in docs.headers["Content-Type"]
    assert "SwaggerUIBundle" in docs.text
    spec = requests.get(f"{system.api}/openapi.json", timeout=30).json()
    assert "/datasets" in spec["paths"]


def test_the_web_console_is_served_without_a_token(system: Launched) -> None:
    page = requests.get(f"{system.api}/", timeout=30)
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert '<base href="/">' in page.text
    chart = requests.get(f"{system.api}/console/vendor/chart.umd.min.js", timeout=30)
    assert chart.status_code == 200 and "Chart" in chart.text
    assert requests.get(f"{system.api}/console/../datasets", timeout=30).status_code == 401


def step_workers(pid: int) -> list[int]:
    """The local system's step workers: the children of its forkserver, which forks them,
    that run at the steps' lower priority (the API's workers are forked there too)."""
    parent_of: dict[int, int] = {}
    niceness: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            process = int(stat.parent.name)
            # Fields 4 (the parent) and 19 (niceness) of proc(5), counted from the state.
            parent_of[process], niceness[process] = int(fields[1]), int(fields[16])
    children = [child for child, parent in parent_of.items() if parent == pid]
    workers = (w for c in children for w, parent in parent_of.items() if parent == c)
    return sorted(w for w in workers if niceness[w] > niceness[pid])


def test_a_worker_killed_mid_ingest_leaves_the_run_right_and_the_next_upload_ingested(
    system: Launched,
) -> None:
    headers = sign_in(system)
    rows = "".join(f"{i},word {i},{i / 4}\n" for i in range(2000))
    body = ("n,word,share\n" + rows).encode()  # ~40 KB: about 20 chunks of 2 KB
    created = requests.post(
        f"{system.api}/datasets", json={"name": "crash"}, headers=headers, timeout=30
    ).json()
    workers = step_workers(system.process.pid)
    assert len(workers) == 2, workers  # one per core
    assert upload(created["upload"], body).status_code == 204

    def ingesting() -> bool | None:
        dataset = requests.get(
            f"{system.api}/datasets/{created['dataset']['id']}", headers=headers, timeout=30
        ).json()
        return dataset["status"] != "awaiting_upload" or None

    wait_for(ingesting, 30, "the ingest to start")
    os.kill(workers[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
    dataset = settled(system, headers, created["dataset"]["id"])
    assert (dataset["status"], dataset["row_count"]) == ("ready", 2000)
    assert workers[0] not in step_workers(system.process.pid)

    again = requests.post(
        f"{system.api}/datasets", json={"name": "after the crash"}, headers=headers, timeout=30
    ).json()
    assert upload(again["upload"], b"a,b\n1,2\n").status_code == 204
    after = settled(system, headers, again["dataset"]["id"])
    assert (after["status"], after["row_count"]) == ("ready", 1)
