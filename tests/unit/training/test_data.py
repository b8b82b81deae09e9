"""sluice.training.data: splits from the seed, typed columns as floats, labels encoded."""

from __future__ import annotations

import calendar
import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError
from sluice.training import data
from sluice.training.models import TrainingParams

PARAMS = TrainingParams(x_columns=["a"], y_column="y", validation_split=0.2, test_split=0.1)


def test_a_groups_split_is_the_same_on_every_read_and_near_its_shares() -> None:
    first = data.splits(42, 3, 10_000, PARAMS)
    assert np.array_equal(first, data.splits(42, 3, 10_000, PARAMS))
    assert not np.array_equal(first, data.splits(42, 4, 10_000, PARAMS))
    shares = np.bincount(first, minlength=3) / first.size
    assert shares == pytest.approx([0.7, 0.2, 0.1], abs=0.02)


def test_typed_columns_become_float32_with_nulls_as_nan() -> None:
    times = pa.array([datetime(1970, 1, 1, 0, 1), None], pa.timestamp("us"))
    assert data.as_float(times).tolist()[0] == 60.0
    assert np.isnan(data.as_float(times)[1])
    assert data.as_float(pa.array([True, False])).tolist() == [1.0, 0.0]
    assert data.as_float(pa.array([1, None], pa.int8())).dtype == np.float32


def test_a_block_drops_rows_missing_a_used_value() -> None:
    table = pa.table({"a": [1.0, None, 3.0], "y": [0, 1, None]})
    block, dropped = data.block(table, {"in": ["a"]}, PARAMS, 0, None)
    assert dropped == 2 and block.x["in"].tolist() == [[1.0]] and block.y.tolist() == [0.0]


def test_category_labels_are_indices_of_the_sorted_classes() -> None:
    table = pa.table({"a": [1.0, 2.0], "y": pa.array(["mid", "low"]).dictionary_encode()})
    block, _ = data.block(table, {"in": ["a"]}, PARAMS, 0, ["low", "mid"])
    assert block.y.tolist() == [1.0, 0.0]


def test_labels_are_one_hot_indices_or_values_as_the_loss_wants() -> None:
    plan = data.DataPlan([], {}, 0, data.Standardization({}, {}), None, 3, True)
    assert data.encode_labels(np.array([2.0]), plan).tolist() == [[0.0, 0.0, 1.0]]
    plan.one_hot = False
    assert data.encode_labels(np.array([2.0]), plan).dtype == np.int32
    plan.num_classes = None
    assert data.encode_labels(np.array([0.5]), plan).tolist() == [[0.5]]


def test_splits_must_leave_training_rows() -> None:
    with pytest.raises(ValidationError, match="below 1"):
        TrainingParams(x_columns=["a"], y_column="y", validation_split=0.5, test_split=0.5)


def test_a_category_for_an_embedding_is_its_values_place_plus_one_unknown_zero() -> None:
    column = pa.array(["mid", "low", None, "huge"]).dictionary_encode()
    assert data.category_index(column, ["high", "low", "mid"]).tolist() == [3.0, 2.0, 0.0, 0.0]


def test_an_index_input_keeps_rows_a_one_hot_input_would_drop() -> None:
    table = pa.table({"kind": ["low", None], "y": [0, 1]})
    vocab = {"kind": ["low", "mid"]}
    params = TrainingParams(x_columns=["kind"], y_column="y")
    indexed, dropped = data.block(
        table, {"in": ["kind"]}, params, 0, None, vocab, frozenset({"in"})
    )
    assert dropped == 0 and indexed.x["in"].tolist() == [[1.0], [0.0]]
    one_hot, dropped = data.block(table, {"in": ["kind"]}, params, 0, None, vocab)
    assert dropped == 1 and one_hot.x["in"].tolist() == [[1.0, 0.0]]


def expected_calendar(moment: datetime) -> list[float]:
    """The calendar's values by Python's own datetime arithmetic."""
    seconds = (moment - datetime(1970, 1, 1)).total_seconds()
    of_day = (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86_400
    of_week = (moment.weekday() + of_day) / 7
    days_in_year = 366 if calendar.isleap(moment.year) else 365
    of_year = (moment.timetuple().tm_yday - 1 + of_day) / days_in_year
    angles = [2 * math.pi * f for f in (of_year, of_week, of_day)]
    return [seconds] + [g(a) for a in angles for g in (math.sin, math.cos)]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 2, 29, 23, 59, 59),  # a leap day, a Thursday, a second to midnight
        datetime(1969, 12, 31, 6, 0, 0),  # before the epoch: a Wednesday
        datetime(2023, 1, 1, 0, 0, 0),  # a Sunday, the year's start
    ],
)
def test_a_calendared_datetime_is_its_seconds_and_its_place_in_year_week_and_day(
    moment: datetime,
) -> None:
    got = data.calendar(pa.array([moment], pa.timestamp("us")))
    assert got.shape == (1, 7)
    assert got[0].tolist() == pytest.approx(expected_calendar(moment), rel=1e-6, abs=1e-6)


def test_a_null_datetime_is_a_row_of_nan_left_out_as_missing() -> None:
    got = data.calendar(pa.array([None, datetime(2024, 1, 1)], pa.timestamp("us")))
    assert np.isnan(got[0]).all() and not np.isnan(got[1]).any()
