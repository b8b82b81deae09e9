"""sluice.training.checks: what a training request must agree with, each problem named."""

from __future__ import annotations

from typing import Any

from sluice.inference.types import ColumnType
from sluice.networks.graph_models import GraphBody, GraphCheck
from sluice.training.checks import embedding_inputs, prediction_problems, training_problems
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


def graph_body(target: str, **params: Any) -> GraphBody:
    def node(node_id: str, layer: str, **values: Any) -> dict[str, Any]:
        return {"id": node_id, "type": layer, "params": values, "position": {"x": 0, "y": 0}}

    return GraphBody.model_validate(
        {
            "name": "g",
            "nodes": [node("in", "Input", shape=[1]), node("next", target, **params)],
            "edges": [{"source": "in", "target": "next"}],
        }
    )


def test_an_input_feeding_an_embedding_is_found_with_its_input_dim() -> None:
    assert embedding_inputs(graph_body("Embedding", input_dim=7, output_dim=2)) == {"in": 7}
    assert embedding_inputs(graph_body("Dense", units=2)) == {}


def test_an_embedding_input_takes_one_index_per_category_column() -> None:
    body = TrainingParams(x_columns=["kind"], y_column="label")
    categories: dict[str, list[str] | None] = {"kind": ["high", "low", "mid"]}
    graph = check({"in": [1]}, [1])
    assert training_problems(body, graph, SCHEMA, categories, {"in": 4}) == []


def test_an_embedding_too_small_for_the_values_and_the_unknown_index_is_named() -> None:
    body = TrainingParams(x_columns=["kind"], y_column="label")
    found = training_problems(
        body, check({"in": [1]}, [1]), SCHEMA, {"kind": ["a", "b", "c"]}, {"in": 3}
    )
    assert found == [
        {
            "message": "input node 'in' feeds an Embedding of input_dim 3; its columns' values "
            "take indices 1..3 (0 for an unknown value): input_dim must be at least 4",
            "field": "x_columns",
            "node": "in",
        }
    ]


def test_an_embedding_input_refuses_a_number_column() -> None:
    body = TrainingParams(x_columns=["a"], y_column="label")
    found = training_problems(body, check({"in": [1]}, [1]), SCHEMA, {}, {"in": 10})
    assert [(p["column"], p["node"]) for p in found] == [("a", "in")]
    assert "category indices" in found[0]["message"]


INPUTS = {"in": ["a", "kind"]}
VOCAB = {"kind": ["high", "low"]}


def test_a_dataset_to_predict_with_the_models_columns_has_no_problem() -> None:
    text_kind = {**SCHEMA, "kind": ColumnType.STRING}  # matched by value
    assert prediction_problems(INPUTS, VOCAB, text_kind, ["note"]) == []


def test_a_dataset_to_predict_lacking_an_input_or_of_another_type_is_named() -> None:
    found = prediction_problems(INPUTS, VOCAB, {"a": ColumnType.STRING}, [])
    assert [(p["column"], p.get("type")) for p in found] == [("a", "string"), ("kind", None)]
    numbers = prediction_problems(INPUTS, VOCAB, {**SCHEMA, "kind": ColumnType.INT8}, [])
    assert numbers[0]["message"] == "column 'kind' is int8; the model took it as a category"


def test_a_kept_column_must_exist_and_not_take_an_output_name() -> None:
    schema = {**SCHEMA, "prediction_0": ColumnType.FLOAT64}
    found = prediction_problems(INPUTS, VOCAB, schema, ["nope", "prediction_0"])
    assert [(p["field"], p["column"]) for p in found] == [
        ("keep_columns", "nope"),
        ("keep_columns", "prediction_0"),
    ]


def test_a_calendared_datetime_takes_seven_values_of_its_input() -> None:
    assert problems(check({"in": [9]}, [1]), datetime_features="calendar") == []
    found = problems(check({"in": [3]}, [1]), datetime_features="calendar")
    assert found[0]["node"] == "in" and "9 value(s)" in found[0]["message"]


def test_a_dataset_to_predict_needs_a_datetime_where_the_model_took_the_calendar() -> None:
    found = prediction_problems(
        {"in": ["when"]}, {}, {"when": ColumnType.TIMEDELTA}, [], frozenset({"when"})
    )
    assert found[0]["message"] == (
        "column 'when' is timedelta; the model took it as a datetime (by the calendar)"
    )
