"""decimal is a type only operations write: no file's column may be declared or preferred
as one, and inference never picks it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sluice.inference.schema import InferenceSettings
from sluice.inference.types import PREFERENCE, ColumnType
from sluice.ingest.commands import PreferredTypes


def test_inference_never_chooses_decimal() -> None:
    assert ColumnType.DECIMAL not in PREFERENCE
    assert PREFERENCE[-1] is ColumnType.STRING


def test_a_column_declared_decimal_is_refused_naming_why() -> None:
    with pytest.raises(ValidationError, match="decimal is written by operations"):
        InferenceSettings(column_types={"total": ColumnType.DECIMAL})


def test_a_preferred_decimal_is_refused() -> None:
    with pytest.raises(ValidationError, match="decimal is written by operations"):
        PreferredTypes.model_validate({"types": {"total": "decimal"}})
    assert PreferredTypes.model_validate({"types": {"total": "int64"}}).types == {
        "total": ColumnType.INT64
    }
