"""A Distributed Map's definition as moto's grammar takes it, and what it drops put back.

moto's grammar has no ``ItemBatcher`` (a definition with one does not parse), and refuses
``"ExecutionType": "EXPRESS"`` and a whole-number ``ToleratedFailurePercentage``. The
definition handed to moto's parser has every Map state's ``ItemBatcher`` taken out (the
other two handed over as STANDARD and a float: here both kinds of children run alike),
and the parsed Map states get what they lack back (:func:`declaration`), so the same ASL
file is accepted here as in AWS. A parsed definition is kept for the next execution of
the same definition (:func:`parsing`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_DECL = "_sluice_map_decl"
"""Where a parsed Map state keeps what moto's parser dropped of its definition."""


@dataclass(frozen=True)
class ItemBatcher:
    """A Map state's ``ItemBatcher``: how many items, or input bytes, a child gets."""

    max_items: int | None = None
    max_items_path: str | None = None
    max_bytes: int | None = None
    max_bytes_path: str | None = None
    batch_input: Any = None

    @classmethod
    def of(cls, decl: dict[str, Any]) -> ItemBatcher:
        known = {
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
        }
        unknown = set(decl) - known
        if unknown:
            raise ValueError(f"ItemBatcher fields not run locally: {sorted(unknown)}")
        return cls(
            max_items=decl.get("MaxItemsPerBatch"),
            max_items_path=decl.get("MaxItemsPerBatchPath"),
            max_bytes=decl.get("MaxInputBytesPerBatch"),
            max_bytes_path=decl.get("MaxInputBytesPerBatchPath"),
            batch_input=decl.get("BatchInput"),
        )


@dataclass(frozen=True)
class MapDecl:
    """What moto's parsed Map state lacks of its definition."""

    batcher: ItemBatcher | None
    count_declared: bool
    percentage_declared: bool
    inner: dict[str, MapDecl]


def declaration(state: Any) -> MapDecl | None:
    """What the definition of the parsed Map state ``state`` declared that moto dropped;
    None for a state not parsed through :func:`parsing`."""
    decl: MapDecl | None = getattr(state, _DECL, None)
    return decl


def _without_batchers(states: dict[str, Any]) -> dict[str, MapDecl]:
    """Take ``ItemBatcher`` out of every Map state of ``states`` (in place, nested Maps
    too), with what else moto's grammar refuses of what AWS takes (EXPRESS children, a
    whole-number percentage) put as it takes it; what each Map state declared, by name."""
    found: dict[str, MapDecl] = {}
    for name, state in states.items():
        if not isinstance(state, dict) or state.get("Type") != "Map":
            continue
        batcher = state.pop("ItemBatcher", None)
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        config = processor.get("ProcessorConfig") or {}
        if config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"  # the grammar's only kind; both run alike
        percentage = state.get("ToleratedFailurePercentage")
        if isinstance(percentage, int):
            state["ToleratedFailurePercentage"] = float(percentage)  # the grammar wants 0.0
        found[name] = MapDecl(
            batcher=ItemBatcher.of(batcher) if batcher is not None else None,
            count_declared=bool(
                {"ToleratedFailureCount", "ToleratedFailureCountPath"} & set(state)
            ),
            percentage_declared=bool(
                {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"} & set(state)
            ),
            inner=_without_batchers(processor.get("States") or {}),
        )
    return found


def _attach(states: Any, found: dict[str, MapDecl]) -> None:
    for name, decl in found.items():
        state = states.states[name]
        setattr(state, _DECL, decl)
        _attach(state.iteration_component._states, decl.inner)


PARSED_DEFINITIONS = 64
"""Parsed definitions kept (a deployment has a handful of state machines)."""


def parsing(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """moto's ``AmazonStateLanguageParser.parse`` made to take what AWS takes of a Map
    state, and to keep what it parsed."""

    # Kept by definition: moto parses the definition with ANTLR at every execution's
    # start (40-100 ms for run_operation's, a tenth of a small operation's time). A parsed
    # program is declarations only: each execution's state lives in its own Environment,
    # and the one attribute a component sets while evaluating (EvalComponent.heap_key, a
    # fixed random key) indexes that environment's heap. A failed parse is not kept.
    @functools.lru_cache(maxsize=PARSED_DEFINITIONS)
    def parse_with_batchers(definition: str) -> Any:
        try:
            document = json.loads(definition)
        except ValueError:
            return parse(definition)  # moto's own parser says what is wrong with it
        if not isinstance(document, dict):
            return parse(definition)
        found = _without_batchers(document.get("States") or {})
        program, tree = parse(json.dumps(document))
        _attach(program.states, found)
        return program, tree

    # A plain function: moto calls it on the class (``AmazonStateLanguageParser.parse``),
    # where it is not bound, as its staticmethod was not.
    return parse_with_batchers


__all__ = ["PARSED_DEFINITIONS", "ItemBatcher", "MapDecl", "declaration", "parsing"]
