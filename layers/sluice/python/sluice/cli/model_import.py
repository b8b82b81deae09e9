"""``sluice import-model FILE``: a Keras model file made a graph, to train."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from sluice.cli.common import Output, client_options, signed_in


def _ended_line(job: dict[str, Any], file: Path) -> str:
    if job["status"] == "succeeded":
        line = f"imported {file.name}: {job.get('parameter_count') or 0:,} parameters"
        if job.get("graph_id"):
            line += f", graph {job['graph_id']}"
        return line
    line = f"import job {job['id']}: {job['status']}"
    error = job.get("error") or {}
    if error:
        line += f": {error.get('message')} ({error.get('code')})"
    return line


@click.command("import-model")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "graph_name", default=None, help="The graph's name (default: the model's).")
@click.option("--no-graph", is_flag=True, help="Keep the graph in the job only; store none.")
@click.option("--no-wait", is_flag=True, help="Send the file, print the job and return.")
@client_options
def import_model(
    file: Path,
    graph_name: str | None,
    no_graph: bool,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Import a Keras model (.keras, .h5, or a .zip holding one) as a graph: the file goes
    straight to S3, the import runs, and the stored graph's id is printed (for `sluice
    train GRAPH`). A file the import refuses is named with the reason, and exits 1."""
    client = signed_in(api_url)
    with out.transfer_bar() as bar:
        shown = bar.add_task(f"upload {file.name}", total=None)
        job = client.imports.send(
            file,
            graph_name,
            create_graph=not no_graph,
            on_bytes=lambda count: bar.advance(shown, count),
            on_size=lambda size: bar.update(shown, total=size),
        )
    out.note(f"import job {job['id']}: {job['status']}")
    if not no_wait:
        with out.err.status("importing", spinner="dots") if not out.json else nullcontext():
            job = client.imports.wait(job["id"])
    if out.json:
        out.data(job)
    else:
        out.out.print(_ended_line(job, file), highlight=False)
    if not no_wait and job["status"] != "succeeded":
        raise SystemExit(1)
