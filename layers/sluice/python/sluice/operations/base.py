"""The base class every operation shares, and what its steps are given and give back.

An operation runs as statemachines/run_operation.asl.json runs every operation: first, if
it ``surveys`` its data, one ``survey_part`` per typed part and one ``settle`` over what
they wrote (a sort's sampled keys -> its bucket boundaries, a column's range -> a
histogram's bins); then one ``run_part`` per typed Parquet part of its dataset inputs (in
parallel, in a Map), then, if it asks for buckets, one ``run_bucket`` per bucket (a hash-
partitioned shuffle, as the tasks' reducers), then ``finish`` with every step's small
answer. Rows travel only through S3, at the keys ``OperationRun`` names; the answers are a
few numbers each, so that no Lambda ever holds a whole dataset and no payload nears Step
Functions' 256 KB.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from sluice.datasets.derived import WrittenColumn
from sluice.datasets.manifest import Manifest
from sluice.datasets.workspace import Workspace
from sluice.inference.types import ColumnType
from sluice.operations.wizard import Wizard, WizardInput


class InputDataset(BaseModel):
    """A dataset an operation reads: the typed data of one of its ready runs."""

    id: str
    run: str
    content_hash: str | None = None


class PartRef(BaseModel):
    """One typed Parquet part of one dataset input (``input``: the wizard's key)."""

    input: str
    dataset: int = 0  # the position in a ``datasets`` input's list
    index: int
    key: str
    rows: int
    bytes: int | None = None  # its size, so that a read needs no HEAD first


class WrittenPart(BaseModel):
    """A Parquet part of an output dataset, as written: with its columns' types and nulls
    (``derived.column_facts``; None for a wide part), so that Finish reads no footer."""

    index: int
    key: str
    rows: int
    bytes: int
    columns: list[WrittenColumn] | None = None


class StepResult(BaseModel):
    """What one part or bucket step answers: the output parts it wrote, or the key of a
    JSON partial (``partial``) that ``finish`` merges."""

    index: int
    written: list[WrittenPart] = []
    partial: str | None = None


class Finished(BaseModel):
    """An operation's output: the parts of a new dataset in row order, or JSON data."""

    parts: list[WrittenPart] | None = None
    data: Any = None


class OperationRun(BaseModel):
    """Where one run of an operation is: its owner and id, its normalised inputs, the
    datasets they name, and the output dataset it writes (when its output is one)."""

    owner: str
    id: str
    inputs: dict[str, Any]
    datasets: dict[str, list[InputDataset]]
    output_dataset: str | None = None
    work: str = Field(description="The run's scratch folder (partials), removed when it ends.")

    @property
    def output(self) -> Workspace:
        """The output dataset's run folder: its parts and manifest go there."""
        if self.output_dataset is None:
            raise ValueError("this operation writes no dataset")
        return Workspace(self.owner, self.output_dataset, self.output_run)

    @property
    def output_run(self) -> str:
        return f"op-{self.id}"

    def partial_key(self, name: str) -> str:
        return f"{self.work}{name}"


class Operation(ABC):
    """An operation on tables. A module of ``sluice.operations`` that defines a concrete
    subclass adds it to the catalogue (``catalogue.discover``); abstract ones are skipped."""

    name: ClassVar[str]
    description: ClassVar[str]
    category: ClassVar[str] = "table"
    output: ClassVar[Literal["dataset", "data"]]
    inputs: ClassVar[dict[str, WizardInput]]
    parts_at_once: ClassVar[int] = 1
    """A table result's parts one invocation runs at once (each holds its part's columns):
    more than one where a part is mostly requests that another's work may overlap."""

    @classmethod
    def wizard(cls) -> Wizard:
        """The form a UI renders for it (Datalab's ``wizard_description``)."""
        return Wizard(
            name=cls.name,
            description=cls.description,
            category=cls.category,
            output=cls.output,
            inputs=cls.inputs,
        )

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        """Problems of complete, well-typed ``inputs`` that need the datasets' column types
        (``schemas``, by input key, and for a list input each item's as ``"key[i]"``), each
        ``"<field>: <problem>"``; none by default."""
        return []

    def check_rows(self, inputs: dict[str, Any], rows: dict[str, int]) -> list[str]:
        """Problems of ``inputs`` that need the datasets' row counts (``rows``, by each
        dataset's ``"key[i]"``), as ``check``'s; none by default."""
        return []

    def surveys(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> bool:
        """Whether it reads its parts once before ``run_part`` (False by default)."""
        return False

    def survey_part(self, run: OperationRun, part: PartRef, buckets: int) -> None:
        """Survey one typed part, writing what ``settle`` needs under ``run.work``."""
        raise NotImplementedError(f"{self.name} surveys nothing")

    def settle(self, run: OperationRun, buckets: int) -> None:
        """From every part's survey, write what each ``run_part`` reads (a few KB)."""
        raise NotImplementedError(f"{self.name} surveys nothing")

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        """How many buckets its shuffle has; 0 (the default) for none."""
        return 0

    @abstractmethod
    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """Work on one typed part (its rows are read from S3 here, not before)."""

    def run_parts(self, run: OperationRun, parts: list[PartRef], buckets: int) -> list[StepResult]:
        """Work on one Map child's batch of parts of a JSON result ("data"): each by
        ``run_part`` by default; an operation may share a batch's reads and partials."""
        return [self.run_part(run, part, buckets) for part in parts]

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """Merge one bucket of the shuffle (operations with buckets override it)."""
        raise NotImplementedError(f"{self.name} has no buckets")

    def partial(self, run: OperationRun) -> Any:
        """A JSON result so far, from the partials its finished steps wrote, shown while it
        runs (Datalab's output written as parts finish); None (the default) for none."""
        return None

    @abstractmethod
    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        """The output, from the steps' answers (in any order: sort them)."""
