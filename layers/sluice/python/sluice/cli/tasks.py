"""Analysis tasks: ``sluice task`` starts an aggregation, ``sluice result`` fetches its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import Progress
from rich.table import Table

from sluice.cli.common import Output, client_options, each_in_order, human_bytes, removed, signed_in
from sluice.client import ApiError, Client
from sluice.client.tasks import aggregation


def _follow(client: Client, task_id: str, out: Output) -> dict[str, Any]:
    """The task once it succeeded, with a bar of its progress; TaskFailed otherwise."""
    with out.fraction_bar() as bar:
        shown = bar.add_task(f"task {task_id[:8]}", total=1.0, status="")

        def polled(task: dict[str, Any]) -> None:
            bar.update(shown, completed=task.get("progress") or 0.0, status=task["status"])

        return client.tasks.wait(task_id, on_progress=polled)


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.option("--group-by", multiple=True, metavar="COLUMN", help="Repeat, or use commas.")
@click.option(
    "--agg",
    multiple=True,
    metavar="COLUMN:OP[:NAME]",
    help="sum, count, mean, min, max or count_distinct; *:count counts rows. Repeat.",
)
@click.option("--preset", help="A named task instead (bmat_plays_per_song_per_day).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option("--max-file-bytes", type=int, help="No output file larger (default 100 MiB).")
@click.option("--no-wait", is_flag=True, help="Print the queued task and return.")
@client_options
def task(
    dataset_id: str,
    group_by: tuple[str, ...],
    agg: tuple[str, ...],
    preset: str | None,
    fmt: str,
    max_file_bytes: int | None,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Aggregate a ready dataset: group by columns, aggregate others; follow it to the end.

    sluice task ID --group-by region --agg price:sum:revenue --agg '*:count'"""
    client = signed_in(api_url)
    if preset:
        output: dict[str, Any] = {"format": fmt}
        if max_file_bytes is not None:
            output["max_file_bytes"] = max_file_bytes
        body: dict[str, Any] = {"preset": preset, "output": output}
    else:
        body = aggregation(_split(group_by), list(agg), fmt, max_file_bytes)
    started = client.tasks.start(dataset_id, body)
    out.note(f"task {started['id']} started")
    done = started if no_wait else _follow(client, started["id"], out)
    if out.json:
        out.data(done)
        return
    line = f"task {done['id']}: {done['status']}"
    timings = done.get("timings") or {}
    if timings.get("total_s") is not None:
        line += f" in {timings['total_s']:.1f} s"
    result = done.get("result") or {}
    if result.get("rows") is not None:
        line += f", {result['rows']:,} rows in {len(result.get('output_files') or [])} files"
    out.out.print(line, highlight=False)
    if not no_wait:
        out.note(f"sluice result {done['id']} --out DIR  fetches its files")


@click.command()
@click.argument("task_id", metavar="TASK")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder for the files.",
)
@client_options
def result(task_id: str, out_dir: Path, out: Output, api_url: str | None) -> None:
    """Download a task's output files (waiting for it to end first)."""
    client = signed_in(api_url)
    try:
        answer = client.tasks.result(task_id)
    except ApiError as error:
        if error.status != 425:  # 425: still running
            raise
        _follow(client, task_id, out)
        answer = client.tasks.result(task_id)
    files = answer["output_files"]
    total = sum(file["bytes"] for file in files)
    bar: Progress
    with out.transfer_bar() as bar:
        shown = bar.add_task(f"{len(files)} files", total=total)
        paths = client.tasks.download_result(
            task_id, out_dir, lambda n: bar.advance(shown, n), result=answer
        )
    if out.json:
        out.data(
            {
                "files": [
                    {**{k: v for k, v in file.items() if k != "url"}, "path": str(path)}
                    for file, path in zip(files, paths, strict=True)
                ],
                "rows": answer.get("rows"),
                "bytes": answer.get("bytes"),
            }
        )
        return
    table = Table("file", "rows", "bytes", box=None, pad_edge=False)
    for file, path in zip(files, paths, strict=True):
        table.add_row(str(path), f"{file.get('rows', 0):,}", human_bytes(file["bytes"]))
    out.out.print(table)


@click.group(invoke_without_command=True)
@click.option("--dataset", "dataset_id", default=None, metavar="ID", help="One dataset's tasks.")
@click.option("--status", default=None, help="queued, running, succeeded, failed or cancelled.")
@client_options
@click.pass_context
def tasks(
    ctx: click.Context,
    dataset_id: str | None,
    status: str | None,
    out: Output,
    api_url: str | None,
) -> None:
    """Your tasks: status, progress, rows and files written, the dataset they read
    (`sluice tasks cancel|rm ID...` stops or deletes some)."""
    if ctx.invoked_subcommand is not None:
        return
    found = list(signed_in(api_url).tasks.all(dataset_id, status))
    if out.json:
        out.data(found)
        return
    table = Table(
        "id", "status", "progress", "rows", "files", "dataset", "created", box=None, pad_edge=False
    )
    for item in found:
        done = item.get("result") or {}
        files = done.get("output_files")
        table.add_row(
            item["id"],
            item["status"],
            f"{round(100 * (item.get('progress') or 0))}%",
            f"{done['rows']:,}" if "rows" in done else "",
            str(len(files)) if files is not None else "",
            item["dataset_id"],
            item.get("created_at", ""),
        )
    out.out.print(table)


@tasks.command("cancel")
@click.argument("task_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def cancel(task_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Stop queued or running tasks: no result is kept (409 for one that ended)."""
    cancelled = each_in_order(out, task_ids, signed_in(api_url).tasks.cancel, "task {}: cancelled")
    if out.json:
        out.data(cancelled)


@tasks.command("rm")
@click.argument("task_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def remove(task_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Delete tasks and their files (a running one is stopped), in order: an ID that
    fails stops the rest, and those before it are gone."""
    removed(out, task_ids, signed_in(api_url).tasks.delete, "task")
