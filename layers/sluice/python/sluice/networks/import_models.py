"""Model import jobs: what the API takes and answers, the stored record, and the payloads
of the import state machine (no TensorFlow here: the api Lambda imports this module)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from sluice.datasets.models import ErrorInfo, UploadTicket
from sluice.networks.graph_models import GraphBody
from sluice.store.s3_events import S3Record

EXTENSIONS = (".keras", ".h5", ".zip")
"""What an import takes: a Keras v3 file, a legacy HDF5 file, or a zip holding one."""


class ImportStatus(StrEnum):
    QUEUED = "queued"
    """Waiting for its upload."""
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


PENDING = (ImportStatus.QUEUED, ImportStatus.PROCESSING)
"""The statuses that count against a user's pending jobs and bytes."""


class ImportJobCreate(BaseModel):
    """A model file to import: its name (for its extension), its size, and the graph."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^/\\\x00-\x1f]+$",
        examples=["model.keras"],
        description="Ends in .keras, .h5 or .zip.",
    )
    bytes: int = Field(gt=0, le=2**53, description="The file's exact size; the upload must match.")
    graph_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The graph's name; the file's stem if unset.",
    )
    create_graph: bool = Field(False, description="Store the graph once the import succeeds.")


class ImportJob(BaseModel):
    """A stored import job."""

    model_config = ConfigDict(extra="ignore")

    id: str
    filename: str
    bytes: int
    graph_name: str
    create_graph: bool
    status: ImportStatus
    error: ErrorInfo | None = None
    graph_payload: GraphBody | None = Field(
        None, description="The graph the model became, once the import succeeded."
    )
    graph_id: str | None = Field(None, description="The graph created from it, if any.")
    parameter_count: int | None = Field(None, description="The imported model's, by Keras.")
    execution: str | None = Field(None, description="The import's execution, once started.")
    upload_key: str = Field(description="Where the file lands in the uploads bucket.")
    upload_expires_at: datetime = Field(
        description="After this a queued job no longer counts as pending: it fails."
    )
    created_at: datetime
    updated_at: datetime


class ImportJobCreated(BaseModel):
    job: ImportJob
    upload: UploadTicket


class ImportJobPage(BaseModel):
    items: list[ImportJob]
    next_token: str | None = None


class ModelUploadNotification(BaseModel):
    """The S3 ObjectCreated notification of files under ``imports/`` (the fields read)."""

    Records: list[S3Record]


class ImportJobRef(BaseModel):
    """Which job an execution imports, and the file that landed for it."""

    owner: str
    id: str
    bucket: str
    key: str
    size: int = Field(ge=0)
    etag: str


class ImportStepInput(BaseModel):
    """The import state machine's input to the TensorFlow function; ``failure`` (from the
    state machine's Catch) records the job as failed instead."""

    job: ImportJobRef
    failure: dict[str, str] | None = None


class ImportStepResult(BaseModel):
    """What the step answers: the job's status and, on a failure, why."""

    status: ImportStatus
    error: ErrorInfo | None = None
    graph_id: str | None = None
