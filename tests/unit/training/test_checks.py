"""sluice.training.checks: what a training request must agree with, each problem named."""

from __future__ import annotations

from typing import Any

from sluice.inference.types import ColumnType
from sluice.networks.graph_models import GraphCheck
from sluice.training.checks import training_problems
from sluice.training.models import TrainingParams

SCHEMA = {
    "a": ColumnType.FLOAT64,
    "b": ColumnType.INT8,
    "when": ColumnType.DATETIME,
    "label": ColumnType.BOOL,
    "kind": ColumnType.CATEGORY,
    "note": ColumnType.STRING,
}


def check(inputs: dict[str, list[int | None]], out: list[int | None]) -> GraphCheck:
    return GraphCheck(
        order=[*inputs, "out"],
        inputs=list(inputs),
        outputs=["out"],
        shapes={**inputs, "out": out},
    )


def problems(graph: GraphCheck, **params: Any) -> list[dict[str, Any]]:
    body = {"x_columns": ["a", "b", "when"], "y_column": "label", **params}
    return training_problems(TrainingParams.model_validate(body), graph, SCHEMA)


def test_a_request_that_fits_has_no_problem() -> None:
    assert problems(check({"in": [3]}, [1])) == []


def test_an_unknown_column_and_a_text_column_are_named() -> None:
    found = problems(check({"in": [3]}, [1]), x_columns=["a", "nope", "note"])
    assert [p.get("column") for p in found] == ["nope", "note"]
    assert "text" in found[1]["message"]


def test_the_input_nodes_width_must_match_the_columns() -> None:
    found = problems(check({"in": [4]}, [1]))
    assert found[0]["node"] == "in" and "3 value(s)" in found[0]["message"]


def test_several_inputs_need_a_map_naming_each() -> None:
    graph = check({"left": [2], "right": [1]}, [1])
    assert "map of input node id" in problems(graph)[0]["message"]
    found = problems(graph, x_columns={"left": ["a", "b"], "other": ["when"]})
    assert {p.get("node") for p in found} == {"right", "other"}
    assert problems(graph, x_columns={"left": ["a", "b"], "right": ["when"]}) == []


def test_the_output_width_must_fit_the_loss() -> None:
    assert problems(check({"in": [3]}, [3]))[0]["node"] == "out"  # mse on three values
    assert problems(check({"in": [3]}, [3]), loss="sparse_categorical_crossentropy") == []
    one = problems(check({"in": [3]}, [1]), loss="categorical_crossentropy")
    assert one[0]["field"] == "loss"


def test_a_category_label_is_allowed_and_the_label_is_not_an_input() -> None:
    assert problems(check({"in": [3]}, [3]), y_column="kind", y_one_hot=True) == []
    found = problems(check({"in": [3]}, [1]), x_columns=["a", "b", "label"])
    assert found[0]["field"] == "y_column"


def test_unknown_optimizer_loss_and_metric_are_named() -> None:
    found = problems(check({"in": [3]}, [1]), optimizer="adamm", loss="msee", metrics=["auc2"])
    assert [p["field"] for p in found] == ["optimizer", "loss", "metrics"]
    assert problems(check({"in": [3]}, [1]), metrics=["accuracy", "AUC"]) == []


def test_a_category_input_is_one_hot_over_its_values() -> None:
    body = TrainingParams(x_columns=["a", "kind"], y_column="label")
    categories: dict[str, list[str] | None] = {"kind": ["high", "low", "mid"]}
    assert training_problems(body, check({"in": [4]}, [1]), SCHEMA, categories) == []
    wrong = training_problems(body, check({"in": [2]}, [1]), SCHEMA, categories)
    assert wrong[0]["node"] == "in" and "4 value(s)" in wrong[0]["message"]
    unknown = training_problems(body, check({"in": [2]}, [1]), SCHEMA, {"kind": None})
    assert unknown[0]["column"] == "kind" and "not known" in unknown[0]["message"]
