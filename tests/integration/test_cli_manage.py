"""``sluice mv``, ``rm``, ``import-model``, ``graph``, ``tasks cancel|rm`` and ``jobs
cancel|rm`` against the local system: a dataset moved, renamed and deleted, a Keras model
file made a stored graph, graphs listed, shown and deleted, and a running task and
training job stopped and deleted, as from a terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sluice.client import Client
from sluice.local.system import DEMO_PASSWORD, DEMO_USER
from sluice.tasks import steps_partial

from tests.integration.training_support import classifier
from tests.integration.training_support import csv_rows as training_csv
from tests.model_files import MLP, save
from tests.support import hold


@pytest.fixture
def client(local: Any) -> Client:
    return Client.sign_in(local.api_url, DEMO_USER, DEMO_PASSWORD)


def new_dataset(client: Client, name: str) -> str:
    """A dataset waiting for its file: enough to move, rename or delete."""
    return str(client.datasets.create(name)["dataset"]["id"])


def test_mv_moves_and_renames_a_dataset(sluice: Callable[..., Result], client: Client) -> None:
    dataset_id = new_dataset(client, "draft")
    moved = sluice("mv", dataset_id, "reports/2026", "--name", "Q4 sales")
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.strip() == f"dataset {dataset_id} 'Q4 sales' in reports/2026"
    stored = client.datasets.get(dataset_id)
    assert (stored["name"], stored["path"]) == ("Q4 sales", "reports/2026")
    tree = json.loads(sluice("ls", "reports", "--json").stdout)
    (folder,) = tree["children"]
    assert [child["id"] for child in folder["children"]] == [dataset_id]


def test_mv_to_slash_moves_a_dataset_to_the_top_keeping_its_name(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = new_dataset(client, "kept name")
    assert sluice("mv", dataset_id, "deep/down").exit_code == 0
    moved = sluice("mv", dataset_id, "/", "--json")
    assert moved.exit_code == 0, moved.output
    answer = json.loads(moved.stdout)
    assert (answer["name"], answer["path"]) == ("kept name", "")


def test_mv_with_neither_a_folder_nor_a_name_says_so_and_exits_1(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = new_dataset(client, "untouched")
    result = sluice("mv", dataset_id)
    assert result.exit_code == 1
    assert "nothing to change: give a FOLDER, --name, or both" in result.stderr
    assert client.datasets.get(dataset_id)["name"] == "untouched"


def test_mv_to_a_folder_the_api_refuses_is_its_422_message(
    sluice: Callable[..., Result], client: Client
) -> None:
    dataset_id = new_dataset(client, "stays")
    result = sluice("mv", dataset_id, "a/../b")
    assert result.exit_code == 1
    assert "folder segment '..'" in result.stderr and "(HTTP 422" in result.stderr
    assert client.datasets.get(dataset_id)["path"] == ""


def test_rm_deletes_every_dataset_named(sluice: Callable[..., Result], client: Client) -> None:
    first, second = new_dataset(client, "one"), new_dataset(client, "two")
    removed = sluice("rm", first, second, "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout) == {"deleted": [first, second]}
    for dataset_id in (first, second):
        gone = sluice("show", dataset_id)
        assert gone.exit_code == 1 and "(HTTP 404" in gone.stderr


def test_rm_stops_at_an_id_that_is_not_there_having_deleted_those_before(
    sluice: Callable[..., Result], client: Client
) -> None:
    first, last = new_dataset(client, "before"), new_dataset(client, "after")
    removed = sluice("rm", first, "0" * 32, last)
    assert removed.exit_code == 1
    assert f"deleted dataset {first}" in removed.stderr and "(HTTP 404" in removed.stderr
    assert sluice("show", first).exit_code == 1
    assert client.datasets.get(last)["name"] == "after"


def test_import_model_stores_the_graph_and_prints_its_id(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    model = tmp_path / "mlp.keras"
    parameters = save(MLP, model)
    imported = sluice("import-model", str(model), "--name", "from the cli")
    assert imported.exit_code == 0, imported.output
    assert "upload mlp.keras" in imported.stderr  # the bar
    line = imported.stdout.strip()
    assert line.startswith(f"imported mlp.keras: {parameters:,} parameters, graph ")
    graph_id = line.rsplit(" ", 1)[1]
    graph = client.http.request("GET", f"/networks/graphs/{graph_id}")
    assert (graph["name"], len(graph["nodes"])) == ("from the cli", len(MLP.nodes))
    compiled = client.http.request("POST", f"/networks/graphs/{graph_id}/compile")
    assert compiled["parameter_count"] == parameters


def test_import_model_with_no_graph_keeps_it_in_the_job_only(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    model = tmp_path / "mlp.h5"
    save(MLP, model)
    imported = sluice("import-model", str(model), "--no-graph", "--json")
    assert imported.exit_code == 0, imported.output
    job = json.loads(imported.stdout)
    assert (job["status"], job.get("graph_id")) == ("succeeded", None)
    assert len(job["graph_payload"]["nodes"]) == len(MLP.nodes)


def test_import_model_of_a_file_that_is_no_model_exits_1_with_the_reason(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.keras"
    bogus.write_bytes(b"no zip, no model")
    imported = sluice("import-model", str(bogus))
    assert imported.exit_code == 1
    assert imported.stdout.startswith("import job ") and "failed: " in imported.stdout
    assert "(not_a_model)" in imported.stdout


def test_graph_ls_lists_a_stored_graph_with_its_size(
    sluice: Callable[..., Result], client: Client
) -> None:
    stored = client.http.request("POST", "/networks/graphs", {**classifier(), "name": "listed"})
    listed = json.loads(sluice("graph", "ls", "--json").stdout)
    (found,) = [graph for graph in listed if graph["id"] == stored["id"]]
    assert (found["name"], len(found["nodes"]), len(found["edges"])) == ("listed", 3, 2)
    line = next(row for row in sluice("graph", "ls").stdout.splitlines() if stored["id"] in row)
    assert line.split()[1:4] == ["listed", "3", "2"]


def test_graph_show_gives_the_nodes_their_inputs_and_keras_parameter_count(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    parameters = save(MLP, tmp_path / "mlp.keras")  # Keras's own count of the same graph
    stored = client.http.request("POST", "/networks/graphs", MLP.model_dump(mode="json"))
    shown = sluice("graph", "show", stored["id"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"graph {stored['id']} {MLP.name!r}: {parameters:,} parameters"
    assert [line.split()[0] for line in lines[2:]] == [node.id for node in MLP.nodes]


def test_graph_rm_deletes_the_graphs_named(sluice: Callable[..., Result], client: Client) -> None:
    stored = client.http.request("POST", "/networks/graphs", classifier())
    removed = sluice("graph", "rm", stored["id"])
    assert removed.exit_code == 0 and f"deleted graph {stored['id']}" in removed.stderr
    gone = sluice("graph", "show", stored["id"])
    assert gone.exit_code == 1 and "(HTTP 404" in gone.stderr


def test_tasks_cancel_stops_a_running_task_and_tasks_rm_deletes_it(
    sluice: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "regions.csv"
    source.write_text("region,qty\n" + "".join(f"r{i % 3},{i}\n" for i in range(60)))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    gate = hold(monkeypatch, steps_partial, "partial")  # the task stays running
    started = sluice(
        "task", dataset["id"], "--group-by", "region", "--agg", "*:count", "--no-wait", "--json"
    )
    task_id = json.loads(started.stdout)["id"]
    cancelled = sluice("tasks", "cancel", task_id, "--json")
    gate.set()
    assert cancelled.exit_code == 0, cancelled.output
    assert [task["status"] for task in json.loads(cancelled.stdout)] == ["cancelled"]
    again = sluice("tasks", "cancel", task_id)
    assert again.exit_code == 1 and "(HTTP 409" in again.stderr  # it has ended
    assert sluice("tasks", "rm", task_id).exit_code == 0
    assert json.loads(sluice("tasks", "--dataset", dataset["id"], "--json").stdout) == []


def test_jobs_cancel_stops_a_training_job_and_jobs_rm_deletes_it(
    sluice: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    source = tmp_path / "learn.csv"
    source.write_bytes(training_csv(200, seed=7))  # a file no other test uploads: no duplicate
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    graph = client.http.request("POST", "/networks/graphs", classifier())
    params = ("--param", "epochs=500", "--param", "loss=binary_crossentropy", "--no-wait", "--json")
    started = sluice(
        "train", graph["id"], "--dataset", dataset["id"], "--x", "a,b,c", "--y", "label", *params
    )
    job_id = json.loads(started.stdout)["id"]
    cancelled = sluice("jobs", "cancel", job_id, "--json")
    assert cancelled.exit_code == 0, cancelled.output
    assert [job["status"] for job in json.loads(cancelled.stdout)] == ["cancelled"]
    assert sluice("jobs", "rm", job_id).exit_code == 0
    assert json.loads(sluice("jobs", "--graph", graph["id"], "--json").stdout) == []


def test_op_rm_deletes_a_sessions_operations_all_or_none(
    sluice: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "ops.csv"
    source.write_text("id,qty\n" + "".join(f"{i},{i * 3}\n" for i in range(40)))
    dataset = json.loads(sluice("upload", str(source), "--json").stdout)
    session = json.loads(
        sluice("session", "create", "cleanup", "--dataset", dataset["id"], "--json").stdout
    )
    ran = sluice(
        "op", "run", session["id"], "describe", f"dataset=dataset:{dataset['id']}", "--json"
    )
    operation_id = json.loads(ran.stdout)["id"]
    refused = sluice("op", "rm", session["id"], operation_id, "0" * 32)
    assert refused.exit_code == 1 and "(HTTP 404" in refused.stderr
    kept = json.loads(sluice("session", "show", session["id"], "--json").stdout)["operations"]
    assert [op["id"] for op in kept] == [operation_id]  # none deleted
    removed = sluice("op", "rm", session["id"], operation_id, "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout) == {"deleted": [operation_id]}
    shown = json.loads(sluice("session", "show", session["id"], "--json").stdout)
    assert shown["operations"] == []


def test_the_clients_list_of_datasets_holds_every_one_made(client: Client) -> None:
    made = {new_dataset(client, f"listed {n}") for n in range(3)}
    assert made <= {dataset["id"] for dataset in client.datasets.all()}
