"""``sluice graph ls|show|rm``: the stored graphs; ``sluice jobs [cancel|rm]``: the
training jobs."""

from __future__ import annotations

import click
from rich.table import Table

from sluice.cli.common import Output, client_options, each_in_order, removed, signed_in


@click.group()
def graph() -> None:
    """Stored graphs: list, show (with Keras's parameter count), delete."""


@graph.command("ls")
@client_options
def list_graphs(out: Output, api_url: str | None) -> None:
    """Your graphs."""
    graphs = list(signed_in(api_url).graphs.all())
    if out.json:
        out.data(graphs)
        return
    table = Table("id", "name", "nodes", "edges", "updated", box=None, pad_edge=False)
    for item in graphs:
        nodes, edges = str(len(item["nodes"])), str(len(item["edges"]))
        table.add_row(item["id"], item["name"], nodes, edges, item.get("updated_at", ""))
    out.out.print(table)


@graph.command("show")
@click.argument("graph_id", metavar="ID")
@client_options
def show(graph_id: str, out: Output, api_url: str | None) -> None:
    """A graph: its nodes in order, its edges, and its parameters as Keras counts them."""
    client = signed_in(api_url)
    found = client.graphs.get(graph_id)
    compiled = client.graphs.compile(graph_id)
    if out.json:
        out.data({**found, "compiled": compiled})
        return
    count = compiled["parameter_count"]
    out.out.print(f"graph {found['id']} {found['name']!r}: {count:,} parameters", highlight=False)
    inbound: dict[str, list[str]] = {}
    for edge in found["edges"]:
        inbound.setdefault(edge["target"], []).append(edge["source"])
    table = Table("node", "layer", "from", "parameters", box=None, pad_edge=False)
    for node in found["nodes"]:
        params = ", ".join(f"{key}={value}" for key, value in (node.get("params") or {}).items())
        table.add_row(node["id"], node["type"], ", ".join(inbound.get(node["id"], [])), params)
    out.out.print(table)


@graph.command("rm")
@click.argument("graph_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def remove(graph_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Delete graphs, in order: an ID that fails stops the rest, those before it gone."""
    removed(out, graph_ids, signed_in(api_url).graphs.delete, "graph")


@click.group(invoke_without_command=True)
@click.option("--graph", "graph_id", default=None, metavar="ID", help="One graph's jobs.")
@click.option("--status", default=None, help="queued, running, succeeded, failed or cancelled.")
@client_options
@click.pass_context
def jobs(
    ctx: click.Context, graph_id: str | None, status: str | None, out: Output, api_url: str | None
) -> None:
    """Your training jobs: status, progress, the graph and dataset they train on (`sluice
    jobs cancel|rm ID...` stops or deletes some)."""
    if ctx.invoked_subcommand is not None:
        return
    found = list(signed_in(api_url).training.all(graph_id, status))
    if out.json:
        out.data(found)
        return
    table = Table(
        "id", "status", "progress", "graph", "dataset", "created", box=None, pad_edge=False
    )
    for job in found:
        progress = f"{round(100 * (job.get('progress') or 0))}%"
        table.add_row(
            job["id"],
            job["status"],
            progress,
            job["graph_id"],
            job.get("dataset_id") or "",
            job.get("created_at", ""),
        )
    out.out.print(table)


@jobs.command("cancel")
@click.argument("job_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def cancel_jobs(job_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Stop queued or running training jobs, keeping the history so far (409 for one that
    ended)."""
    cancel = signed_in(api_url).training.cancel
    cancelled = each_in_order(out, job_ids, cancel, "training job {}: cancelled")
    if out.json:
        out.data(cancelled)


@jobs.command("rm")
@click.argument("job_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def remove_jobs(job_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Delete training jobs and their files (a running one is stopped), in order."""
    removed(out, job_ids, signed_in(api_url).training.delete, "training job")
