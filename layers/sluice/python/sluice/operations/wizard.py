"""What an operation asks for: its wizard, a form a UI renders from the description alone.

Datalab's ``wizard_description`` is ``{name, description, category, inputs: {key: field}}``
where a field has a display ``name``, a ``description``, a ``type`` and, by type, its
``minimum``/``maximum``, ``options``, ``default`` and ``required``. Ours keeps that shape
for tables: a field may name a dataset, several, a column or columns *of* one of the
operation's dataset inputs (``of``, with the column types it allows), a choice among
``options``, a text, a number or a flag; and, for the task grammar's structured inputs, a
filter (a list of predicates) or aggregations (a list of ``{column, op, name?}``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sluice.inference.types import ColumnType


class InputType(StrEnum):
    DATASET = "dataset"
    DATASETS = "datasets"
    COLUMN = "column"
    COLUMNS = "columns"
    SELECT = "select"
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    FILTER = "filter"
    AGGREGATIONS = "aggregations"


DATASET_TYPES = frozenset({InputType.DATASET, InputType.DATASETS})
"""Inputs whose values are references to datasets ({"type": "dataset", "id": ...})."""
COLUMN_TYPES = frozenset(
    {InputType.COLUMN, InputType.COLUMNS, InputType.FILTER, InputType.AGGREGATIONS}
)
"""Inputs that name columns of a dataset input (``of``)."""
LIST_TYPES = frozenset(
    {InputType.DATASETS, InputType.COLUMNS, InputType.FILTER, InputType.AGGREGATIONS}
)


class WizardInput(BaseModel):
    """One field of an operation's form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The field's label.")
    description: str
    type: InputType
    required: bool = True
    default: Any = None
    minimum: float | None = Field(
        None, description="int/float: the least value; datasets/columns: the fewest items."
    )
    maximum: float | None = Field(
        None, description="int/float: the greatest value; datasets/columns: the most items."
    )
    options: list[str] | None = Field(None, description="select: the values to choose from.")
    of: str | None = Field(
        None, description="column, columns, filter, aggregations: the dataset input they name."
    )
    column_types: list[ColumnType] | None = Field(
        None, description="column, columns: the column types allowed (any when absent)."
    )
    ordered: bool = Field(
        True,
        description="Lists: whether their order matters to the result (when not, the same "
        "items in any order are the same request).",
    )

    @model_validator(mode="after")
    def _coherent(self) -> WizardInput:
        if self.type in COLUMN_TYPES and not self.of:
            raise ValueError(f"a {self.type} input names the dataset input it is 'of'")
        if self.type is InputType.SELECT and not self.options:
            raise ValueError("a select input lists its options")
        # An optional number, flag or choice has a default, so that a request without it
        # is still complete (a missing column, dataset or text stays null).
        needs_default = self.type in (
            InputType.SELECT,
            InputType.INT,
            InputType.FLOAT,
            InputType.BOOL,
        )
        if not self.required and self.default is None and needs_default:
            raise ValueError(f"an optional {self.type} input has a default")
        return self


class Wizard(BaseModel):
    """An operation as a UI sees it: what it is and the form that starts it."""

    name: str
    description: str
    category: str
    output: str = Field(description="'dataset' (a new table) or 'data' (JSON for a chart).")
    inputs: dict[str, WizardInput]
