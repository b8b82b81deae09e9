"""sluice.training.batch_predict: a row group's predictions as the output's columns,
row for row with the input (incomplete rows null)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.training.batch_predict import model_rows, prediction_columns
from sluice.training.prediction_models import SavedPreprocessing


def test_one_output_value_is_the_prediction_column_null_where_a_row_was_incomplete() -> None:
    complete = np.array([True, False, True])
    columns = prediction_columns(np.array([[0.25], [0.75]]), complete, 1, None)
    assert list(columns) == ["prediction"]
    assert columns["prediction"].to_pylist() == [0.25, None, 0.75]


def test_several_output_values_are_numbered_and_a_category_label_names_its_class() -> None:
    outputs = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], dtype=np.float32)
    columns = prediction_columns(outputs, np.array([True, True, False]), 3, ["a", "b", "c"])
    assert list(columns) == ["prediction_0", "prediction_1", "prediction_2", "predicted_class"]
    assert columns["prediction_1"].to_pylist()[2] is None
    assert columns["predicted_class"].to_pylist() == ["b", "a", None]
    assert pa.types.is_dictionary(columns["predicted_class"].type)  # a category column


def test_a_group_is_encoded_as_in_training_and_incomplete_rows_are_marked() -> None:
    saved = SavedPreprocessing.model_validate(
        {
            "inputs": {"nums": ["a"], "cat": ["kind"], "hot": ["kind"]},
            "categories": {"kind": ["low", "mid"]},
            "indexed": ["cat"],
        }
    )
    table = pa.table({"a": [1.5, None, 2.0], "kind": ["mid", "low", "huge"]})
    x, complete = model_rows(table, saved)
    assert x["cat"].tolist() == [[2.0], [1.0], [0.0]]  # an unknown value: index 0
    assert x["hot"].tolist()[0] == [0.0, 1.0]
    assert complete.tolist() == [True, False, False]  # a null number; unknown one-hot
