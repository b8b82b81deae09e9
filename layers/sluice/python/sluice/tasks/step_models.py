"""The payloads of statemachines/run_task.asl.json's steps (``sluice.tasks.steps`` and
its ``steps_partial``, ``steps_reduce`` and ``steps_end``).

The two Maps are Distributed Maps: their items are JSON lists in the task's work folder
(written by Plan and Gather), each child gets a batch (the ItemBatcher's ``{"Items",
"BatchInput"}``), and their results are written to S3 (ResultWriter): the state carries
the lists' keys and the results' manifests, never a list per part or bucket.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sluice.store.map_results import ItemsRef, ResultWriterDetails
from sluice.tasks.aggregate import AggregateSpec
from sluice.tasks.models import OutputSpec


class TaskRef(BaseModel):
    owner: str
    id: str


class PlanInput(BaseModel):
    task: TaskRef


class PartRef(BaseModel):
    """One typed Parquet part, or a run of a large part's row groups: an item of the
    Partials Map (``sluice.tasks.pieces``)."""

    index: int
    key: str
    bytes: int = Field(0, description="Its size (0: unknown).")
    row_groups: tuple[int, int] | None = Field(
        None, description="Only row groups [first, stop) of a large part (``tasks.pieces``)."
    )


class TaskPlan(BaseModel):
    task: TaskRef
    spec: AggregateSpec
    output: OutputSpec
    part_count: int
    bucket_count: int
    parts: ItemsRef = Field(description="The parts (PartRef), Partials' ItemReader list.")
    batch: int = Field(1, ge=1, description="Parts per partial invocation (ItemBatcher).")
    concurrency: int = Field(1, ge=1, description="Invocations at once (MaxConcurrency).")
    results: str = Field(description="Where the Maps' ResultWriters write (a key prefix).")


class PartialShared(BaseModel):
    """What every part of a partial batch shares (the ItemBatcher's BatchInput)."""

    task: TaskRef
    spec: AggregateSpec
    bucket_count: int


class PartialInput(PartialShared):
    part: PartRef


class PartialBatch(BaseModel):
    """Parts aggregated by one invocation, as the Partials Map's ItemBatcher hands them."""

    Items: list[PartRef]
    BatchInput: PartialShared

    def partials(self) -> list[PartialInput]:
        shared = self.BatchInput.model_dump()
        return [PartialInput.model_validate({**shared, "part": p}) for p in self.Items]


class Partial(BaseModel):
    """What the partial aggregation of a group of a batch's parts wrote: one buckets file,
    named by its first part (``part``)."""

    part: int
    parts: list[int] = Field(
        default_factory=list, description="Every part it aggregated (none listed: ``part``)."
    )
    rows: int
    groups: int

    def aggregated(self) -> list[int]:
        return self.parts or [self.part]


class GatherInput(BaseModel):
    """Gather's payload: the plan, and where Partials' ResultWriter wrote its results."""

    plan: TaskPlan
    partials: ResultWriterDetails


class ReduceItem(BaseModel):
    """One bucket: an item of the Reduces Map, with its slice of every part's buckets
    file (part p's is bytes ``[starts[p], starts[p] + sizes[p])``; 0 bytes: empty, or the
    part's groups are in the file of the first part of its group), or,
    where those would not fit a child's input, the key of a JSON object holding them."""

    bucket: int
    starts: list[int] = Field(default_factory=list)
    sizes: list[int] = Field(default_factory=list)
    ranges: str | None = None


class Gathered(BaseModel):
    """The reducers' item list (ReduceItem) and its batch size."""

    items: ItemsRef
    count: int
    batch: int = Field(1, ge=1)


class ReduceShared(BaseModel):
    """What every bucket of a reduce batch shares (the ItemBatcher's BatchInput)."""

    task: TaskRef
    spec: AggregateSpec
    output: OutputSpec


class ReduceInput(ReduceShared):
    item: ReduceItem


class ReduceBatch(BaseModel):
    """Buckets merged by one invocation, as the Reduces Map's ItemBatcher hands them."""

    Items: list[ReduceItem]
    BatchInput: ReduceShared

    def reduces(self) -> list[ReduceInput]:
        shared = self.BatchInput.model_dump()
        return [ReduceInput.model_validate({**shared, "item": i}) for i in self.Items]


class ReducedFile(BaseModel):
    key: str
    bytes: int
    rows: int


class Reduced(BaseModel):
    bucket: int
    files: list[ReducedFile]


class FinishInput(BaseModel):
    """Finish's payload: where Reduces' ResultWriter wrote the reducers' files."""

    task: TaskRef
    reduced: ResultWriterDetails


class StepError(BaseModel):
    """What a Catch puts at $.error: Step Functions' Error and Cause."""

    Error: str = "the task failed"
    Cause: str | None = None


class FailInput(BaseModel):
    task: TaskRef
    error: StepError


class Outcome(BaseModel):
    """How the execution ended, as its last step recorded it; dumped without the Nones."""

    status: Literal["succeeded", "failed", "gone"]
    files: int | None = None
    rows: int | None = None
    message: str | None = None
