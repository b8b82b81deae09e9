"""Training parameters are numbers a DynamoDB item holds (1e-130..1e126): one past that
span is a 422 naming it, never a 500 when the job is stored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sluice.training.models import TrainingParams

BASE = {"x_columns": ["a"], "y_column": "y"}


@pytest.mark.parametrize(
    "field",
    ["rl_min_lr", "clipnorm", "clipvalue", "es_min_delta", "learning_rate"],
)
def test_a_parameter_past_dynamodbs_numbers_is_refused_naming_it(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TrainingParams.model_validate({**BASE, field: 1.2398079795525579e308})
    assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("field", ["rl_factor", "clipnorm", "learning_rate"])
def test_a_positive_parameter_too_small_to_store_is_refused(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TrainingParams.model_validate({**BASE, field: 1e-300})
    assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("field", ["validation_split", "test_split", "es_min_delta", "rl_min_lr"])
def test_a_parameter_that_may_be_0_is_0_when_too_small_to_store(field: str) -> None:
    assert getattr(TrainingParams.model_validate({**BASE, field: 1e-300}), field) == 0.0
