"""Analysis tasks: what a user asks for, and the record of running it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sluice.datasets.models import ErrorInfo
from sluice.store.changes import RecordChanges
from sluice.tasks.aggregate import AggregateSpec, Aggregation, Predicate, bmat_preset

MIB = 1024 * 1024
MAX_OUTPUT_FILE_BYTES = 5 * 1024**4
"""S3's largest object."""


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING})


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "parquet"] = "csv"
    max_file_bytes: int = Field(
        100 * MIB,
        ge=1024,
        le=MAX_OUTPUT_FILE_BYTES,
        description="No output file is larger (BMAT's MAX_SINGLE_FILE_SIZE).",
    )


class TaskCreate(BaseModel):
    """An aggregation: group_by + aggregations (+ filter), or a named preset."""

    # The schema says what _preset_or_aggregations checks: a preset (and no group_by or
    # aggregations), or at least one aggregation.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["preset"],
                    "properties": {
                        "preset": {"type": "string"},
                        "group_by": {"maxItems": 0},
                        "aggregations": {"maxItems": 0},
                    },
                },
                {
                    "required": ["aggregations"],
                    "properties": {"preset": {"type": "null"}, "aggregations": {"minItems": 1}},
                },
            ]
        },
    )

    kind: Literal["aggregate"] = "aggregate"
    preset: Literal["bmat_plays_per_song_per_day"] | None = Field(
        None,
        description="BMAT's job: group by Song, Date; sum Number of Plays; input header kept.",
    )
    group_by: list[str] = Field(default_factory=list)
    aggregations: list[Aggregation] = Field(default_factory=list)
    filter: list[Predicate] = Field(default_factory=list)
    output: OutputSpec = Field(default_factory=OutputSpec)

    @model_validator(mode="after")
    def _preset_or_aggregations(self) -> TaskCreate:
        if self.preset and (self.group_by or self.aggregations):
            raise ValueError("give a preset or group_by/aggregations, not both")
        if not self.preset and not self.aggregations:
            raise ValueError("aggregations: give at least one (or a preset)")
        return self

    def spec(self) -> AggregateSpec:
        """The aggregation to run: the preset's, or the one given."""
        if self.preset:
            return bmat_preset().model_copy(update={"filter": self.filter})
        return AggregateSpec(
            group_by=self.group_by, aggregations=self.aggregations, filter=self.filter
        )


class OutputFile(BaseModel):
    name: str
    bytes: int
    rows: int
    key: str = Field(exclude=True)
    url: str | None = None


class TaskResult(BaseModel):
    output_files: list[OutputFile]
    rows: int
    bytes: int


class Timings(BaseModel):
    """Seconds spent in each phase, once known."""

    queued_s: float | None = None
    partial_s: float | None = None
    reduce_s: float | None = None
    total_s: float | None = None


class Task(BaseModel):
    id: str
    owner: str = Field(exclude=True)
    dataset_id: str
    kind: Literal["aggregate"] = "aggregate"
    spec: AggregateSpec
    output: OutputSpec
    status: TaskStatus = TaskStatus.QUEUED
    progress: float = Field(0.0, ge=0.0, le=1.0)
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    partials_done_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings = Field(default_factory=Timings)
    error: ErrorInfo | None = None
    result: TaskResult | None = None
    run: str | None = None
    parts: int | None = None
    buckets: int | None = None
    # Internal bookkeeping, not served.
    parts_done: int = Field(0, exclude=True)
    buckets_done: int = Field(0, exclude=True)
    data_run: str | None = Field(None, exclude=True)


class TaskChanges(RecordChanges):
    """Fields of a stored task to overwrite (TaskRepository.update)."""

    status: TaskStatus | None = None
    progress: float | None = None
    started_at: datetime | None = None
    partials_done_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings | None = None
    error: ErrorInfo | None = None
    result: TaskResult | None = None
    parts: int | None = None
    buckets: int | None = None

    def written(self) -> dict[str, Any]:
        """The attributes to write; a result keeps its files' keys."""
        data = super().written()
        if self.result is not None:
            # Stored with each file's key, which the served model leaves out.
            data["result"]["output_files"] = [
                f.model_dump(mode="json") | {"key": f.key} for f in self.result.output_files
            ]
        return data


RUN_PREFIX = "task-"


def run_name(task_id: str) -> str:
    """The name of the task's execution of statemachines/run_task.asl.json."""
    return f"{RUN_PREFIX}{task_id}"


class TaskPage(BaseModel):
    items: list[Task]
    next_token: str | None = None
