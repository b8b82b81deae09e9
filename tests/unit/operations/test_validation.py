"""Inputs are checked against the wizard before anything runs: each problem names its field."""

from __future__ import annotations

from typing import Any

import pytest
from sluice.errors import Unprocessable
from sluice.inference.types import ColumnType
from sluice.operations.catalogue import catalogue
from sluice.operations.validation import canonical, check_columns, check_form

DATASET = {"type": "dataset", "id": "a" * 32}
SCHEMA = {"dataset": {"n": ColumnType.INT64, "s": ColumnType.STRING, "c": ColumnType.CATEGORY}}


def problems(name: str, raw: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(Unprocessable) as refused:
        check_form(catalogue()[name], raw)
    details: list[dict[str, str]] = refused.value.details
    return details


def test_defaults_are_filled() -> None:
    assert check_form(catalogue()["describe"], {"dataset": DATASET}) == {
        "dataset": DATASET,
        "columns": [],
        "top": 10,
    }


def test_a_missing_required_input_is_named() -> None:
    assert problems("select_columns", {"dataset": DATASET}) == [
        {"field": "input_data.columns", "problem": "required"}
    ]


def test_an_unknown_input_is_named() -> None:
    assert problems("describe", {"dataset": DATASET, "colums": ["n"]}) == [
        {"field": "input_data.colums", "problem": "no such input"}
    ]


def test_a_number_out_of_range_is_named() -> None:
    assert problems("describe", {"dataset": DATASET, "top": 0}) == [
        {"field": "input_data.top", "problem": "must be at least 1, not 0"}
    ]


def test_a_value_of_the_wrong_type_is_named() -> None:
    assert problems("describe", {"dataset": DATASET, "top": "ten"}) == [
        {"field": "input_data.top", "problem": "give an integer"}
    ]


def test_a_dataset_reference_of_another_kind_is_named() -> None:
    assert problems("describe", {"dataset": {"type": "task_output", "id": "a" * 32}}) == [
        {
            "field": "input_data.dataset",
            "problem": "type must be one of dataset, operation_output, not 'task_output'",
        }
    ]


def test_too_few_columns_are_named() -> None:
    assert problems("select_columns", {"dataset": DATASET, "columns": []}) == [
        {"field": "input_data.columns", "problem": "give at least 1 columns, not 0"}
    ]


def test_a_malformed_predicate_is_named() -> None:
    filtered = problems("filter_rows", {"dataset": DATASET, "filter": [{"column": "n"}]})
    assert filtered == [{"field": "input_data.filter", "problem": "[0.op]: Field required"}]


def test_unknown_columns_and_bad_filter_values_are_named() -> None:
    operation = catalogue()["filter_rows"]()
    inputs = {"dataset": DATASET, "filter": [{"column": "x", "op": "==", "value": 1}]}
    with pytest.raises(Unprocessable) as refused:
        check_columns(operation, inputs, SCHEMA)
    assert refused.value.details == [
        {"field": "input_data.filter[0].column", "problem": "no column 'x'"}
    ]
    inputs = {"dataset": DATASET, "filter": [{"column": "n", "op": ">", "value": "a"}]}
    with pytest.raises(Unprocessable) as refused:
        check_columns(operation, inputs, SCHEMA)
    assert refused.value.message == (
        "input_data.filter[0].value: 'a' cannot be compared with a int64 column"
    )


def test_an_aggregation_of_the_wrong_column_type_is_named() -> None:
    operation = catalogue()["group_by_aggregate"]()
    inputs = {
        "dataset": DATASET,
        "group_by": ["c"],
        "aggregations": [{"column": "s", "op": "sum", "name": None}],
        "filter": [],
    }
    with pytest.raises(Unprocessable) as refused:
        check_columns(operation, inputs, SCHEMA)
    assert refused.value.details == [
        {
            "field": "input_data.aggregations[0].op",
            "problem": "sum needs a bool, int or float column; 's' is string",
        }
    ]


def test_lists_whose_order_does_not_matter_are_sorted_for_the_cache() -> None:
    describe = catalogue()["describe"]
    select = catalogue()["select_columns"]
    assert canonical(describe, {"columns": ["b", "a"]})["columns"] == ["a", "b"]
    assert canonical(select, {"columns": ["b", "a"]})["columns"] == ["b", "a"]


def test_a_number_no_record_can_hold_is_named() -> None:
    predicates = [{"column": "n", "op": "==", "value": 10**40}]
    assert problems("filter_rows", {"dataset": DATASET, "filter": predicates}) == [
        {"field": "input_data.filter", "problem": "numbers hold at most 38 digits"}
    ]
