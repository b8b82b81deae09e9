"""A saved Keras model as a graph (``sluice.networks.model_import``), in this process:
the round trip from a graph through compile's builder and a file back to the graph."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sluice.networks.compile import compile_graph, load_keras
from sluice.networks.graph_models import GraphBody
from sluice.networks.model_archive import ImportRefused, prepare
from sluice.networks.model_import import import_model

from tests.model_files import MLP, TWO_INPUTS, save, zipped


def shape_of(graph: GraphBody) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    """What a round trip keeps: each node's id, type and params; each edge's ends."""
    return (
        [(n.id, n.type, n.params) for n in graph.nodes],
        [(e.source, e.target) for e in graph.edges],
    )


@pytest.mark.parametrize("graph", [MLP, TWO_INPUTS], ids=["mlp", "two_inputs"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_graph_saved_by_compiles_builder_imports_as_the_same_graph(
    graph: GraphBody, suffix: str, tmp_path: Path
) -> None:
    count = save(graph, tmp_path / f"model{suffix}")
    imported, imported_count = import_model(tmp_path / f"model{suffix}", graph.name)
    assert shape_of(imported) == shape_of(graph)
    assert imported_count == count == compile_graph(graph).parameter_count
    assert imported.name == graph.name


def test_a_zip_holding_a_keras_file_imports_its_model(tmp_path: Path) -> None:
    save(MLP, tmp_path / "inner.keras")
    upload = tmp_path / "upload.zip"
    upload.write_bytes(zipped({"models/mlp.keras": (tmp_path / "inner.keras").read_bytes()}))
    work = tmp_path / "work"
    work.mkdir()
    imported, count = import_model(prepare(upload, ".zip", work), "zipped")
    assert shape_of(imported) == shape_of(MLP)
    assert count == 161


def test_a_sequential_model_becomes_a_chain_from_its_input(tmp_path: Path) -> None:
    keras = load_keras()
    model = keras.Sequential(
        [
            keras.Input((5,), name="x"),
            keras.layers.Dense(4, activation="tanh", use_bias=False, name="h"),
            keras.layers.Dense(2, kernel_initializer="he_normal", name="y"),
        ],
        name="seq",
    )
    model.save(tmp_path / "seq.keras")
    imported, count = import_model(tmp_path / "seq.keras", "seq")
    assert shape_of(imported) == (
        [
            ("x", "InputLayer", {"shape": [5], "dtype": "float32", "name": "x"}),
            ("h", "Dense", {"units": 4, "activation": "tanh", "use_bias": False}),
            ("y", "Dense", {"units": 2, "kernel_initializer": "HeNormal"}),
        ],
        [("x", "h"), ("h", "y")],
    )
    assert count == 5 * 4 + 4 * 2 + 2
    assert [(n.position.x, n.position.y) for n in imported.nodes] == [(0, 0), (220, 0), (440, 0)]


def test_a_functional_model_with_two_outputs_imports_whole(tmp_path: Path) -> None:
    keras = load_keras()
    x = keras.Input((3,), name="x")
    shared = keras.layers.Dense(4, name="shared")(x)
    first = keras.layers.Dense(1, name="first")(shared)
    second = keras.layers.Dense(2, name="second")(shared)
    keras.Model(x, [first, second]).save(tmp_path / "two.keras")
    imported, _ = import_model(tmp_path / "two.keras", "two")
    assert shape_of(imported)[1] == [("x", "shared"), ("shared", "first"), ("shared", "second")]


def test_a_subclassed_model_fails_naming_its_class(tmp_path: Path) -> None:
    keras = load_keras()

    @keras.saving.register_keras_serializable(package="tests")
    class Doubler(keras.Model):  # type: ignore[misc,name-defined]
        def call(self, inputs: Any) -> Any:
            return inputs * 2

    model = Doubler()
    model(keras.ops.ones((1, 3)))
    model.save(tmp_path / "sub.keras")
    with pytest.raises(ImportRefused) as caught:
        import_model(tmp_path / "sub.keras", "sub")
    assert caught.value.code == "subclassed_model"
    assert caught.value.message.startswith("the model is a 'Doubler' (a subclassed model?)")


def test_a_layer_the_manifest_lacks_fails_naming_it(tmp_path: Path) -> None:
    # A Lambda layer holds Python code: the manifest leaves it out, and the import
    # refuses it before Keras would deserialize anything.
    keras = load_keras()
    x = keras.Input((3,), name="x")
    y = keras.layers.Lambda(lambda t: t * 2, name="double")(x)
    keras.Model(x, y).save(tmp_path / "lambda.keras")
    with pytest.raises(ImportRefused) as caught:
        import_model(tmp_path / "lambda.keras", "lambda")
    assert (caught.value.code, caught.value.message) == (
        "unknown_layer",
        "the layer 'double' is a 'Lambda', which the layers manifest lacks",
    )


def test_a_custom_config_the_graph_cannot_hold_fails_naming_the_parameter(tmp_path: Path) -> None:
    keras = load_keras()
    x = keras.Input((3,), name="x")
    y = keras.layers.Dense(2, kernel_initializer=keras.initializers.HeNormal(seed=7), name="d")(x)
    keras.Model(x, y).save(tmp_path / "seeded.keras")
    with pytest.raises(ImportRefused) as caught:
        import_model(tmp_path / "seeded.keras", "seeded")
    assert caught.value.code == "unsupported_parameter"
    assert caught.value.message.startswith("the layer 'd''s kernel_initializer is a HeNormal")


def test_an_h5_file_of_weights_only_fails_with_its_reason(tmp_path: Path) -> None:
    keras = load_keras()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").rename(tmp_path / "w.h5")
    with pytest.raises(ImportRefused) as caught:
        import_model(tmp_path / "w.h5", "w")
    assert (caught.value.code, caught.value.message) == (
        "bad_model",
        "the .h5 file holds weights only, no model config",
    )


def test_the_config_is_judged_before_keras_loads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "custom.keras"
    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {
                    "class_name": "Evil",
                    "module": "evil",
                    "config": {"name": "e"},
                    "registered_name": "x>Evil",
                }
            ]
        },
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    keras = load_keras()
    monkeypatch.setattr(keras.models, "load_model", lambda *_, **__: pytest.fail("loaded"))
    with pytest.raises(ImportRefused) as caught:
        import_model(path, "custom")
    assert caught.value.message == "the layer 'e' is a 'Evil', which the layers manifest lacks"


def test_a_layer_name_a_graph_cannot_hold_fails_naming_it(tmp_path: Path) -> None:
    keras = load_keras()
    x = keras.Input((3,), name="x")
    keras.Model(x, keras.layers.Dense(2, name="my dense")(x)).save(tmp_path / "named.keras")
    with pytest.raises(ImportRefused) as caught:
        import_model(tmp_path / "named.keras", "named")
    assert caught.value.code == "invalid_graph"
    assert caught.value.message.startswith("the model has no graph form: id: String should match")
