"""Managing inference: start, stop, reset, status, and preferred types."""

from __future__ import annotations

import contextlib
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import Dataset, DatasetChanges, DatasetStatus
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import typed_manifest
from sluice.datasets.service import execution_arn
from sluice.datasets.workspace import dataset_prefixes
from sluice.errors import Conflict, Unprocessable
from sluice.inference.schema import (
    DeclaredType,
    InferenceSettings,
    NaValues,
    Tolerance,
    check_dialect,
    text_encoding,
)
from sluice.ingest.runs import start_run
from sluice.store import objects


class Command(StrEnum):
    START = "start"
    STOP = "stop"
    RESET = "reset"
    STATUS = "status"


class SettingsChange(BaseModel):
    """New inference settings; fields left out keep their current values."""

    model_config = ConfigDict(extra="forbid")

    na_values: NaValues | None = None
    max_categories: int | None = Field(None, ge=1, le=10_000)
    tolerance: Tolerance | None = None
    delimiter: str | None = Field(
        None, description="The field delimiter (' ': space-aligned); null: detect it again."
    )
    quote: str | None = Field(None, description="The quote character; null: detect it again.")
    decimal: Literal[".", ","] | None = Field(
        None, description="The decimal mark of numbers; null: detect it again."
    )
    encoding: str | None = Field(
        None,
        description="The text's encoding when it is not UTF-8 (latin-1, cp1252, utf-16-le "
        "...); null: UTF-8 again. A byte-order mark tells the encoding whatever this says.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return None if value is None else text_encoding(value)

    @model_validator(mode="after")
    def _dialect(self) -> SettingsChange:
        check_dialect(self.delimiter, self.quote, self.decimal)
        return self

    def updates(self) -> dict[str, Any]:
        """The settings to overwrite: the fields given, a null dialect field or encoding
        included (it asks for detection, or UTF-8, again)."""
        given = self.model_dump(exclude_none=True)
        for name in NULLABLE_FIELDS:
            if name in self.model_fields_set:
                given[name] = getattr(self, name)
        return given


NULLABLE_FIELDS = ("delimiter", "quote", "decimal", "encoding")
"""The settings whose null means something (detect again; UTF-8)."""


class InferenceCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: Command
    settings: SettingsChange | None = None


class InferenceStatus(BaseModel):
    status: DatasetStatus
    progress: float
    run: str | None
    started_at: Any = None
    finished_at: Any = None
    settings: InferenceSettings
    error: Any = None


class PreferredTypes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: dict[str, DeclaredType | None] = Field(
        description="Column -> preferred type; null removes a preference."
    )
    tolerance: Tolerance | None = None


def _new_run(dataset_id: str, kind: str) -> str:
    return f"{dataset_id}-{kind}-{uuid.uuid4().hex[:12]}"


def _refuse_while_active(dataset: Dataset, action: str) -> None:
    if dataset.busy:
        raise Conflict(
            f"cannot {action} while an inference is running (status {dataset.status.value}); "
            "stop it first",
            {"status": dataset.status.value},
        )


def status_of(dataset: Dataset) -> InferenceStatus:
    return InferenceStatus(
        status=dataset.status,
        progress=dataset.progress,
        run=dataset.ingest_run,
        started_at=dataset.ingest_started_at,
        finished_at=dataset.ingest_finished_at,
        settings=dataset.settings,
        error=dataset.error,
    )


def run_command(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: InferenceCommand
) -> tuple[int, Dataset]:
    """Carry out an inference command; (HTTP status, the dataset after it)."""
    dataset = repo.get(owner, dataset_id)
    if body.command is Command.STATUS:
        return 200, dataset
    if body.command is Command.STOP:
        return 200, stop(cfg, repo, dataset)
    if body.command is Command.RESET:
        return 200, reset(cfg, repo, dataset)
    return 202, start(cfg, repo, dataset, body.settings)


def start(
    cfg: Settings, repo: DatasetRepository, dataset: Dataset, change: SettingsChange | None
) -> Dataset:
    """Infer again over the stored file, with new settings if given."""
    if dataset.status is DatasetStatus.AWAITING_UPLOAD or dataset.source.bytes is None:
        raise Conflict("the dataset has no file yet; upload one first")
    _refuse_while_active(dataset, "start another inference")
    if change:
        try:
            merged = InferenceSettings.model_validate(
                {**dataset.settings.model_dump(), **change.updates()}
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise Unprocessable(f"settings: {problem['msg']}", {"field": "settings"}) from exc
        repo.update(dataset.owner, dataset.id, DatasetChanges(settings=merged))
    start_run(
        cfg, repo, dataset.owner, dataset.id, _new_run(dataset.id, "infer"), dataset.source, "full"
    )
    return repo.get(dataset.owner, dataset.id)


def stop(cfg: Settings, repo: DatasetRepository, dataset: Dataset) -> Dataset:
    """Cancel the running execution; the dataset keeps the schema it had before."""
    if not dataset.busy or not dataset.ingest_run:
        raise Conflict(f"no inference is running (status {dataset.status.value})")
    run = dataset.ingest_run
    # Hand the dataset to no run first, so steps still in flight write nothing more.
    stopped = repo.update(
        dataset.owner,
        dataset.id,
        DatasetChanges(status=DatasetStatus.STOPPED, ingest_run=f"{run}-stopped"),
        remove=("pending_column_count",),
        only_if_run=run,
    )
    sfn = aws.client("stepfunctions")
    with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
        sfn.stop_execution(executionArn=execution_arn(cfg, run), cause="stopped by its owner")
    return stopped or repo.get(dataset.owner, dataset.id)


def reset(cfg: Settings, repo: DatasetRepository, dataset: Dataset) -> Dataset:
    """Forget the schema and the typed data; the uploaded file stays."""
    _refuse_while_active(dataset, "reset")
    updated = repo.update(
        dataset.owner,
        dataset.id,
        DatasetChanges(
            status=DatasetStatus.UPLOADED
            if dataset.source.bytes is not None
            else DatasetStatus.AWAITING_UPLOAD,
            progress=0.0,
        ),
        remove=(
            "ingest_run",
            "column_count",
            "column_preview",
            "pending_column_count",
            "exception_count",
            "data_run",
            "stats_run",
            "row_count",
            "error",
        ),
    )
    for prefix in dataset_prefixes(dataset.owner, dataset.id):
        objects.delete_prefix(cfg.data_bucket, prefix)
    return updated or repo.get(dataset.owner, dataset.id)


def set_preferred_types(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: PreferredTypes
) -> Dataset:
    """Record preferred types and re-convert from the stored statistics (no re-scan)."""
    dataset = repo.get(owner, dataset_id)
    _refuse_while_active(dataset, "change preferred types")
    if not dataset.stats_run or not dataset.data_run:
        raise Conflict("the dataset has no inferred schema yet; wait until it is ready")
    known = {c.name for c in typed_manifest(dataset).columns}
    unknown = sorted(set(body.types) - known)
    if unknown:
        raise Unprocessable(
            f"types: no column named {unknown[0]!r}", {"field": "types", "unknown": unknown}
        )
    preferred = {**dataset.preferred_types}
    for name, column_type in body.types.items():
        if column_type is None:
            preferred.pop(name, None)
        else:
            preferred[name] = column_type
    changes = DatasetChanges(preferred_types=preferred)
    if body.tolerance is not None:
        changes.settings = dataset.settings.model_copy(update={"tolerance": body.tolerance})
    repo.update(owner, dataset_id, changes)
    start_run(
        cfg, repo, owner, dataset_id, _new_run(dataset_id, "types"), dataset.source, "reconvert"
    )
    return repo.get(owner, dataset_id)
