"""Keras model files made in the tests: the graphs of the round trip, saved as .keras or
.h5 by the compile's own builder, or zipped; and hostile archives for the limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from sluice.networks.compile import build_model
from sluice.networks.graph_models import GraphBody


def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}


def graph(name: str, nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> GraphBody:
    return GraphBody.model_validate(
        {
            "name": name,
            "nodes": nodes,
            "edges": [{"source": s, "target": t} for s, t in edges],
        }
    )


MLP = graph(
    "mlp",
    [
        node("in", "InputLayer", shape=[8], dtype="float32", name="in"),
        node("d1", "Dense", units=16, activation="relu"),
        node("drop", "Dropout", rate=0.5),
        node("out", "Dense", units=1, activation="sigmoid"),
    ],
    [("in", "d1"), ("d1", "drop"), ("drop", "out")],
)
TWO_INPUTS = graph(
    "two_inputs",
    [
        node("a", "InputLayer", shape=[4], dtype="float32", name="a"),
        node("b", "InputLayer", shape=[6], dtype="float32", name="b"),
        node("cat", "Concatenate"),
        node("d", "Dense", units=3, activation="relu"),
        node("o", "Dense", units=1),
    ],
    [("a", "cat"), ("b", "cat"), ("cat", "d"), ("d", "o")],
)


def save(graph: GraphBody, path: Path) -> int:
    """Build ``graph`` as compile does, save it at ``path`` (.keras or .h5); its
    parameter count."""
    model, _ = build_model(graph)
    model.save(path)
    return int(model.count_params())


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (name -> content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def bomb(unpacked: int = 150_000_000) -> bytes:
    """A zip whose one .keras entry is ``unpacked`` zero bytes: ~1000x deflated."""
    buffer = io.BytesIO()
    block = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("model.keras", "w", force_zip64=True) as entry,
    ):
        for _ in range(unpacked // len(block)):
            entry.write(block)
    return buffer.getvalue()
