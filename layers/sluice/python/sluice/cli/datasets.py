"""Datasets: ``sluice ls``, ``show``, ``rows``, ``download`` and ``types`` read them;
``mv`` renames or moves one, ``rm`` deletes."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.tree import Tree

from sluice.cli.common import Output, client_options, human_bytes, removed, signed_in
from sluice.client import ApiError, Client, ClientError


def schema_table(columns: list[dict[str, Any]]) -> Table:
    """The schema as people read it: name, inferred, effective, nulls, notes."""
    table = Table("name", "inferred", "effective", "nulls", "notes", box=None, pad_edge=False)
    for column in columns:
        effective = column.get("effective_type", "")
        if column.get("preferred_type"):
            effective += " (preferred)"
        table.add_row(
            column["name"],
            column.get("inferred_type", ""),
            effective,
            f"{column.get('null_count', 0):,}",
            "; ".join(column.get("notes") or []),
        )
    return table


def follow_ingest(client: Client, out: Output, dataset_id: str, label: str) -> dict[str, Any]:
    """The dataset once its ingest ends, with a bar of its ``progress`` meanwhile
    (``IngestFailed`` with its reason if it fails)."""
    with out.fraction_bar() as bar:
        task = bar.add_task(label, total=1.0, status="")

        def polled(seen: dict[str, Any]) -> None:
            bar.update(task, completed=seen.get("progress") or 0.0, status=seen["status"])

        dataset = client.datasets.wait(dataset_id, on_progress=polled)
        bar.update(task, completed=1.0)
    return dataset


def print_dataset(out: Output, dataset: dict[str, Any]) -> None:
    """The dataset as an ingest leaves it: its id, name, status and rows, then its schema
    (or, under ``--json``, the API's answer)."""
    if out.json:
        out.data(dataset)
        return
    rows = dataset.get("row_count")
    out.out.print(
        f"dataset {dataset['id']} {dataset['name']!r}: {dataset['status']}"
        + (f", {rows:,} rows" if rows is not None else ""),
        highlight=False,
    )
    if dataset["status"] == "ready" and dataset.get("columns"):
        out.out.print(schema_table(dataset["columns"]))


def _datasets(count: int) -> str:
    return f"{count} dataset" if count == 1 else f"{count} datasets"


def _branch(tree: Tree, entry: dict[str, Any]) -> None:
    for child in entry.get("children") or []:
        if child["kind"] == "folder":
            count = _datasets(child.get("dataset_count") or 0)
            _branch(tree.add(f"[bold]{child['name']}/[/]  [dim]{count}[/]"), child)
        else:
            rows = child.get("row_count")
            size = f"  {rows:,} rows" if rows is not None else ""
            tree.add(f"{child['name']}  [dim]{child['id']}  {child['status']}{size}[/]")


@click.command()
@click.argument("path", default="")
@click.option("--depth", type=int, default=10, show_default=True, help="Levels of folders.")
@client_options
def ls(path: str, depth: int, out: Output, api_url: str | None) -> None:
    """The folder tree of your datasets, from PATH (default: the top)."""
    root = signed_in(api_url).datasets.tree(path, depth)
    if out.json:
        out.data(root)
        return
    count = _datasets(root.get("dataset_count") or 0)
    tree = Tree(f"[bold]{root.get('path') or '/'}[/]  [dim]{count}[/]")
    _branch(tree, root)
    out.out.print(tree)


@click.command()
@click.argument("dataset_id", metavar="ID")
@client_options
def show(dataset_id: str, out: Output, api_url: str | None) -> None:
    """A dataset: its status, size and schema (every column's types and nulls)."""
    client = signed_in(api_url)
    dataset = client.datasets.get(dataset_id)
    try:
        columns = client.datasets.columns(dataset_id)
    except ApiError as error:
        if error.status != 409:  # 409: no columns yet (not ingested)
            raise
        columns = []
    if out.json:
        out.data({**dataset, "columns": columns})
        return
    parts = [f"dataset {dataset['id']} {dataset['name']!r}", dataset["status"]]
    if dataset.get("row_count") is not None:
        parts.append(f"{dataset['row_count']:,} rows")
    if dataset.get("exception_count"):
        parts.append(f"{dataset['exception_count']:,} exceptions")
    if dataset.get("path"):
        parts.append(f"in {dataset['path']}")
    out.out.print(", ".join(parts), highlight=False)
    reading = read_as(dataset)
    if reading:
        out.out.print(f"read as: {reading}", highlight=False)
    failure = dataset.get("error")
    if failure:
        out.out.print(f"[red]error:[/] {failure.get('message', failure)}", highlight=False)
    if columns:
        out.out.print(schema_table(columns))


DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "space"}
"""The delimiters by the words the CLI takes and shows (space: space-aligned columns)."""


def _delimiter_word(delimiter: str) -> str:
    word = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    return "space-aligned" if word == "space" else word


def read_as(dataset: dict[str, Any]) -> str | None:
    """How the file was read, in words: its dialect (each field marked when detected
    rather than declared) and its encoding where it is not UTF-8; None before any read."""
    dialect = dataset.get("dialect")
    if not dialect:
        return None
    detected = set(dialect.get("detected") or [])

    def told(field: str, text: str) -> str:
        return f"{text} (detected)" if field in detected else text

    delimiter = dialect["delimiter"]
    words = [
        told("delimiter", _delimiter_word(delimiter)),
        told("quote", f"quote {dialect['quote']!r}"),
        told("decimal", f"decimal mark {dialect['decimal']!r}"),
    ]
    encoding = (dataset.get("settings") or {}).get("encoding")
    if encoding:
        words.append(f"encoding {encoding}")
    return ", ".join(words)


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.option("--start", type=int, default=0, show_default=True, help="The first row (from 0).")
@click.option("--num", type=int, default=10, show_default=True, help="How many (at most 10,000).")
@client_options
def rows(dataset_id: str, start: int, num: int, out: Output, api_url: str | None) -> None:
    """Typed rows of a ready dataset; values that fail their column's type in red."""
    answer = signed_in(api_url).datasets.rows(dataset_id, start, num)
    if out.json:
        out.data(answer)
        return
    names = [c if isinstance(c, str) else c["name"] for c in answer["columns"]]
    names = [name for name in names if name != "_exceptions"]
    table = Table("#", *names, box=None, pad_edge=False)
    for offset, row in enumerate(answer["rows"]):
        exceptions = row.get("_exceptions") or {}
        cells = [
            f"[red]{exceptions[name]}[/]" if name in exceptions else _cell(row.get(name))
            for name in names
        ]
        table.add_row(str(answer["start_row"] + offset), *cells)
    out.out.print(table)
    out.note(
        f"rows {answer['start_row']}..{answer['start_row'] + answer['num_rows'] - 1}"
        f" of {answer['row_count']:,}"
    )


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--out", "target", type=click.Path(path_type=Path), help="The file (default: NAME.FORMAT)."
)
@client_options
def download(
    dataset_id: str, fmt: str, target: Path | None, out: Output, api_url: str | None
) -> None:
    """The whole typed dataset as one CSV or Parquet file."""
    from sluice.client import transfer

    client = signed_in(api_url)
    dataset = client.datasets.get(dataset_id)
    target = target or Path(f"{dataset['name']}.{fmt}")
    with (
        out.err.status(f"building the {fmt} file", spinner="dots")
        if not out.json
        else nullcontext()
    ):
        ready = client.datasets.download_url(dataset_id, fmt)
    with out.transfer_bar() as bar:
        task = bar.add_task(f"download {target.name}", total=ready.get("bytes"))
        size = transfer.download(ready["url"], target, lambda n: bar.advance(task, n))
    if out.json:
        out.data({"path": str(target), "bytes": size, "format": fmt})
    else:
        out.out.print(f"wrote {target} ({human_bytes(size)})", highlight=False)


def _types(pairs: tuple[str, ...]) -> dict[str, str | None]:
    types: dict[str, str | None] = {}
    for pair in pairs:
        column, sep, kind = pair.partition("=")
        if not sep or not column:
            raise ClientError(f"not COLUMN=TYPE: {pair!r}")
        types[column] = None if kind in ("", "null", "none") else kind
    return types


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.argument("pairs", nargs=-1, required=True, metavar="COLUMN=TYPE...")
@click.option("--tolerance", type=float, help="Exceptions a type may have (count or fraction).")
@click.option("--no-wait", is_flag=True, help="Do not wait for the re-conversion.")
@client_options
def types(
    dataset_id: str,
    pairs: tuple[str, ...],
    tolerance: float | None,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Prefer types for columns (quantity=float32 region=string; region= clears one): the
    dataset is re-converted from its stored statistics."""
    client = signed_in(api_url)
    dataset = client.datasets.set_types(dataset_id, _types(pairs), tolerance)
    if not no_wait:
        dataset = follow_ingest(client, out, dataset_id, "re-convert")
    if out.json:
        out.data(dataset)
        return
    out.out.print(f"dataset {dataset_id}: {dataset['status']}", highlight=False)
    if dataset.get("columns"):
        out.out.print(schema_table(dataset["columns"]))


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.argument("folder", required=False, metavar="[FOLDER]")
@click.option("--name", default=None, help="A new name.")
@client_options
def mv(
    dataset_id: str, folder: str | None, name: str | None, out: Output, api_url: str | None
) -> None:
    """Move a dataset into FOLDER (sales/2024; / for the top) and/or rename it (--name)."""
    if folder is None and name is None:
        raise ClientError("nothing to change: give a FOLDER, --name, or both")
    dataset = signed_in(api_url).datasets.update(dataset_id, name=name, path=folder)
    if out.json:
        out.data(dataset)
        return
    where = dataset.get("path") or "/"
    out.out.print(f"dataset {dataset['id']} {dataset['name']!r} in {where}", highlight=False)


@click.command()
@click.argument("dataset_ids", nargs=-1, required=True, metavar="ID...")
@client_options
def rm(dataset_ids: tuple[str, ...], out: Output, api_url: str | None) -> None:
    """Delete datasets: each record and every file it owns (a running ingest stops).
    They go in order; an ID that fails stops the rest, and those before it are gone."""
    removed(out, dataset_ids, signed_in(api_url).datasets.delete, "dataset")
