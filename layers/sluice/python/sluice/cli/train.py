"""``sluice train GRAPH``: train a stored graph on a dataset, a live line per epoch;
``sluice predict JOB``: its model over a whole dataset, into a new one."""

from __future__ import annotations

from typing import Any

import click

from sluice.cli.common import Output, client_options, signed_in
from sluice.client.sessions import parse_inputs


def _epoch_line(epoch: dict[str, Any]) -> str:
    values = "  ".join(
        f"{key} {value:.4g}" if isinstance(value, int | float) else f"{key} {value}"
        for key, value in epoch.items()
        if key != "epoch"
    )
    return f"epoch {epoch.get('epoch')}: {values}"


@click.command()
@click.argument("graph_id", metavar="GRAPH")
@click.option("--dataset", "dataset_id", required=True, metavar="ID", help="A ready dataset.")
@click.option("--x", "x_columns", required=True, help="Input columns, comma-separated.")
@click.option("--y", "y_column", required=True, help="The label column.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any training parameter: epochs=30 loss=mse metrics='[\"accuracy\"]'. Repeat.",
)
@click.option("--no-wait", is_flag=True, help="Print the queued job and return.")
@client_options
def train(
    graph_id: str,
    dataset_id: str,
    x_columns: str,
    y_column: str,
    params: tuple[str, ...],
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Train GRAPH on a dataset; prints each epoch's loss and metrics as it ends."""
    client = signed_in(api_url)
    body = {
        "dataset_id": dataset_id,
        "x_columns": [column for column in x_columns.split(",") if column],
        "y_column": y_column,
        **parse_inputs(list(params)),
    }
    job = client.training.start(graph_id, body)
    out.note(f"training job {job['id']} queued")
    if not no_wait:
        printed = 0

        def polled(now: dict[str, Any]) -> None:
            # The record is written at most once a second, so an epoch or more may end
            # between two polls: those are read back from the history.
            nonlocal printed
            number = (now.get("epoch") or {}).get("epoch")
            if not isinstance(number, int):
                return
            history = now.get("history") or {}
            for n in range(printed + 1, number + 1):
                values = {k: v[n - 1] for k, v in history.items() if len(v) >= n}
                out.note(_epoch_line({"epoch": n, **values}))
            printed = max(printed, number)

        job = client.training.wait(job["id"], on_progress=polled)
    if out.json:
        out.data(job)
        return
    line = f"training job {job['id']}: {job['status']}"
    if job.get("evaluation"):
        line += "; test " + ", ".join(
            f"{k} {v:.4g}" for k, v in job["evaluation"].items() if v is not None
        )
    if job.get("error"):
        line += f": {job['error'].get('message')}"
    out.out.print(line, highlight=False)
    if job["status"] != "succeeded" and not no_wait:
        raise SystemExit(1)


@click.command()
@click.argument("job_id", metavar="TRAINING_JOB")
@click.option("--dataset", "dataset_id", required=True, metavar="ID", help="A ready dataset.")
@click.option(
    "--keep",
    "keep_columns",
    multiple=True,
    metavar="COL",
    help="A column of the dataset to copy beside the predictions (an id). Repeat.",
)
@click.option("--name", default=None, help="The predictions dataset's name.")
@click.option("--no-wait", is_flag=True, help="Print the queued job and return.")
@client_options
def predict(
    job_id: str,
    dataset_id: str,
    keep_columns: tuple[str, ...],
    name: str | None,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Predict every row of a dataset with TRAINING_JOB's model, into a new dataset."""
    client = signed_in(api_url)
    body: dict[str, Any] = {"dataset_id": dataset_id, "keep_columns": list(keep_columns)}
    if name:
        body["name"] = name
    job = client.training.predict(job_id, body)
    out.note(f"prediction job {job['id']} queued")
    if not no_wait:
        with out.fraction_bar() as bar:
            shown = bar.add_task(f"predict {job['id'][:8]}", total=1.0, status="")

            def polled(now: dict[str, Any]) -> None:
                bar.update(shown, completed=now.get("progress") or 0.0, status=now["status"])

            job = client.training.wait_prediction(job["id"], on_progress=polled)
    if out.json:
        out.data(job)
        return
    line = f"prediction job {job['id']}: {job['status']}"
    if job.get("output_dataset_id"):
        line += f", {job.get('rows') or 0:,} rows in dataset {job['output_dataset_id']}"
    if job.get("error"):
        line += f": {job['error'].get('message')}"
    out.out.print(line, highlight=False)
    if job["status"] != "succeeded" and not no_wait:
        raise SystemExit(1)
