"""Have moto's DynamoDB write items onto the wire as they are, not one shape at a time.

moto answers DynamoDB with its generic, model-driven JSON serializer. For every
``AttributeValue`` in an item it asks each of the union's ten members (S, N, B, SS, M,
L, ...) for a value through a chain of alias lookups: ~25 Python calls per attribute
value. A dataset's record holds its columns' statistics (a few thousand values), so
one GetItem or UpdateItem of it cost ~0.1 s of the embedded AWS's CPU, and a finishing
ingest waited on several of them.

moto's DynamoDB already hands the serializer each item in the wire's own form
(``{type: value}``, with B and BS as raw bytes for it to base64-encode), so
``install()`` writes an ``AttributeValue`` straight out, encoding only the bytes. The
answer is the same JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from moto.core.serialize import BaseJSONSerializer

from sluice.local.patches.replace import replace_once, replaced

ATTRIBUTE_VALUE = "AttributeValue"
"""The shape name of DynamoDB's (and DynamoDB Streams') item attribute union."""


def _text(value: Any) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


def wire_value(value: dict[str, Any]) -> dict[str, Any]:
    """One attribute value as DynamoDB's JSON protocol writes it."""
    kind, inner = next(iter(value.items()))
    if kind == "M":
        return {"M": {name: wire_value(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [wire_value(member) for member in inner]}
    if kind == "B":
        return {"B": _text(inner)}
    if kind == "BS":
        return {"BS": [_text(member) for member in inner]}
    return {kind: inner}


def _attribute_values_as_they_are(serialize: Callable[..., None]) -> Callable[..., None]:
    def serialized(
        self: BaseJSONSerializer, out: dict[str, Any], value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == ATTRIBUTE_VALUE and isinstance(value, dict) and len(value) == 1:
            out[self.get_serialized_name(shape, key)] = wire_value(value)
            return
        serialize(self, out, value, shape, key)

    return serialized


def install() -> None:
    """Serialize DynamoDB attribute values directly. Safe to call more than once."""
    replace_once(BaseJSONSerializer, "_serialize_type_structure", _attribute_values_as_they_are)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(BaseJSONSerializer, "_serialize_type_structure")


__all__ = ["install", "installed", "wire_value"]
