"""What inference learns about columns, and what it decides.

A chunk's ``ChunkStats`` are computed from its rows alone and merged across chunks;
``decide`` turns the merged stats and the dataset's settings into a ``ColumnSchema``
per column, which conversion then applies.
"""

from __future__ import annotations

import codecs
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sluice.inference.types import DEFAULT_MAX_CATEGORIES, ColumnType, DateOrder, declarable

DeclaredType = Annotated[ColumnType, AfterValidator(declarable)]
"""A type a file's column may be declared or preferred as (not one only outputs have)."""

FailureKey = str
"""A key of ``ColumnStats.failures``: a ColumnType value, except that datetime is counted
once per date order as "datetime:iso", "datetime:mdy" and "datetime:dmy"."""

FAILURE_KEYS: tuple[FailureKey, ...] = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "datetime:iso",
    "datetime:mdy",
    "datetime:dmy",
    "timedelta",
)
SAMPLES_PER_KEY = 3


class ColumnStats(BaseModel):
    """One column's statistics over some rows; mergeable."""

    name: str
    values: int = 0  # non-null values
    nulls: int = 0  # values that were NA
    failures: dict[FailureKey, int] = Field(default_factory=dict)  # every FAILURE_KEY present
    samples: dict[FailureKey, list[str]] = Field(default_factory=dict)  # a few failing texts
    distinct: list[str] | None = Field(
        default_factory=list,
        description="Distinct non-null texts, sorted, at most max_categories + 1; None once more.",
    )
    int_min: int | None = None  # over values that pass int64
    int_max: int | None = None
    float_min: float | None = None  # over finite values that pass float64
    float_max: float | None = None
    datetime_min: dict[str, str] = Field(default_factory=dict)  # date order -> ISO text
    datetime_max: dict[str, str] = Field(default_factory=dict)
    quarters: int = 0  # values written as quarters (1974Q1), read as the quarter's first day
    leading_zeros: int = 0  # integers written with leading zeros (007), which a number drops
    leading_zero_sample: str | None = None  # the first of them
    timedelta_min_us: int | None = None  # over values that pass timedelta
    timedelta_max_us: int | None = None
    text_min: str | None = None  # lexicographic, over all non-null texts (first 100 chars)
    text_max: str | None = None


class ChunkStats(BaseModel):
    rows: int
    columns: list[ColumnStats]


MAX_TOLERANCE = 10**15
"""The largest count a tolerance may be: more values than any dataset has, and a number
DynamoDB (38 digits, exponents -130..125) stores exactly."""
MIN_FRACTION = 1e-12
"""The smallest fraction other than 0: a trillionth of the values; a smaller one allows
no failure in any real column, and those below 1e-130 are no DynamoDB number."""

ToleranceCount = Annotated[int, Field(ge=0, le=MAX_TOLERANCE)]
ToleranceAmount = Annotated[float, Field(ge=MIN_FRACTION, le=MAX_TOLERANCE, allow_inf_nan=False)]
ToleranceValue = ToleranceCount | ToleranceAmount
TOLERANCE_PROBLEM = (
    "must be a number from 0 to 1e15 (a fraction below 1 is 0 or at least 1e-12),"
    " or a map from column type to such a number"
)


def _one_tolerance_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # One error naming the field, not one per member of the union; booleans and strings,
    # which a lax int would take, are no numbers here.
    amounts = value.values() if isinstance(value, dict) else [value]
    if any(isinstance(amount, bool) or not isinstance(amount, int | float) for amount in amounts):
        raise PydanticCustomError("tolerance", TOLERANCE_PROBLEM)
    try:
        return handler(value)
    except ValidationError as exc:
        raise PydanticCustomError("tolerance", TOLERANCE_PROBLEM) from exc


Tolerance = Annotated[
    ToleranceValue | dict[ColumnType, ToleranceValue], WrapValidator(_one_tolerance_error)
]
"""How many values may fail a type and it still win: a count (>= 1), a fraction of the
column's non-null values (0 <= x < 1), or a map from type to either. Never negative, at
most ``MAX_TOLERANCE``; a fraction is 0 or at least ``MIN_FRACTION``."""


def check_dialect(delimiter: str | None, quote: str | None, decimal: str | None) -> None:
    """Refuse a dialect no CSV can have: a delimiter or quote that is not one printable
    ASCII character (or tab), or the same as another of the three."""
    for name, value in (("delimiter", delimiter), ("quote", quote)):
        printable = value is not None and value.isascii() and value.isprintable()
        if value is not None and (len(value) != 1 or not (printable or value == "\t")):
            raise ValueError(f"{name} must be one printable ASCII character or a tab")
    if quote is not None and quote.isspace():
        raise ValueError("quote must not be a space")
    given = [v for v in (delimiter, quote, decimal) if v is not None]
    if len(set(given)) < len(given):
        raise ValueError("delimiter, quote and decimal must differ from each other")


def text_encoding(name: str) -> str:
    """The codec name of a text encoding Python knows (``latin-1`` -> ``iso8859-1``)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"unknown text encoding {name!r} (latin-1, cp1252, utf-16-le ...)")
    return info.name


NaValues = Annotated[
    list[Annotated[str, Field(max_length=100)]],
    Field(
        max_length=1000, description="Texts that mean missing (at most 1,000 of 100 characters)."
    ),
]
"""Bounded so a dataset's record keeps within DynamoDB's 400 KB item."""


class InferenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    na_values: NaValues | None = Field(
        None, description="Texts that mean missing; None: the defaults (empty, NA, N/A, null ...)."
    )
    max_categories: int = Field(DEFAULT_MAX_CATEGORIES, ge=1, le=10_000)
    tolerance: Tolerance = Field(
        0, description="Failures a type may have and still win: a count, a fraction, or per type."
    )
    column_types: dict[str, DeclaredType] = Field(
        default_factory=dict, description="Type hints per column: preferred types from the start."
    )
    delimiter: str | None = Field(
        None,
        description="The field delimiter, one character (' ': runs of spaces, a space-aligned "
        "file); None: detected from the head of the file.",
    )
    quote: str | None = Field(
        None, description="The quote character; None: detected (\" unless the file uses ')."
    )
    decimal: Literal[".", ","] | None = Field(
        None, description="The decimal mark of numbers; None: detected."
    )
    encoding: str | None = Field(
        None,
        description="The text's encoding when it is not UTF-8 (latin-1, cp1252, utf-16-le ...): "
        "transcoded to UTF-8 before the scans. None: UTF-8; a byte-order mark (UTF-16's, "
        "UTF-8's) tells the encoding whatever this says.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return None if value is None else text_encoding(value)

    @model_validator(mode="after")
    def _dialect(self) -> InferenceSettings:
        check_dialect(self.delimiter, self.quote, self.decimal)
        return self


class ColumnSchema(BaseModel):
    """A column as inferred, preferred and finally converted."""

    name: str
    inferred_type: ColumnType
    preferred_type: ColumnType | None = None
    effective_type: ColumnType
    date_order: DateOrder | None = None  # for datetime columns
    null_count: int
    failures: dict[FailureKey, int]
    samples: dict[FailureKey, list[str]] = Field(default_factory=dict)
    categories: list[str] | None = None  # for category columns
    min: Any = None  # in the effective type's JSON form
    max: Any = None
    notes: list[str] = Field(default_factory=list)  # e.g. why an ambiguous date order was chosen
