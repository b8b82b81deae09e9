"""Every sample event under events/ parses with the model its handler declares.

A function's samples are in events/<its code folder's name>/: all of them where the
folder holds one function's code (api, on_upload, export_dataset), else those named
after its module (``finish.json``, ``finish_failure.json`` for ingest/finish.py).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import TypeAdapter
from sluice.catalog import CATALOG, PROJECT_ROOT, FunctionSpec

EVENTS = PROJECT_ROOT / "events"


def handler_module(spec: FunctionSpec) -> ModuleType:
    """The function's handler module, loaded from its file as the Lambda runtime does."""
    found = importlib.util.spec_from_file_location(f"event_model_{spec.name}", spec.module_path)
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def samples_of(spec: FunctionSpec) -> list[Path]:
    """The sample events of ``spec``'s function."""
    folder = EVENTS / Path(spec.code_dir).name
    shared = sum(other.code_dir == spec.code_dir for other in CATALOG.functions) > 1
    module = spec.handler.rsplit(".", 1)[0]
    return sorted(
        path
        for path in folder.glob("*.json")
        if not shared or path.stem == module or path.stem.startswith(f"{module}_")
    )


SAMPLES = [(spec, path) for spec in CATALOG.functions for path in samples_of(spec)]


@pytest.mark.parametrize(("spec", "path"), SAMPLES, ids=[f"{s.name}:{p.name}" for s, p in SAMPLES])
def test_a_sample_event_validates_against_its_handlers_event_model(
    spec: FunctionSpec, path: Path
) -> None:
    model: Any = handler_module(spec).EVENT_MODEL
    TypeAdapter(model).validate_python(json.loads(path.read_text()))


def test_every_sample_event_belongs_to_exactly_one_function() -> None:
    owners: dict[Path, list[str]] = {path: [] for path in EVENTS.glob("*/*.json")}
    for spec, path in SAMPLES:
        owners[path].append(spec.name)
    assert {path.relative_to(EVENTS).as_posix(): names for path, names in owners.items()} == {
        path.relative_to(EVENTS).as_posix(): names
        for path, names in owners.items()
        if len(names) == 1
    }


def test_every_function_has_a_sample_event() -> None:
    assert {spec.name for spec in CATALOG.functions} - {spec.name for spec, _ in SAMPLES} == set()
