"""The payloads the ingest state machine passes between its steps.

Only keys and a few numbers per chunk travel through Step Functions (its payload
limit is 256 KB); the bytes stay in S3, and so does everything that grows with the
file's width: the header's names (``HeaderNames``) and the decided columns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from sluice.csv.dialect import Dialect
from sluice.datasets.models import ErrorInfo
from sluice.inference.schema import ColumnSchema
from sluice.inference.types import ColumnType, DateOrder
from sluice.store.map_results import ItemsRef, ResultWriterDetails
from sluice.store.s3_events import S3Record
from sluice.task_placement import TaskPlacement


class UploadNotification(BaseModel):
    """The fields of an S3 ObjectCreated notification that starting an ingest reads."""

    Records: list[S3Record] = Field(default_factory=list)


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
    mode: Literal["full", "reconvert"] = "full"
    stats_run: str = Field(description="The run whose chunk stats this execution uses.")


class PrepareInput(IngestInput):
    """The Prepare step's event: the run's, and whether the preparer's Fargate task has
    run (``after_task``): then the step collects the copy it wrote, or its error."""

    after_task: bool = False
    task_error: dict[str, Any] | None = Field(
        None, description="The task's failure as Step Functions caught it (Error, Cause)."
    )


class Preparation(BaseModel):
    """What Prepare answers: the object the plan reads, or (``task`` set) that a file this
    large is prepared by the preparer's Fargate task, beyond a Lambda's 15 minutes."""

    object: ObjectRef
    task: TaskPlacement | None = None


class HeaderNames(BaseModel):
    """The header's column names, stored by Plan at ``Workspace.header`` rather than
    carried in the payloads: a wide file's names alone can pass 256 KB."""

    columns: list[str]
    notes: dict[str, list[str]] = Field(
        default_factory=dict, description="Notes on columns the header gave no name."
    )


class Plan(BaseModel):
    object: ObjectRef
    column_count: int = Field(description="How many columns the header names (HeaderNames).")
    na_values: list[str]
    max_categories: int
    data_start: int
    header_newlines: int
    chunks: list[ChunkItem] = Field(
        default_factory=list,
        description="Empty in the state (the chunks are in S3 at ``items``); "
        "listed in a stored layout.",
    )
    dialect: Dialect = Field(default_factory=Dialect, description="How the records split.")
    chunk_count: int = 0
    items: ItemsRef | None = Field(None, description="The chunks to scan, in scanning order.")
    batch: int = Field(1, ge=1, description="Chunks per scan invocation (ItemBatcher).")
    concurrency: int = Field(1, ge=1, description="Invocations at once (MaxConcurrency).")
    results: str = Field("", description="Where the Maps' ResultWriters write (a key prefix).")


class ScanInput(BaseModel):
    dataset: DatasetRef
    object: ObjectRef
    na_values: list[str]
    max_categories: int
    chunk: ChunkItem
    dialect: Dialect = Field(default_factory=Dialect)


class ScanBatchInput(BaseModel):
    """What every chunk of a scan batch shares (the ItemBatcher's BatchInput)."""

    dataset: DatasetRef
    object: ObjectRef
    na_values: list[str]
    max_categories: int
    dialect: Dialect = Field(default_factory=Dialect)


class ScanBatch(BaseModel):
    """Chunks scanned by one invocation, as a Distributed Map's ItemBatcher hands them."""

    Items: list[ChunkItem]
    BatchInput: ScanBatchInput

    def scans(self) -> list[ScanInput]:
        shared = self.BatchInput.model_dump()
        return [ScanInput.model_validate({**shared, "chunk": item}) for item in self.Items]

    @classmethod
    def of(cls, scan: ScanInput) -> ScanBatch:
        """A batch of the one chunk ``scan`` names."""
        shared = ScanBatchInput.model_validate(scan.model_dump(exclude={"chunk"}))
        return cls(Items=[scan.chunk], BatchInput=shared)


class RaggedRowOut(BaseModel):
    newlines_before: int
    expected: int
    actual: int
    text: str


class InvalidTextOut(BaseModel):
    newlines_before: int
    byte: int


class Converted(BaseModel):
    """A typed Parquet part of one chunk."""

    index: int
    rows: int
    exceptions: int
    key: str
    bytes: int


class ChunkResult(BaseModel):
    index: int
    start: int
    end: int
    parity: int
    quotes: int  # with quotes_reset: what the range's quotes do (sluice.csv.scan.ChunkScan)
    newlines: int
    first: int
    last: int
    rows: int
    ragged: int = 0
    quotes_reset: bool = False
    ragged_rows: list[RaggedRowOut] = Field(default_factory=list)
    invalid_text: InvalidTextOut | None = None
    part: Converted | None = Field(
        None, description="The chunk typed with the types its own rows point to."
    )
    part_plan: str | None = Field(None, description="parts.plan_digest of those types.")
    stats: str | None = Field(
        None, description="The key of the object that holds its type statistics (scan_groups)."
    )
    digests: str = Field(
        "", description="The SHA-256 digests (hex) of the blocks it hashed (content_hash)."
    )


class ReconcileInput(BaseModel):
    scanned: ResultWriterDetails | None = Field(
        None, description="Where ScanChunks' ResultWriter wrote the scans' results."
    )
    chunks: list[ChunkResult] = Field(
        default_factory=list, description="The scans' results, where given inline instead."
    )
    dataset: DatasetRef | None = Field(
        None, description="The run: where the rescans' list goes (and its log lines' id)."
    )


class Reconciled(BaseModel):
    redo: list[ChunkItem] = Field(description="Chunks whose parity guess was wrong, to rescan.")


class Rescans(BaseModel):
    """The chunks to scan again, in S3 for RescanChunks' ItemReader (Reconcile's answer)."""

    items: ItemsRef
    count: int
    batch: int = Field(1, ge=1)
    concurrency: int = Field(1, ge=1)


class Gathered(BaseModel):
    """What the scans learned, gathered in one place (or loaded back for a re-convert)."""

    plan: Plan
    chunks: list[ChunkResult] = Field(
        default_factory=list,
        description="Each chunk's first scan: in S3 at ``scanned`` while the run goes on.",
    )
    scanned: ResultWriterDetails | None = Field(
        None, description="Where ScanChunks wrote the scans' results (Decide reads them)."
    )
    rescanned: list[ChunkResult] = Field(default_factory=list)
    rescanned_at: ResultWriterDetails | None = Field(
        None, description="Where RescanChunks wrote the rescans' results (Decide reads them)."
    )
    content_hash: str | None = Field(
        None, description="datasets.content_hash of the object: Decide joins the scans' digests."
    )

    def final_chunks(self) -> list[ChunkResult]:
        """Each chunk's last scan, in order."""
        by_index = {c.index: c for c in self.chunks}
        by_index.update({c.index: c for c in self.rescanned})
        return [by_index[i] for i in sorted(by_index)]


class LoadLayoutInput(BaseModel):
    dataset: DatasetRef
    stats_run: str


class DecideInput(BaseModel):
    dataset: DatasetRef
    mode: Literal["full", "reconvert"] = "full"
    stats_run: str
    ingest: Gathered


class ColumnPlan(BaseModel):
    """What conversion needs of a column."""

    name: str
    type: ColumnType
    date_order: DateOrder | None = None


def column_plans(schema: list[ColumnSchema]) -> list[ColumnPlan]:
    """What conversion needs of a decided schema."""
    return [ColumnPlan(name=c.name, type=c.effective_type, date_order=c.date_order) for c in schema]


class Span(BaseModel):
    index: int
    first: int
    last: int
    base: str | None = Field(
        None,
        description="A part already made from these records (perhaps with other types): "
        "only the columns whose type changed are read from the text again.",
    )


class Decided(BaseModel):
    """How to convert: the columns' types are stored at the run's ``Workspace.columns``; the
    spans to convert and the parts kept as they are in S3, not in the state."""

    na_values: list[str]
    items: ItemsRef = Field(description="The spans to convert (ConvertChunks' ItemReader).")
    span_count: int
    batch: int = Field(1, ge=1, description="Spans per conversion invocation (ItemBatcher).")
    concurrency: int = Field(1, ge=1, description="Invocations at once (MaxConcurrency).")
    results: str = Field(description="Where ConvertChunks' ResultWriter writes (a key prefix).")
    adopted: ItemsRef = Field(
        description="The parts the scans wrote with the decided types already (a JSON list "
        "of Converted): kept as they are."
    )
    content_hash: str


class ConvertInput(BaseModel):
    """One span to convert to the types the run decided (read from its ``Workspace.columns``)."""

    dataset: DatasetRef
    object: ObjectRef
    na_values: list[str]
    span: Span
    dialect: Dialect = Field(default_factory=Dialect)


class ConvertBatchInput(BaseModel):
    """What every span of a conversion batch shares (the ItemBatcher's BatchInput)."""

    dataset: DatasetRef
    object: ObjectRef
    na_values: list[str]
    dialect: Dialect = Field(default_factory=Dialect)


class ConvertBatch(BaseModel):
    """Spans converted by one invocation, as a Distributed Map's ItemBatcher hands them."""

    Items: list[Span]
    BatchInput: ConvertBatchInput

    def conversions(self) -> list[ConvertInput]:
        shared = self.BatchInput.model_dump()
        return [ConvertInput.model_validate({**shared, "span": item}) for item in self.Items]


class FinishInput(BaseModel):
    dataset: DatasetRef
    ingest: Gathered
    converted: ResultWriterDetails = Field(description="Where ConvertChunks wrote its parts.")
    adopted: ItemsRef = Field(description="The parts kept as the scans wrote them.")
    content_hash: str


class StepError(BaseModel):
    """What a Catch puts at $.error: Step Functions' Error and Cause."""

    Error: str
    Cause: str | None = None


class FailInput(BaseModel):
    dataset: DatasetRef
    error: StepError


class Outcome(BaseModel):
    """How the execution ended, as Finish or RecordFailure recorded it; dumped without
    the Nones (each outcome has its own fields)."""

    status: Literal["ready", "duplicate", "superseded", "failed"]
    row_count: int | None = None
    duplicate_of: str | None = None
    error: ErrorInfo | None = None
