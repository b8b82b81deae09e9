"""``sluice infer ID [start|stop|reset|status]``, and the inference settings that it and
``sluice upload`` take (na values, categories, tolerance, the CSV dialect, the encoding)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sluice.cli.common import Output, client_options, signed_in
from sluice.cli.datasets import DELIMITER_NAMES, follow_ingest, print_dataset
from sluice.client import ClientError

F = TypeVar("F", bound=Callable[..., Any])

DETECT = "auto"
"""What a dialect option says to have the field detected (again)."""

# The words ``show`` uses, and ``\t`` as a shell passes it.
_DELIMITER_NAMES = {**{word: char for char, word in DELIMITER_NAMES.items()}, "\\t": "\t"}


def split_values(values: tuple[str, ...]) -> list[str] | None:
    """Repeated or comma-separated values (``--na-values NA,null --na-values -``)."""
    items = [item for value in values for item in value.split(",")]
    return items or None


def settings_options(command: F) -> F:
    """The inference settings' options: na values, categories, tolerance, and the file's
    delimiter, quote, decimal mark and encoding (detected, or UTF-8, when not given)."""
    options = [
        click.option(
            "--na-values", multiple=True, help="Texts read as missing; repeat or use commas."
        ),
        click.option("--max-categories", type=int, help="Most distinct values of a category."),
        click.option(
            "--tolerance", type=float, help="Exceptions a type may have (count or fraction)."
        ),
        click.option(
            "--delimiter",
            help="The field delimiter: a character, or comma, tab, semicolon, pipe, space "
            f"(space-aligned columns); {DETECT}: detected.",
        ),
        click.option("--quote", help=f"The quote character; {DETECT}: detected."),
        click.option(
            "--decimal",
            type=click.Choice([".", ",", DETECT]),
            help=f"The decimal mark of numbers; {DETECT}: detected.",
        ),
        click.option(
            "--encoding",
            help="The text's encoding when it is not UTF-8 (latin-1, cp1252, utf-16-le ...).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def settings_given(
    na_values: tuple[str, ...],
    max_categories: int | None,
    tolerance: float | None,
    delimiter: str | None,
    quote: str | None,
    decimal: str | None,
    encoding: str | None,
) -> dict[str, Any]:
    """The settings the options gave, as the API takes them; a dialect field given as
    ``auto`` is null (detect it again), one not given is left out."""
    settings: dict[str, Any] = {
        "na_values": split_values(na_values),
        "max_categories": max_categories,
        "tolerance": tolerance,
        "encoding": encoding,
    }
    settings = {name: value for name, value in settings.items() if value is not None}
    if delimiter is not None:
        settings["delimiter"] = _delimiter(delimiter)
    for name, value in (("quote", quote), ("decimal", decimal)):
        if value is not None:
            settings[name] = None if value == DETECT else value
    return settings


def _delimiter(value: str) -> str | None:
    if value == DETECT:
        return None
    named = _DELIMITER_NAMES.get(value.lower(), value)
    if len(named) != 1:
        raise ClientError(
            f"--delimiter {value!r}: give one character, or comma, tab, semicolon, pipe, "
            f"space or {DETECT}"
        )
    return named


@click.command()
@click.argument("dataset_id", metavar="ID")
@click.argument("command", type=click.Choice(["start", "stop", "reset", "status"]), default="start")
@settings_options
@click.option("--no-wait", is_flag=True, help="Do not wait for a started inference to end.")
@client_options
def infer(
    dataset_id: str,
    command: str,
    na_values: tuple[str, ...],
    max_categories: int | None,
    tolerance: float | None,
    delimiter: str | None,
    quote: str | None,
    decimal: str | None,
    encoding: str | None,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Infer a dataset's types again over its stored file, then follow it (start, the
    default: the settings given change, the others stay); stop a running inference (the
    dataset keeps the schema it had); reset (forget the schema and typed data, keep the
    file); or show where it stands (status). Exit code 1 if the inference fails."""
    settings = settings_given(
        na_values, max_categories, tolerance, delimiter, quote, decimal, encoding
    )
    if settings and command != "start":
        raise ClientError(f"settings go with start, not {command}")
    client = signed_in(api_url)
    answer = client.datasets.inference(dataset_id, command, settings or None)
    if command == "start" and not no_wait:
        print_dataset(out, follow_ingest(client, out, dataset_id, "infer"))
        return
    if out.json:
        out.data(answer)
        return
    progress = answer.get("progress") or 0.0
    line = f"dataset {dataset_id}: {answer['status']} ({progress:.0%})"
    error = answer.get("error")
    if error:
        line += f": {error.get('message')}"
    out.out.print(line, highlight=False)


__all__ = ["infer", "settings_given", "settings_options", "split_values"]
