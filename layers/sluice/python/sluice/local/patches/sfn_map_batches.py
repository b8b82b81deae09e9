"""A Distributed Map's children's inputs: the items through ``ItemSelector``, then
batched as its ``ItemBatcher`` says. Each child's input is then
``{"Items": [...], "BatchInput": {...}}``: the items grouped by ``MaxItemsPerBatch`` (or
``...Path``) and ``MaxInputBytesPerBatch`` (or ``...Path``), and ``BatchInput``
evaluated against the Map state's input
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html)."""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.utils import json_path

from sluice.local.patches.sfn_map_definition import declaration


def template_value(template: Any, data: Any, context: Any) -> Any:
    """A JSONPath payload template evaluated: a key ending in ``.$`` takes the value at its
    path (``$...`` in ``data``, ``$$...`` in the context object); the rest is copied."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not value.startswith("$"):
                    raise ValueError(f"{key}: only paths are evaluated locally, not {value!r}")
                if value.startswith("$$"):
                    out[key[:-2]] = json_path.extract_json(value[1:], context)
                else:
                    out[key[:-2]] = json_path.extract_json(value, data)
            else:
                out[key] = template_value(value, data, context)
        return out
    if isinstance(template, list):
        return [template_value(value, data, context) for value in template]
    return template


def batches(items: list[Any], max_items: int | None, max_bytes: int | None) -> list[list[Any]]:
    """``items`` in order, cut into batches of at most ``max_items`` items and
    ``max_bytes`` bytes of JSON each (a single larger item still gets a batch)."""
    out: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item, separators=(",", ":")).encode())
        full = max_items is not None and len(current) >= max_items
        too_big = max_bytes is not None and current and size + item_bytes > max_bytes
        if full or too_big:
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += item_bytes
    if current:
        out.append(current)
    return out


def child_inputs(state: StateMap, env: Any, items: list[Any], map_input: Any) -> list[Any]:
    """Each child's input: the items through ``ItemSelector`` (evaluated with
    ``$$.Map.Item``), then batched as ``ItemBatcher`` says."""
    if state.item_selector is not None:
        selected = []
        for index, item in enumerate(items):
            frame = env.open_inner_frame()
            try:
                frame.states.context_object.context_object_data["Map"] = MapData(
                    Item=ItemData(Index=index, Value=item)
                )
                frame.states.reset(input_value=map_input)
                frame.stack.append(map_input)
                state.item_selector.eval(frame)
                selected.append(frame.stack.pop())
            finally:
                env.delete_frame(frame)
        items = selected
    decl = declaration(state)
    batcher = None if decl is None else decl.batcher
    if batcher is None:
        return items
    context = env.states.context_object.context_object_data
    max_items = batcher.max_items
    if batcher.max_items_path is not None:
        max_items = int(json_path.extract_json(batcher.max_items_path, map_input))
    max_bytes = batcher.max_bytes
    if batcher.max_bytes_path is not None:
        max_bytes = int(json_path.extract_json(batcher.max_bytes_path, map_input))
    batch_input = (
        None
        if batcher.batch_input is None
        else template_value(batcher.batch_input, map_input, context)
    )
    out = []
    for batch in batches(items, max_items, max_bytes):
        child: dict[str, Any] = {"Items": batch}
        if batch_input is not None:
            child["BatchInput"] = batch_input
        out.append(child)
    return out


__all__ = ["batches", "child_inputs", "template_value"]
