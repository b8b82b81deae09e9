"""The dataset record and the shapes the API takes and gives for it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sluice.csv.dialect import Dialect
from sluice.datasets.columns import ColumnPage, ColumnSummary
from sluice.inference.schema import (
    ColumnSchema,
    InferenceSettings,
)
from sluice.inference.types import ColumnType
from sluice.store.changes import RecordChanges

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_path(path: str) -> str:
    """A folder path like ``sales/2024/eu``: segments joined by '/', no empty or dot segments."""
    stripped = path.strip().strip("/")
    if not stripped:
        return ""
    segments = stripped.split("/")
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise ValueError(
                f"folder segment {segment!r} must start with a letter or digit and hold only "
                "letters, digits, spaces, '.', '_' or '-' (at most 100 characters)"
            )
    if len(segments) > 32:
        raise ValueError("a path may have at most 32 folders")
    return "/".join(segments)


class DatasetStatus(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    UPLOADED = "uploaded"
    INFERRING = "inferring"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"
    DUPLICATE = "duplicate"


class ErrorInfo(BaseModel):
    code: str
    message: str


class SourceObject(BaseModel):
    """Where the uploaded CSV lives and what landed there."""

    bucket: str
    key: str
    bytes: int | None = None
    etag: str | None = None


class QueryTable(BaseModel):
    """Where a ready dataset's typed parts are queried in place (Athena, Spark, Redshift
    Spectrum): a table of the deployment's Glue database."""

    database: str
    table: str


UploadKind = Literal["post", "parts", "inline"]
"""How an upload ticket's file goes up: a presigned POST, presigned PUTs of parts, or the
API's own put of inline content."""


class OpenUpload(BaseModel):
    """An upload ticket recorded on its dataset (``Dataset.upload_tickets``, keyed by the
    upload's name): on_upload ingests a file landing at the name's key only while its
    ticket is recorded and unused."""

    kind: UploadKind
    expires_at: datetime = Field(description="When its presigned URLs expire.")
    used: str | None = Field(
        None, description="The ETag of the file it let in; a ticket lets in one file."
    )


class Dataset(BaseModel):
    """A dataset as stored and as served."""

    model_config = ConfigDict(use_enum_values=False)

    id: str
    owner: str = Field(exclude=True)
    name: str
    path: str
    description: str | None = None
    status: DatasetStatus = DatasetStatus.AWAITING_UPLOAD
    progress: float = Field(0.0, ge=0.0, le=1.0)
    created_at: datetime
    updated_at: datetime
    error: ErrorInfo | None = None
    source: SourceObject
    size_bytes: int | None = None
    row_count: int | None = None
    content_hash: str | None = Field(
        None,
        description="SHA-256 of the SHA-256 digests of the file's 4 MiB blocks (Dropbox's "
        "content hash): the same bytes, the same hash.",
    )
    column_count: int | None = Field(
        None,
        description="How many columns its typed data has; GET /datasets/{id}/columns lists "
        "them, with their types and statistics.",
    )
    exception_count: int | None = Field(
        None, description="Values that failed their column's effective type (kept in _exceptions)."
    )
    duplicate_of: str | None = Field(
        None, description="For status duplicate: the dataset that already holds this content."
    )
    allow_duplicate: bool = Field(False, description="Keep a copy even of content already held.")
    settings: InferenceSettings = Field(default_factory=InferenceSettings)
    dialect: Dialect | None = Field(
        None,
        description="How the last ingest split the file's records: the settings' delimiter, "
        "quote and decimal, or what was detected (named in detected).",
    )
    preferred_types: dict[str, ColumnType] = Field(default_factory=dict)
    chunk_count: int | None = None
    ingest_run: str | None = Field(None, description="The Step Functions execution working on it.")
    ingest_started_at: datetime | None = None
    ingest_finished_at: datetime | None = None
    query_table: QueryTable | None = Field(
        None,
        description="The Glue table of its typed data: SELECT ... FROM "
        '"<database>"."<table>" in Athena. Kept in step with each re-conversion.',
    )
    catalog_error: ErrorInfo | None = Field(
        None,
        description="Why its typed data could not be registered in the Glue Data Catalog "
        "(the dataset itself is ready); the next re-conversion tries again.",
    )
    # Internal bookkeeping, not served.
    chunks_done: int = Field(0, exclude=True)
    parts_done: int = Field(0, exclude=True)
    # How many columns the current run decided (stored with its typed parts; Finish
    # makes them the dataset's); None before its Decide.
    pending_column_count: int | None = Field(None, exclude=True)
    # The first columns' names and types, for the folder tree (sluice.datasets.columns).
    column_preview: list[ColumnSummary] = Field(default_factory=list, exclude=True)
    stats_run: str | None = Field(None, exclude=True)  # the run whose chunk stats are stored
    data_run: str | None = Field(None, exclude=True)  # the run whose typed parts are live
    # The uploads issued for it, by name (sluice.datasets.tickets).
    upload_tickets: dict[str, OpenUpload] = Field(default_factory=dict, exclude=True)

    @property
    def busy(self) -> bool:
        """Whether an execution is working on the dataset (a reset one waits for a start)."""
        return self.status is DatasetStatus.INFERRING or (
            self.status is DatasetStatus.UPLOADED and self.ingest_run is not None
        )


class DatasetDetail(Dataset):
    """A dataset as GET /datasets/{id} shows it: with its first columns."""

    columns: list[ColumnSchema] | None = Field(
        None,
        description="The first columns (up to 100, and at most 2 MB of them) with their "
        "inferred, preferred and effective types and statistics; provisional while inference "
        "runs. column_count says how many there are; columns_next_token pages on.",
    )
    columns_next_token: str | None = Field(
        None,
        description="When not every column is shown: the next_token of "
        "GET /datasets/{id}/columns for those after them.",
    )

    @classmethod
    def of(cls, dataset: Dataset, page: ColumnPage | None) -> DatasetDetail:
        """``dataset`` with the columns of ``page`` (None: it has none yet)."""
        fields = {name: getattr(dataset, name) for name in Dataset.model_fields}
        if page is None:
            return cls(**fields)
        fields["column_count"] = page.column_count
        return cls(**fields, columns=page.columns, columns_next_token=page.next_token)


class DatasetChanges(RecordChanges):
    """Fields of a stored dataset to overwrite (DatasetRepository.update)."""

    name: str | None = None
    path: str | None = None
    description: str | None = None
    status: DatasetStatus | None = None
    progress: float | None = None
    error: ErrorInfo | None = None
    source: SourceObject | None = None
    size_bytes: int | None = None
    row_count: int | None = None
    content_hash: str | None = None
    column_count: int | None = None
    exception_count: int | None = None
    duplicate_of: str | None = None
    allow_duplicate: bool | None = None
    settings: InferenceSettings | None = None
    dialect: Dialect | None = None
    preferred_types: dict[str, ColumnType] | None = None
    chunk_count: int | None = None
    ingest_run: str | None = None
    ingest_started_at: datetime | None = None
    ingest_finished_at: datetime | None = None
    query_table: QueryTable | None = None
    catalog_error: ErrorInfo | None = None
    chunks_done: int | None = None
    parts_done: int | None = None
    pending_column_count: int | None = None
    column_preview: list[ColumnSummary] | None = None
    stats_run: str | None = None
    data_run: str | None = None


RemovableField = Literal[
    "catalog_error",
    "column_count",
    "column_preview",
    "data_run",
    "duplicate_of",
    "error",
    "exception_count",
    "ingest_finished_at",
    "ingest_run",
    "pending_column_count",
    "query_table",
    "row_count",
    "stats_run",
]
"""Dataset attributes that ``DatasetRepository.update(remove=...)`` may delete."""


DATASET_NAME_MAX = 200
"""The longest name a dataset may have."""


class DatasetCreate(InferenceSettings):
    """A new dataset: its name and folder, and the settings its inference starts with."""

    name: str = Field(min_length=1, max_length=DATASET_NAME_MAX)
    path: str = Field("", max_length=1000, description="Folder, e.g. 'sales/2024/eu'.")
    description: str | None = Field(None, max_length=4000)
    allow_duplicate: bool = Field(
        False, description="Keep this dataset even if another of yours holds the same content."
    )

    _path = field_validator("path")(normalise_path)

    def inference_settings(self) -> InferenceSettings:
        """The inference settings among the fields."""
        return InferenceSettings.model_validate(
            self.model_dump(include=set(InferenceSettings.model_fields))
        )


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=DATASET_NAME_MAX)
    path: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=4000)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else normalise_path(value)


class UploadTicket(BaseModel):
    """A presigned S3 POST: send ``fields`` plus the file as multipart/form-data to ``url``."""

    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


class DatasetCreated(BaseModel):
    dataset: Dataset
    upload: UploadTicket


class DatasetPage(BaseModel):
    items: list[Dataset]
    next_token: str | None = None
