"""``sluice upload`` with a file's dialect and encoding declared, and ``sluice infer``
against the local system: a file read again with other settings, stopped, reset and
shown, as from a terminal."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sluice.client import Client
from sluice.local.system import DEMO_PASSWORD, DEMO_USER


@pytest.fixture
def client(local: Any) -> Client:
    return Client.sign_in(local.api_url, DEMO_USER, DEMO_PASSWORD)


def latin1_file(folder: Path) -> Path:
    """A semicolon file with decimal commas, in latin-1 (its content unique: the demo user
    holds the files of every test, and an identical one would be a duplicate)."""
    tag = uuid.uuid4().hex[:8]
    text = f"Ort;Preis;tag\nZürich;3,5;{tag}\nGenève;12,25;{tag}\nMünchen;;{tag}\n"
    path = folder / f"legacy-{tag}.csv"
    path.write_bytes(text.encode("latin-1"))
    return path


def types_of(dataset: dict[str, Any]) -> dict[str, str]:
    return {column["name"]: column["effective_type"] for column in dataset["columns"]}


def test_upload_takes_the_files_delimiter_decimal_and_encoding(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    path = latin1_file(tmp_path)
    uploaded = sluice(
        "upload", str(path), "--delimiter", "semicolon", "--decimal", ",",
        "--encoding", "latin-1", "--json",
    )  # fmt: skip
    assert uploaded.exit_code == 0, uploaded.output
    dataset = json.loads(uploaded.stdout)
    assert dataset["status"] == "ready"
    assert dataset["dialect"]["delimiter"] == ";"
    assert types_of(dataset)["Preis"] == "float32"  # 3.5 and 12.25 are exact in float32
    rows = client.datasets.rows(dataset["id"], 0, 3)["rows"]
    assert [(row["Ort"], row["Preis"]) for row in rows] == [
        ("Zürich", 3.5),
        ("Genève", 12.25),
        ("München", None),
    ]


def test_infer_reads_a_failed_file_again_with_its_encoding_and_shows_the_schema(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    path = latin1_file(tmp_path)
    failed = sluice("upload", str(path))
    assert failed.exit_code == 1
    told = re.search(r"dataset (\w+) failed: line 2: the text is not valid UTF-8", failed.stderr)
    assert told, failed.stderr
    dataset_id = told.group(1)
    inferred = sluice("infer", dataset_id, "--encoding", "latin-1")
    assert inferred.exit_code == 0, inferred.output
    assert inferred.stdout.startswith(f"dataset {dataset_id} {path.stem!r}: ready, 3 rows")
    assert "Preis" in inferred.stdout
    stored = client.datasets.get(dataset_id)
    assert stored["settings"]["encoding"] == "iso8859-1"
    assert stored["dialect"]["delimiter"] == ";"


def test_infer_status_says_where_the_inference_stands(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    uploaded = sluice("upload", str(latin1_file(tmp_path)), "--encoding", "cp1252", "--json")
    dataset_id = json.loads(uploaded.stdout)["id"]
    shown = sluice("infer", dataset_id, "status")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.strip() == f"dataset {dataset_id}: ready (100%)"
    answer = json.loads(sluice("infer", dataset_id, "status", "--json").stdout)
    assert (answer["status"], answer["settings"]["encoding"]) == ("ready", "cp1252")


def test_infer_reset_forgets_the_schema_and_keeps_the_file(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    uploaded = sluice("upload", str(latin1_file(tmp_path)), "--encoding", "latin-1", "--json")
    dataset_id = json.loads(uploaded.stdout)["id"]
    reset = sluice("infer", dataset_id, "reset")
    assert reset.exit_code == 0, reset.output
    assert reset.stdout.strip() == f"dataset {dataset_id}: uploaded (0%)"
    again = sluice("infer", dataset_id, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["status"] == "ready"


def test_settings_with_a_command_other_than_start_are_a_usage_error(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = client.datasets.create("untouched")["dataset"]["id"]
    result = sluice("infer", dataset_id, "stop", "--encoding", "latin-1")
    assert result.exit_code == 1
    assert "settings go with start, not stop" in result.stderr


def test_stop_of_a_dataset_with_no_inference_running_is_the_apis_409(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = client.datasets.create("idle")["dataset"]["id"]
    result = sluice("infer", dataset_id, "stop")
    assert result.exit_code == 1
    assert "no inference is running (status awaiting_upload)" in result.stderr
    assert "(HTTP 409" in result.stderr


def test_a_delimiter_of_several_characters_is_refused_before_any_request(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = client.datasets.create("kept")["dataset"]["id"]
    result = sluice("infer", dataset_id, "--delimiter", "::")
    assert result.exit_code == 1
    assert "--delimiter '::': give one character" in result.stderr
    assert client.datasets.get(dataset_id)["status"] == "awaiting_upload"


def test_show_says_how_the_file_was_read(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    uploaded = sluice(
        "upload", str(latin1_file(tmp_path)), "--decimal", ",", "--encoding", "latin-1", "--json"
    )
    dataset_id = json.loads(uploaded.stdout)["id"]
    shown = sluice("show", dataset_id)
    assert shown.exit_code == 0, shown.output
    assert (
        "read as: semicolon (detected), quote '\"' (detected), decimal mark ',', "
        "encoding iso8859-1" in shown.stdout
    )
