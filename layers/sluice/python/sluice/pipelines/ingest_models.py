"""The payloads the ingest state machine passes between its steps.

Only keys and a few numbers per chunk travel through Step Functions (its payload
limit is 256 KB); the bytes stay in S3.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class DatasetRef(BaseModel):
    owner: str
    id: str
    run: str = Field(description="The execution's name: the dataset's current ingest_run.")


class ObjectRef(BaseModel):
    bucket: str
    key: str
    size: int
    etag: str = ""


class ChunkItem(BaseModel):
    index: int
    start: int
    end: int
    parity: int | None = Field(None, description="Quote parity at start when known; None: guess.")


class IngestInput(BaseModel):
    dataset: DatasetRef
    object: ObjectRef


class Plan(BaseModel):
    object: ObjectRef
    columns: list[str]
    data_start: int
    header_newlines: int
    chunks: list[ChunkItem]


class ScanInput(BaseModel):
    dataset: DatasetRef
    object: ObjectRef
    columns: list[str]
    chunk: ChunkItem


class RaggedRowOut(BaseModel):
    newlines_before: int
    expected: int
    actual: int
    text: str


class ChunkResult(BaseModel):
    index: int
    start: int
    end: int
    parity: int
    quotes: int
    newlines: int
    first: int
    last: int
    rows: int
    ragged: int = 0
    ragged_rows: list[RaggedRowOut] = Field(default_factory=list)


class HashInput(BaseModel):
    object: ObjectRef


class Reconciled(BaseModel):
    chunks: list[ChunkResult]
    redo: list[ChunkItem]


class FinishInput(BaseModel):
    dataset: DatasetRef
    plan: Plan
    chunks: list[ChunkResult]
    rescanned: list[ChunkResult] = Field(default_factory=list)
    sha256: str


class StepError(BaseModel):
    """What a Catch puts at $.error: Step Functions' Error and Cause."""

    Error: str
    Cause: str | None = None


class FailInput(BaseModel):
    dataset: DatasetRef
    error: StepError
