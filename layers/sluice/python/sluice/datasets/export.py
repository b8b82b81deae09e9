"""Whole-dataset downloads: one typed CSV or Parquet file, built on first request.

The typed parts are many files; a download is one. The first request starts the
export_dataset state machine (named from the data run and format, so concurrent
requests start it once) and answers 202; later requests answer 200 with a
presigned URL once the file exists.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pydantic import BaseModel

from sluice import aws
from sluice.config import Settings, settings
from sluice.datasets.models import Dataset
from sluice.datasets.rows import EXCEPTIONS, load_manifest
from sluice.datasets.workspace import Workspace
from sluice.errors import Conflict
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


class Download(BaseModel):
    status: str  # "ready" | "preparing"
    format: ExportFormat
    url: str | None = None
    bytes: int | None = None
    expires_in: int | None = None
    retry_after: int | None = None


class ExportInput(BaseModel):
    owner: str
    id: str
    run: str
    format: ExportFormat


class Exported(BaseModel):
    """The file written: its key in the data bucket and its rows."""

    key: str
    rows: int


def request_download(cfg: Settings, dataset: Dataset, fmt: ExportFormat) -> Download:
    """The download if it exists; else start building it and say to come back."""
    if not dataset.data_run:
        raise Conflict(f"the dataset has no typed data yet (status {dataset.status.value})")
    key = Workspace(dataset.owner, dataset.id, dataset.data_run).export(fmt.value)
    size = objects.object_size(cfg.data_bucket, key)
    if size is not None:
        filename = f"{dataset.name}.{fmt.value}".replace('"', "")
        return Download(
            status="ready",
            format=fmt,
            url=objects.presigned_get(cfg.data_bucket, key, 3600, filename),
            bytes=size,
            expires_in=3600,
        )
    _start_export(
        cfg, ExportInput(owner=dataset.owner, id=dataset.id, run=dataset.data_run, format=fmt)
    )
    return Download(status="preparing", format=fmt, retry_after=2)


def _start_export(cfg: Settings, payload: ExportInput) -> None:
    sfn = aws.client("stepfunctions")
    name = f"{payload.run[:60]}-export-{payload.format.value}"
    machine = cfg.export_state_machine_arn
    try:
        sfn.start_execution(stateMachineArn=machine, name=name, input=payload.model_dump_json())
        return
    except sfn.exceptions.ExecutionAlreadyExists:
        pass
    arn = aws.execution_arn(machine, name)
    if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
        # An earlier export failed or its file was removed: try again under a new name.
        retry = f"{name[:70]}-{uuid.uuid4().hex[:8]}"
        sfn.start_execution(stateMachineArn=machine, name=retry, input=payload.model_dump_json())


def _for_csv(table: pa.Table) -> pa.Table:
    """Dictionary columns as text and the exceptions map as JSON-like text, for CSV."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.name == EXCEPTIONS:
            continue
        if pa.types.is_dictionary(field.type):
            column = column.cast(pa.string())
        columns.append(column)
        fields.append(pa.field(field.name, column.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def export(payload: ExportInput) -> Exported:
    """Stream the typed parts into one file, part by part (memory stays one part)."""
    bucket = settings().data_bucket
    manifest = load_manifest(payload.owner, payload.id, payload.run)
    workspace = Workspace(payload.owner, payload.id, payload.run)
    target = f"{bucket}/{workspace.export(payload.format.value)}"
    fs = s3_filesystem()
    writer: Any = None
    with fs.open_output_stream(target) as sink:
        for part in manifest.parts:
            with fs.open_input_file(f"{bucket}/{part.key}") as source:
                table = pq.read_table(source)
            if payload.format is ExportFormat.CSV:
                table = _for_csv(table)
                if writer is None:
                    writer = pcsv.CSVWriter(sink, table.schema)
            elif writer is None:
                writer = pq.ParquetWriter(sink, table.schema, compression="snappy")
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return Exported(key=workspace.export(payload.format.value), rows=manifest.row_count)
