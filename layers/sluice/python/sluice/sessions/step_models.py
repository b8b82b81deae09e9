"""The payloads of statemachines/run_operation.asl.json's steps (sluice.sessions.steps).

Survey, Parts and Buckets are Distributed Maps: Plan writes the parts and the buckets as
JSON lists in S3 (their ItemReaders read them), each child gets a batch of them
(``{"Items", "BatchInput"}``, the ItemBatcher's), and the children's answers go to S3
(ResultWriter), from where Finish reads them: no per-part list travels in the state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sluice.operations.base import PartRef, StepResult
from sluice.store.map_results import ItemsRef, ResultWriterDetails


class OperationRef(BaseModel):
    owner: str
    id: str
    output_dataset: str | None = None  # where its parts go: cleaned up even once deleted


class PlanInput(BaseModel):
    operation: OperationRef
    phase: Literal["plan", "settle"] = "plan"  # the Plan function runs Settle too


class BucketItem(BaseModel):
    """One bucket of an operation's shuffle, as Buckets' ItemReader reads it."""

    bucket: int


class Plan(BaseModel):
    parts: ItemsRef = Field(
        description="The typed parts read (PartRef): Survey's and Parts' items."
    )
    part_count: int
    buckets: ItemsRef = Field(description="The shuffle's buckets (BucketItem): Buckets' items.")
    bucket_count: int
    survey: bool = False
    batch: int = Field(1, ge=1, description="Parts per invocation (ItemBatcher).")
    bucket_batch: int = Field(1, ge=1, description="Buckets per invocation (ItemBatcher).")
    concurrency: int = Field(1, ge=1, description="Invocations at once (MaxConcurrency).")
    results: str = Field(description="Where the Maps' ResultWriters write (a key prefix).")


class PartInput(BaseModel):
    operation: OperationRef
    bucket_count: int
    part: PartRef
    phase: Literal["part", "survey"] = "part"  # the Part function runs the Survey's too


class PartBatchInput(BaseModel):
    """What every part of a batch shares (the ItemBatcher's BatchInput)."""

    operation: OperationRef
    bucket_count: int
    phase: Literal["part", "survey"] = "part"


class PartBatch(BaseModel):
    """Parts run (or surveyed) by one invocation, as the ItemBatcher hands them."""

    Items: list[PartRef]
    BatchInput: PartBatchInput

    def inputs(self) -> list[PartInput]:
        shared = self.BatchInput.model_dump()
        return [PartInput.model_validate({**shared, "part": part}) for part in self.Items]


class BucketInput(BaseModel):
    operation: OperationRef
    part_count: int
    bucket: int


class BucketBatchInput(BaseModel):
    """What every bucket of a batch shares (the ItemBatcher's BatchInput)."""

    operation: OperationRef
    part_count: int


class BucketBatch(BaseModel):
    """Buckets merged by one invocation, as the ItemBatcher hands them."""

    Items: list[BucketItem]
    BatchInput: BucketBatchInput

    def inputs(self) -> list[BucketInput]:
        shared = self.BatchInput.model_dump()
        return [BucketInput.model_validate({**shared, "bucket": i.bucket}) for i in self.Items]


class FinishInput(BaseModel):
    operation: OperationRef
    parts: ResultWriterDetails = Field(description="Where Parts wrote its answers (StepResult).")
    buckets: ResultWriterDetails | None = Field(
        description="Where Buckets wrote its answers; None when it did not run (no shuffle)."
    )


class StepError(BaseModel):
    """What a Catch puts at $.error: Step Functions' Error and Cause."""

    Error: str = "the operation failed"
    Cause: str | None = None


class FailInput(BaseModel):
    operation: OperationRef
    error: StepError


class Outcome(BaseModel):
    status: Literal["completed", "failed", "gone"]
    message: str | None = None


__all__ = [
    "BucketBatch",
    "BucketInput",
    "BucketItem",
    "FailInput",
    "FinishInput",
    "ItemsRef",
    "OperationRef",
    "Outcome",
    "PartBatch",
    "PartInput",
    "Plan",
    "PlanInput",
    "StepError",
    "StepResult",
]
