"""What every client command shares: ``--json`` and ``--api-url``, the signed-in client,
output for people (rich, on stderr for progress) or for scripts (JSON on stdout), and
errors as a message with exit code 1 rather than a traceback."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from sluice.client import ApiError, Client, ClientError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Output:
    """Where a command writes: ``out`` its result (stdout), ``err`` progress and notes."""

    json: bool

    @functools.cached_property
    def out(self) -> Console:
        # Tables as wide as they need when piped (rich would cut them at 80 columns).
        return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)

    @functools.cached_property
    def err(self) -> Console:
        # Piped (a CI log, a capture), bars get a line of 120 columns rather than 80.
        return Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 120)

    def data(self, value: Any) -> None:
        """A result for scripts: JSON on stdout, one document."""
        click.echo(json.dumps(value, indent=2, default=str))

    def note(self, text: str) -> None:
        """A line for people, on stderr (never mixed into ``--json``'s stdout)."""
        if not self.json:
            self.err.print(text, highlight=False)

    def transfer_bar(self) -> Progress:
        """Bytes, rate and time left; disabled under ``--json``."""
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            disable=self.json,
        )

    def fraction_bar(self) -> Progress:
        """A share done (an ingest's or a task's ``progress``), with the status."""
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(elapsed_when_finished=True),
            console=self.err,
            disable=self.json,
        )


def client_options(command: F) -> F:
    """``--json`` and ``--api-url`` on a command that talks to the API; the command gets
    ``out`` (an :class:`Output`) and ``api_url``, and its errors become exit code 1."""

    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, for scripts.")
    @click.option(
        "--api-url",
        envvar="SLUICE_API_URL",
        default=None,
        metavar="URL",
        help="The API (default: SLUICE_API_URL, then `sluice login`'s, then http://127.0.0.1:3000).",
    )
    @functools.wraps(command)
    def run(*args: Any, as_json: bool, api_url: str | None, **kwargs: Any) -> Any:
        out = Output(as_json)
        try:
            return command(*args, out=out, api_url=api_url, **kwargs)
        except ClientError as error:
            fail(out, error)
        except KeyboardInterrupt:
            out.err.print("interrupted")
            sys.exit(130)

    return run  # type: ignore[return-value]


def fail(out: Output, error: ClientError) -> None:
    """Say what went wrong, as the API said it, and exit 1."""
    if out.json:
        body: dict[str, Any] = {"message": str(error)}
        if isinstance(error, ApiError):
            body = {"status": error.status, "code": error.code, "message": error.message}
            body["details"] = error.details
        click.echo(json.dumps({"error": body}, indent=2))
    message = error.message if isinstance(error, ApiError) else str(error)
    suffix = f" (HTTP {error.status} {error.code})" if isinstance(error, ApiError) else ""
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {message}{suffix}", highlight=False
    )
    sys.exit(1)


def each_in_order(
    out: Output, ids: tuple[str, ...], act: Callable[[str], Any], done: str
) -> list[Any]:
    """``act`` on each of ``ids`` in order, noting ``done`` (``{}``: the id) after each;
    their answers. An ID that fails stops the rest (its error is the command's), and
    those before it stay done: a removal or a stop cannot be taken back."""
    answers = []
    for item in ids:
        answers.append(act(item))
        out.note(done.format(item))
    return answers


def removed(out: Output, ids: tuple[str, ...], delete: Callable[[str], Any], kind: str) -> None:
    """Delete each of ``ids`` (:func:`each_in_order`); ``--json``: ``{"deleted": ids}``."""
    each_in_order(out, ids, delete, f"deleted {kind} {{}}")
    if out.json:
        out.data({"deleted": list(ids)})


def signed_in(api_url: str | None) -> Client:
    """The client with ``sluice login``'s tokens for the API."""
    return Client.from_store(api_url)


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
