"""An operation run on a session (Datalab's DataOperation): what was asked, its status,
its output."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sluice.operations.base import InputDataset
from sluice.store.changes import RecordChanges


class OperationStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class OperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="An operation of GET /operations.")
    input_data: dict[str, Any] = Field(
        default_factory=dict, description="The wizard's inputs, by key."
    )


class PartWritten(BaseModel):
    """A part of a table result's dataset, written while the operation runs."""

    index: int = Field(description="Its place in the dataset's row order.")
    rows: int
    bytes: int


class OperationOutput(BaseModel):
    datasets: list[str] = Field(
        default_factory=list, description="The datasets it wrote (read them under /datasets)."
    )
    data: Any = Field(
        None,
        description="Its JSON output (describe, histogram), in GET of the one operation "
        "only; while it runs, the output over the parts done so far (with parts_done).",
    )
    parts: list[PartWritten] | None = Field(
        None,
        description="While a table result runs (GET of the one operation): the parts of "
        "its dataset written so far, in row order. The dataset is readable once COMPLETED.",
    )


class Timings(BaseModel):
    queued_s: float | None = None
    total_s: float | None = None


class SessionOperation(BaseModel):
    id: str
    owner: str = Field(exclude=True)
    session_id: str
    name: str
    input_data: dict[str, Any]
    status: OperationStatus = OperationStatus.PENDING
    progress: float = Field(0.0, ge=0.0, le=1.0)
    message: str | None = None
    cached: bool = Field(False, description="Answered from an earlier run's result.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings = Field(default_factory=Timings)
    output: OperationOutput = Field(default_factory=OperationOutput)
    parts: int | None = None
    buckets: int | None = None
    cache_key: str = Field(description="sha256 of the name, the inputs and the data read.")
    # Internal bookkeeping, not served.
    inputs: dict[str, Any] = Field(default_factory=dict, exclude=True)
    datasets: dict[str, list[InputDataset]] = Field(default_factory=dict, exclude=True)
    output_dataset: str | None = Field(None, exclude=True)
    data_key: str | None = Field(None, exclude=True)
    result_of: str | None = Field(
        None,
        exclude=True,
        description="The run whose outputs this record answers with: its own id, or for a "
        "cached answer the run it came from (None on records from before: its own id).",
    )
    parts_done: int = Field(0, exclude=True)
    buckets_done: int = Field(0, exclude=True)
    written: dict[str, PartWritten] = Field(
        default_factory=dict,
        exclude=True,
        description="The output parts its steps wrote so far, by file name.",
    )


class OperationChanges(RecordChanges):
    status: OperationStatus | None = None
    progress: float | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings | None = None
    output: OperationOutput | None = None
    parts: int | None = None
    buckets: int | None = None
    data_key: str | None = None


class OperationPage(BaseModel):
    items: list[SessionOperation]
    next_token: str | None = None


RUN_PREFIX = "op-"


def run_name(operation_id: str) -> str:
    """The name of the operation's execution of statemachines/run_operation.asl.json."""
    return f"{RUN_PREFIX}{operation_id}"
