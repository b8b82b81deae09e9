"""A saved Keras model as a graph (issue 19, item 4): what the TensorFlow function runs.

The model's config is read and judged before Keras deserializes anything: only a
Sequential or Functional model whose every layer is in the layers manifest loads, so a
subclassed model or a custom layer fails naming itself, and no class outside Keras's
own is ever instantiated. Then ``load_model(compile=False)`` (safe mode) and its config
become nodes and edges: a node per layer, named by the layer; its parameters those the
manifest declares, less those at their defaults (an InputLayer keeps shape, dtype and
name, as MAID's did); edges from each layer's inbound tensors in call order, so that a
merge's inputs keep their order. The graph must then pass the same validation as a save.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sluice.errors import PayloadTooLarge
from sluice.networks import manifests
from sluice.networks.compile import load_keras
from sluice.networks.graph_models import Edge, GraphBody, Node, Position
from sluice.networks.manifest_models import ManifestEntry, ManifestKind
from sluice.networks.model_archive import MAX_UNPACKED_BYTES, ImportRefused
from sluice.networks.service import GraphInvalid, validate_graph
from sluice.networks.validation import INPUT_LAYER

_MODELS = ("Sequential", "Functional")
_MAX_CONFIG_BYTES = 10 * 1024 * 1024
_OBJECT_MODULES = ("keras.initializers", "keras.regularizers", "keras.constraints")
_SPACING = (220.0, 120.0)


def read_config(path: Path) -> dict[str, Any]:
    """The model's saved config (a .keras file's config.json, a .h5 file's attribute)."""
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("config.json")
                if info.file_size > _MAX_CONFIG_BYTES:
                    raise ImportRefused("bad_model", "the model's config.json is over 10 MB")
                text = archive.read(info).decode("utf-8")
        else:
            import h5py

            with h5py.File(path, "r") as file:
                _check_h5_sizes(file)
                raw = file.attrs.get("model_config")
                if raw is None:
                    raise ImportRefused(
                        "bad_model", "the .h5 file holds weights only, no model config"
                    )
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        config = json.loads(text)
    except (KeyError, ValueError, OSError) as exc:
        raise ImportRefused("bad_model", f"the model's config cannot be read: {exc}") from exc
    if not isinstance(config, dict):
        raise ImportRefused("bad_model", "the model's config is not an object")
    return config


def _check_h5_sizes(file: Any) -> None:
    """HDF5 datasets may be compressed: refuse a file that would hold more than the
    unpacked limit, from the sizes its datasets declare."""
    import h5py

    total = 0

    def count(_: str, item: Any) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size) * int(item.dtype.itemsize)

    file.visititems(count)
    if total > MAX_UNPACKED_BYTES:
        raise ImportRefused(
            "too_large_unpacked",
            f"the .h5 file's weights hold {total:,} bytes; at most {MAX_UNPACKED_BYTES:,}",
        )


def _layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    layers = config.get("config", {}).get("layers")
    return layers if isinstance(layers, list) else []


def check_config(config: dict[str, Any]) -> None:
    """Refuse a model that is not Sequential or Functional (a subclassed one), or that
    has a layer the manifest lacks, naming it."""
    kind = config.get("class_name")
    if kind not in _MODELS or not str(config.get("module") or "keras").startswith("keras"):
        raise ImportRefused(
            "subclassed_model",
            f"the model is a {kind!r} (a subclassed model?); only Sequential and Functional "
            "models import, since a subclass's call() is code, not a graph",
        )
    for layer in _layers(config):
        name = layer.get("config", {}).get("name") or layer.get("name")
        class_name = layer.get("class_name")
        entry = _entry(str(class_name))
        custom = layer.get("registered_name") not in (None, class_name)
        if entry is None or custom or not str(layer.get("module") or "keras").startswith("keras"):
            raise ImportRefused(
                "unknown_layer",
                f"the layer {name!r} is a {class_name!r}, which the layers manifest lacks",
            )


def _entry(class_name: str) -> ManifestEntry | None:
    return manifests.find(ManifestKind.LAYERS, class_name)


def load(path: Path) -> Any:
    """The model, deserialized by Keras in safe mode, uncompiled."""
    keras = load_keras()
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        message = " ".join(str(exc).split())[:2000] or type(exc).__name__
        raise ImportRefused("keras_error", f"Keras could not load the model: {message}") from exc


def _plain(keras: Any, layer: str, name: str, value: Any) -> Any:
    """A config value as a graph holds it: tuples as lists, a dtype policy as its name, a
    default-configured initializer, regularizer or constraint as its class name."""
    if isinstance(value, tuple | list):
        return [_plain(keras, layer, name, item) for item in value]
    if not isinstance(value, dict) or "class_name" not in value:
        return value
    class_name, config = value["class_name"], value.get("config") or {}
    if class_name == "DTypePolicy":
        return config.get("name")
    module = value.get("module")
    if module in _OBJECT_MODULES:
        family = getattr(keras, module.split(".")[1])
        if family.get(class_name).get_config() == config:
            return class_name
    raise ImportRefused(
        "unsupported_parameter",
        f"the layer {layer!r}'s {name} is a {class_name} configured as {config}, which a "
        "graph's parameter (a name) cannot hold",
    )


def _is_default(keras: Any, entry: ManifestEntry, name: str, value: Any) -> bool:
    spec = entry.parameter(name)
    default = None if spec is None else spec.default
    if value == default:
        return True
    if name == "activation" and value == "linear" and default is None:
        return True  # None is Keras's linear activation
    if name == "dtype" and default is None:
        return bool(value == keras.config.floatx())
    module = {"initializer": "initializers", "regularizer": "regularizers"}.get(
        name.rsplit("_", 1)[-1]
    )
    if module and isinstance(default, str) and isinstance(value, str):
        family = getattr(keras, module)
        return type(family.get(default)) is type(family.get(value))
    return False


def _node_params(keras: Any, layer: dict[str, Any], entry: ManifestEntry) -> dict[str, Any]:
    config, name = layer.get("config", {}), layer.get("config", {}).get("name")
    if entry.name == INPUT_LAYER:
        batch_shape = list(config.get("batch_shape") or [None])
        params: dict[str, Any] = {"shape": batch_shape[1:]}
        if batch_shape[0] is not None:
            params["batch_size"] = batch_shape[0]
        return {**params, "dtype": _plain(keras, name, "dtype", config.get("dtype")), "name": name}
    declared = {spec.name for spec in entry.parameters} - {"name"}
    params = {}
    for key, raw in config.items():
        if key not in declared:
            continue
        value = _plain(keras, name, key, raw)
        if not _is_default(keras, entry, key, value):
            params[key] = value
    return params


def _history(value: Any) -> Iterator[tuple[str, int, int]]:
    """The (layer, node index, tensor index) of every Keras tensor in a call's args."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            layer, node_index, tensor_index = value["config"]["keras_history"]
            yield str(layer), int(node_index), int(tensor_index)
            return
        for item in value.values():
            yield from _history(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _history(item)


def _sources(layer: dict[str, Any]) -> list[str]:
    name = layer.get("name") or layer.get("config", {}).get("name")
    inbound = layer.get("inbound_nodes") or []
    if len(inbound) > 1:
        raise ImportRefused(
            "shared_layer",
            f"the layer {name!r} is called {len(inbound)} times; a graph's node is one call",
        )
    sources = []
    for call in inbound:
        for source, _, tensor_index in _history([call.get("args"), call.get("kwargs")]):
            if tensor_index:
                raise ImportRefused(
                    "multi_output_layer",
                    f"the layer {name!r} takes output {tensor_index} of {source!r}; a graph's "
                    "node has one output",
                )
            sources.append(source)
    return sources


def to_graph(model_config: dict[str, Any], name: str) -> GraphBody:
    """The saved config of a loaded Sequential or Functional model as a graph."""
    keras = load_keras()
    layers = _layers(model_config)
    sequential = model_config.get("class_name") == "Sequential"
    nodes: list[Node] = []
    edges: list[Edge] = []
    depth: dict[str, int] = {}
    for index, layer in enumerate(layers):
        entry = _entry(str(layer.get("class_name")))
        assert entry is not None  # check_config refused the rest
        node_id = str(layer.get("config", {}).get("name") or layer.get("name"))
        sources = ([nodes[-1].id] if nodes else []) if sequential else _sources(layer)
        if sequential and index == 0 and entry.name != INPUT_LAYER:
            raise ImportRefused(
                "no_input_shape", "the Sequential model has no Input: its input shape is unknown"
            )
        for source in sources:
            edges.append(Edge(id=f"e{len(edges) + 1}", source=source, target=node_id))
        depth[node_id] = max((depth.get(source, 0) + 1 for source in sources), default=0)
        row = sum(1 for other in nodes if depth[other.id] == depth[node_id])
        nodes.append(
            Node(
                id=node_id,
                type=entry.name,
                params=_node_params(keras, layer, entry),
                position=Position(x=depth[node_id] * _SPACING[0], y=row * _SPACING[1]),
            )
        )
    return GraphBody(name=name, framework="keras", nodes=nodes, edges=edges)


def import_model(path: Path, name: str) -> tuple[GraphBody, int]:
    """The model file at ``path`` as a valid graph named ``name``, and its parameter count;
    ``ImportRefused`` naming why not."""
    config = read_config(path)
    check_config(config)
    model = load(path)
    saved = {"class_name": config["class_name"], "config": model.get_config()}
    try:
        graph = to_graph(saved, name)
    except ValidationError as exc:  # a layer name, a value or a size a graph cannot hold
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ImportRefused(
            "invalid_graph", f"the model has no graph form: {where}: {error['msg']}"
        ) from exc
    try:
        validate_graph(graph)
    except GraphInvalid as exc:
        failure = ImportRefused("invalid_graph", f"the imported {exc.message}")
        failure.details = exc.details
        raise failure from exc
    except PayloadTooLarge as exc:  # over what a graph record holds
        raise ImportRefused("graph_too_large", f"the imported graph: {exc.message}") from exc
    return graph, int(model.count_params())
