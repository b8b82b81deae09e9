"""``sluice session ...`` and ``sluice op ...``: data sessions and their operations."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from sluice.cli.common import Output, client_options, signed_in
from sluice.client.sessions import parse_inputs


@click.group()
def session() -> None:
    """Data sessions: the datasets you work on, and the operations run on them."""


@session.command("create")
@click.argument("name")
@click.option("--dataset", "datasets", multiple=True, metavar="ID", help="An input; repeat.")
@client_options
def create(name: str, datasets: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Create a session named NAME on the datasets given."""
    created = signed_in(api_url).sessions.create(name, list(datasets))
    if out.json:
        out.data(created)
    else:
        out.out.print(f"session {created['id']} {created['name']!r}", highlight=False)


@session.command("ls")
@client_options
def list_sessions(out: Output, api_url: str | None) -> None:
    """Your sessions."""
    sessions = list(signed_in(api_url).sessions.all())
    if out.json:
        out.data(sessions)
        return
    table = Table("id", "name", "inputs", box=None, pad_edge=False)
    for item in sessions:
        table.add_row(item["id"], item["name"], str(len(item.get("input_data") or [])))
    out.out.print(table)


@session.command("show")
@click.argument("session_id", metavar="ID")
@client_options
def show(session_id: str, out: Output, api_url: str | None) -> None:
    """A session: its inputs and its operations."""
    client = signed_in(api_url)
    found = client.sessions.get(session_id)
    operations = list(client.sessions.operations(session_id))
    if out.json:
        out.data({**found, "operations": operations})
        return
    out.out.print(f"session {found['id']} {found['name']!r}", highlight=False)
    for item in found.get("input_data") or []:
        out.out.print(f"  input {item['type']} {item['id']}", highlight=False)
    table = Table("operation", "name", "status", "progress", box=None, pad_edge=False)
    for op in operations:
        table.add_row(op["id"], op["name"], op["status"], f"{op.get('progress', 0):.0%}")
    out.out.print(table)


@session.command("delete")
@click.argument("session_id", metavar="ID")
@client_options
def delete(session_id: str, out: Output, api_url: str | None) -> None:
    """Delete a session and its operations."""
    signed_in(api_url).sessions.delete(session_id)
    if out.json:
        out.data({"deleted": session_id})
    else:
        out.out.print(f"deleted session {session_id}", highlight=False)


@click.group()
def op() -> None:
    """Operations: the catalogue, running one in a session, and deleting some."""


@op.command("ls")
@client_options
def list_operations(out: Output, api_url: str | None) -> None:
    """The operations there are, and the inputs each takes (its wizard)."""
    items = signed_in(api_url).sessions.catalogue()
    if out.json:
        out.data(items)
        return
    table = Table("name", "output", "inputs", "description", box=None, pad_edge=False)
    for item in items:
        inputs = ", ".join(
            f"{key}{'' if spec.get('required') else '?'}:{spec['type']}"
            for key, spec in (item.get("inputs") or {}).items()
        )
        table.add_row(item["name"], item.get("output", ""), inputs, item.get("description", ""))
    out.out.print(table)


@op.command("rm")
@click.argument("session_id", metavar="SESSION")
@click.argument("operation_ids", nargs=-1, required=True, metavar="OPERATION...")
@client_options
def remove(
    session_id: str, operation_ids: tuple[str, ...], out: Output, api_url: str | None
) -> None:
    """Delete operations of SESSION (running ones stop; their output datasets go too): all
    of them, or none where one is not found."""
    signed_in(api_url).sessions.delete_operations(session_id, list(operation_ids))
    for operation_id in operation_ids:
        out.note(f"deleted operation {operation_id}")
    if out.json:
        out.data({"deleted": list(operation_ids)})


@op.command("run")
@click.argument("session_id", metavar="SESSION")
@click.argument("name")
@click.argument("inputs", nargs=-1, metavar="KEY=VALUE...")
@click.option("--no-wait", is_flag=True, help="Print the started operation and return.")
@client_options
def run(
    session_id: str,
    name: str,
    inputs: tuple[str, ...],
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Run operation NAME in SESSION: dataset=dataset:ID columns='["a","b"]' top=5."""
    client = signed_in(api_url)
    started = client.sessions.run(session_id, name, parse_inputs(list(inputs)))
    done = started
    if not no_wait and started["status"] not in ("COMPLETED", "FAILED"):
        with out.fraction_bar() as bar:
            shown = bar.add_task(f"{name}", total=1.0, status="")

            def polled(seen: dict[str, Any]) -> None:
                bar.update(shown, completed=seen.get("progress") or 0.0, status=seen["status"])

            done = client.sessions.wait(session_id, started["id"], on_progress=polled)
    if out.json:
        out.data(done)
        return
    cached = " (cached)" if done.get("cached") else ""
    out.out.print(f"operation {done['id']} {name}: {done['status']}{cached}", highlight=False)
    output = done.get("output") or {}
    for dataset in output.get("datasets") or []:
        shown_id = dataset if isinstance(dataset, str) else dataset.get("id")
        out.out.print(f"  dataset {shown_id}  (sluice show {shown_id})", highlight=False)
    if output.get("data") is not None:
        out.out.print(json.dumps(output["data"], indent=1)[:4000], highlight=False)
