"""The ``sluice`` command against the local system (issue 22, items 1 and 5): signing in,
uploads by presigned POST and in parts (an interrupted one resumed), progress, ``--json``
and errors. The commands run in this process (click's runner) and talk HTTP to the
local system's gateway, as from a terminal."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sluice.cli.main import app
from sluice.client import Client, ClientError
from sluice.client import uploads as client_uploads
from sluice.local.system import DEMO_PASSWORD, DEMO_USER

from tests.integration.training_support import classifier
from tests.integration.training_support import csv_rows as training_csv

PART_BYTES = 5 * 1024 * 1024  # S3's smallest part


def sales_csv(rows: int) -> str:
    lines = ["id,amount,region,paid"]
    lines += [f"{i},{i * 7 % 1000}.5,{('north', 'south')[i % 2]},{i % 3 == 0}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def test_login_keeps_the_tokens_readable_by_the_user_alone(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    tokens = tmp_path / "config" / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert all(
        set(entry) >= {"id_token", "refresh_token"}
        for entry in json.loads(tokens.read_text()).values()
    )


def test_an_expired_id_token_is_renewed_with_the_refresh_token(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    tokens = tmp_path / "config" / "tokens.json"
    stored = json.loads(tokens.read_text())
    ((url, entry),) = stored.items()
    entry["expires_at"] = 0
    tokens.write_text(json.dumps({url: entry}))
    assert sluice("ls").exit_code == 0
    renewed = json.loads(tokens.read_text())[url]
    assert renewed["expires_at"] > 0 and renewed["id_token"] != entry["id_token"]
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600


def test_a_small_file_goes_by_presigned_post_and_is_followed_until_ready(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "sales.csv"
    source.write_text(sales_csv(200))
    uploaded = sluice("upload", str(source), "--path", "cli/small", "--na-values", "NA,-")
    assert uploaded.exit_code == 0, uploaded.output
    assert "(POST)" in uploaded.stderr and "ingest" in uploaded.stderr  # both bars
    assert "ready, 200 rows" in uploaded.stdout
    assert "amount" in uploaded.stdout and "float32" in uploaded.stdout  # the schema table
    listed = json.loads(sluice("ls", "cli", "--json").stdout)
    (folder,) = listed["children"]
    (entry,) = folder["children"]
    assert (entry["name"], entry["status"], entry["row_count"]) == ("sales", "ready", 200)
    shown = json.loads(sluice("show", entry["id"], "--json").stdout)
    assert [c["name"] for c in shown["columns"]] == ["id", "amount", "region", "paid"]
    rows = json.loads(sluice("rows", entry["id"], "--start", "10", "--num", "2", "--json").stdout)
    assert [row["id"] for row in rows["rows"]] == [10, 11]


def test_a_task_runs_and_its_result_is_downloaded(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "regions.csv"
    source.write_text(sales_csv(300))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    started = sluice(
        "task",
        dataset["id"],
        "--group-by",
        "region",
        "--agg",
        "amount:sum:total",
        "--agg",
        "*:count",
        "--json",
    )
    assert started.exit_code == 0, started.output
    task = json.loads(started.stdout)
    assert task["status"] == "succeeded"
    fetched = sluice("result", task["id"], "--out", str(tmp_path / "out"), "--json")
    assert fetched.exit_code == 0, fetched.output
    (file,) = json.loads(fetched.stdout)["files"]
    lines = Path(file["path"]).read_text().splitlines()
    assert len(lines) == 3 and "region" in lines[0]


def test_tasks_lists_a_datasets_tasks_with_their_rows_and_files(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "regions.csv"
    source.write_text(sales_csv(30))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    started = sluice("task", dataset["id"], "--group-by", "region", "--agg", "*:count", "--json")
    task = json.loads(started.stdout)
    listed = json.loads(sluice("tasks", "--dataset", dataset["id"], "--json").stdout)
    assert [(item["id"], item["status"]) for item in listed] == [(task["id"], "succeeded")]
    (row,) = [line for line in sluice("tasks").stdout.splitlines() if task["id"] in line]
    assert row.split()[1:6] == ["succeeded", "100%", "2", "1", dataset["id"]]


def test_a_4xx_is_a_message_and_exit_code_1(sluice: Callable[..., Result]) -> None:
    missing = sluice("show", "0" * 32)
    assert missing.exit_code == 1
    assert "error: dataset 0000" in missing.stderr and "not found (HTTP 404" in missing.stderr
    assert "Traceback" not in missing.output
    as_json = sluice("show", "0" * 32, "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["status"] == 404


def test_a_command_without_a_sign_in_says_to_log_in(local: Any, tmp_path: Path) -> None:
    env = {"SLUICE_API_URL": local.api_url, "SLUICE_CONFIG_DIR": str(tmp_path / "none")}
    result = CliRunner().invoke(app, ["ls"], env=env)
    assert result.exit_code == 1
    assert "run `sluice login`" in result.stderr


@pytest.fixture
def big_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few MiB: over S3's smallest part; ingested in 4 MiB chunks."""
    monkeypatch.setenv("SLUICE_MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", str(4 * 1024 * 1024))


@pytest.mark.usefixtures("big_files")
def test_an_upload_in_parts_interrupted_resumes_with_only_the_missing_parts(
    sluice: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big.csv"
    rows = 0
    with source.open("w") as out:
        out.write("id,amount,city\n")
        while out.tell() < 2 * PART_BYTES + 1000:  # three parts, the last a short one
            out.write(f"{rows},{rows * 7 % 1000}.5,city {rows % 97}\n")
            rows += 1
    real_put = client_uploads._put_part
    sent: list[int] = []

    def put_then_fail(url: str, data: bytes, *args: Any) -> str:
        if len(sent) == 1:  # the connection drops during the second part
            raise ClientError("connection reset by peer")
        sent.append(len(data))
        return real_put(url, data, *args)

    monkeypatch.setattr(client_uploads, "_put_part", put_then_fail)
    args = ("upload", str(source), "--part-bytes", str(PART_BYTES), "--parallel", "1")
    interrupted = sluice(*args)
    assert interrupted.exit_code == 1
    assert "upload interrupted after 1 of 3 parts" in interrupted.stderr
    assert "run the same upload again" in interrupted.stderr

    resent: list[int] = []

    def put(url: str, data: bytes, *args: Any) -> str:
        resent.append(len(data))
        return real_put(url, data, *args)

    monkeypatch.setattr(client_uploads, "_put_part", put)
    resumed = sluice(*args, "--json")
    assert resumed.exit_code == 0, resumed.output
    assert resent == [PART_BYTES, source.stat().st_size - 2 * PART_BYTES]  # parts 2 and 3
    dataset = json.loads(resumed.stdout)
    assert (dataset["status"], dataset["row_count"]) == ("ready", rows)
    assert dataset["source"]["bytes"] == source.stat().st_size
    named = [
        d
        for d in json.loads(sluice("ls", "--json").stdout).get("children", [])
        if d["name"] == "big"
    ]
    assert len(named) == 1  # the same dataset, not a second one


@pytest.mark.usefixtures("big_files")
def test_progress_shows_bytes_rate_and_the_parts(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "parts.csv"
    source.write_text(sales_csv(250_000))
    assert source.stat().st_size > PART_BYTES
    uploaded = sluice("upload", str(source), "--part-bytes", str(PART_BYTES))
    assert uploaded.exit_code == 0, uploaded.output
    assert "(2 parts)" in uploaded.stderr
    assert "MB/s" in uploaded.stderr and "MB" in uploaded.stderr  # bytes and rate
    assert "100%" in uploaded.stderr and "ready" in uploaded.stderr  # the ingest's bar


def test_a_session_runs_an_operation_and_shows_its_output(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "ops.csv"
    source.write_text(sales_csv(120))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    created = json.loads(
        sluice("session", "create", "March", "--dataset", dataset["id"], "--json").stdout
    )
    catalogue = json.loads(sluice("op", "ls", "--json").stdout)
    assert "describe" in {item["name"] for item in catalogue}
    ran = sluice(
        "op", "run", created["id"], "describe", f"dataset=dataset:{dataset['id']}", "top=2"
    )
    assert ran.exit_code == 0, ran.output
    assert "describe: COMPLETED" in ran.stdout and '"rows": 120' in ran.stdout
    shown = json.loads(sluice("session", "show", created["id"], "--json").stdout)
    assert [op["name"] for op in shown["operations"]] == ["describe"]
    refused = sluice("op", "run", created["id"], "describe", "dataset=dataset:" + "0" * 32)
    assert refused.exit_code == 1 and "HTTP 422" in refused.stderr


def test_types_then_a_download_of_the_typed_file(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "typed.csv"
    source.write_text(sales_csv(150))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    typed = sluice("types", dataset["id"], "amount=float64", "region=string", "--json")
    assert typed.exit_code == 0, typed.output
    effective = {c["name"]: c["effective_type"] for c in json.loads(typed.stdout)["columns"]}
    assert (effective["amount"], effective["region"]) == ("float64", "string")
    target = tmp_path / "typed-out.csv"
    fetched = sluice("download", dataset["id"], "--format", "csv", "--out", str(target), "--json")
    assert fetched.exit_code == 0, fetched.output
    assert json.loads(fetched.stdout)["bytes"] == target.stat().st_size
    assert len(target.read_text().splitlines()) == 151
    wrong = sluice("types", dataset["id"], "amount=nonsense")
    assert wrong.exit_code == 1 and "HTTP 422" in wrong.stderr


@pytest.mark.usefixtures("big_files")
def test_an_interrupted_upload_whose_urls_expired_resumes_with_fresh_ones(
    sluice: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "late.csv"
    source.write_text(sales_csv(260_000))
    assert PART_BYTES < source.stat().st_size < 2 * PART_BYTES
    real_put = client_uploads._put_part
    urls: list[str] = []

    def put_then_fail(url: str, data: bytes, *args: Any) -> str:
        if urls:
            raise ClientError("connection reset by peer")
        urls.append(url)
        return real_put(url, data, *args)

    monkeypatch.setattr(client_uploads, "_put_part", put_then_fail)
    args = ("upload", str(source), "--part-bytes", str(PART_BYTES), "--parallel", "1")
    assert sluice(*args).exit_code == 1
    (kept,) = (tmp_path / "config" / "uploads").glob("*.json")
    state = json.loads(kept.read_text())
    # An hour later: the kept URLs are past their expiry (here: lead nowhere).
    expired = [{**part, "url": "http://127.0.0.1:9/expired"} for part in state["parts"]]
    kept.write_text(json.dumps({**state, "expires_at": 0, "parts": expired}))

    def put(url: str, data: bytes, *args: Any) -> str:
        urls.append(url)
        return real_put(url, data, *args)

    monkeypatch.setattr(client_uploads, "_put_part", put)
    resumed = sluice(*args, "--json")
    assert resumed.exit_code == 0, resumed.output
    assert len(urls) == 2  # part 1 once, then part 2 alone
    assert "/sluice-uploads/" in urls[1]  # presigned again
    assert json.loads(resumed.stdout)["row_count"] == 260_000


def test_train_prints_a_line_per_epoch_jobs_lists_it_and_predict_makes_a_dataset(
    sluice: Callable[..., Result], local: Any, tmp_path: Path
) -> None:
    source = tmp_path / "learn.csv"
    source.write_bytes(training_csv(200))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    client = Client.sign_in(local.api_url, DEMO_USER, DEMO_PASSWORD)
    graph = client.http.request("POST", "/networks/graphs", classifier())
    params = ("--param", "epochs=2", "--param", "loss=binary_crossentropy")
    trained = sluice(
        "train", graph["id"], "--dataset", dataset["id"], "--x", "a,b,c", "--y", "label", *params
    )
    assert trained.exit_code == 0, trained.output
    assert [
        line.split(":")[0] for line in trained.stderr.splitlines() if line.startswith("epoch")
    ] == [
        "epoch 1",
        "epoch 2",
    ]
    (job_id,) = re.findall(r"training job ([0-9a-f]{32}): succeeded", trained.stdout)
    listed = json.loads(sluice("jobs", "--graph", graph["id"], "--json").stdout)
    assert [(job["id"], job["status"], job["progress"]) for job in listed] == [
        (job_id, "succeeded", 1.0)
    ]
    assert job_id in sluice("jobs", "--status", "succeeded").stdout
    predicted = sluice("predict", job_id, "--dataset", dataset["id"], "--keep", "name", "--json")
    assert predicted.exit_code == 0, predicted.output
    job = json.loads(predicted.stdout)
    assert (job["status"], job["rows"]) == ("succeeded", 200)
    rows = client.http.request(
        "GET", f"/datasets/{job['output_dataset_id']}/rows", params={"num_rows": 200}
    )
    assert rows["columns"][:2] == ["name", "prediction"]
    assert [row["name"] for row in rows["rows"]] == [f"row{i}" for i in range(200)]
