"""``sluice upload FILE``: a dataset from a CSV, with a bar for the bytes and one for the
ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sluice.cli.common import Output, client_options, signed_in
from sluice.cli.datasets import follow_ingest, print_dataset
from sluice.cli.inference import settings_given, settings_options
from sluice.client.uploads import UploadOptions, UploadStarted, default_part_bytes


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="The dataset's name (default: the file's name without .csv).")
@click.option("--path", "folder", help="Its folder, e.g. sales/2024.")
@click.option("--description")
@settings_options
@click.option(
    "--type",
    "column_types",
    multiple=True,
    metavar="COLUMN=TYPE",
    help="A column's type, decided before inference; repeat.",
)
@click.option(
    "--part-bytes",
    type=int,
    default=default_part_bytes,
    show_default="64 MiB, or SLUICE_PART_BYTES",
    help="A larger file goes in parts of this size (5 MiB or more).",
)
@click.option("--parallel", type=int, default=4, show_default=True, help="Parts sent at once.")
@click.option("--no-resume", is_flag=True, help="Start afresh even if an upload was interrupted.")
@click.option("--no-wait", is_flag=True, help="Do not wait for the ingest to end.")
@client_options
def upload(
    file: Path,
    name: str | None,
    folder: str | None,
    description: str | None,
    na_values: tuple[str, ...],
    max_categories: int | None,
    tolerance: float | None,
    delimiter: str | None,
    quote: str | None,
    decimal: str | None,
    encoding: str | None,
    column_types: tuple[str, ...],
    part_bytes: int,
    parallel: int,
    no_resume: bool,
    no_wait: bool,
    out: Output,
    api_url: str | None,
) -> None:
    """Upload FILE as a new dataset, then follow its ingest until it is ready.

    A file up to --part-bytes goes in one presigned POST; a larger one in parts, sent in
    parallel straight to S3. An upload in parts that is interrupted (Ctrl-C, a dropped
    connection) resumes when the same command is run again: only the missing parts are
    sent. Exit code 1 if the upload or the ingest fails, with the reason."""
    client = signed_in(api_url)
    options = UploadOptions(part_bytes=part_bytes, parallel=parallel, resume=not no_resume)
    settings: dict[str, Any] = {
        "path": folder,
        "description": description,
        "column_types": dict(pair.split("=", 1) for pair in column_types) or None,
        # Left out, a dialect field is detected: "auto" (null) says the same at create.
        **settings_given(na_values, max_categories, tolerance, delimiter, quote, decimal, encoding),
    }
    with out.transfer_bar() as bar:
        task = bar.add_task(f"upload {file.name}", total=None)

        def started(info: UploadStarted) -> None:
            how = "POST" if info.mode == "post" else f"{info.parts} parts"
            if info.sent_bytes:
                how += f", {info.parts_left} left"
            # reset, not update: the bytes sent before are not counted in the rate.
            bar.reset(
                task,
                total=info.total_bytes,
                completed=info.sent_bytes,
                description=f"upload {file.name} ({how})",
            )

        try:
            dataset = client.uploads.upload(
                file,
                name=name,
                options=options,
                on_start=started,
                on_bytes=lambda n: bar.advance(task, n),
                **settings,
            )
        except KeyboardInterrupt:
            bar.stop()
            out.err.print("interrupted; the same upload again resumes an upload in parts")
            raise SystemExit(130) from None
    out.note(f"uploaded: dataset {dataset['id']}")
    if not no_wait:
        dataset = follow_ingest(client, out, dataset["id"], "ingest")
    print_dataset(out, dataset)
