"""The committed manifests, read without TensorFlow: what the api Lambda serves and what
graph validation checks against."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from sluice.errors import NotFound
from sluice.networks.manifest_models import Manifest, ManifestEntry, ManifestKind

MANIFEST_DIR = Path(__file__).parent / "manifests"
"""``<kind>.json`` for each kind, written by ``sluice manifests``."""


def render(manifest: Manifest) -> str:
    """A manifest as its committed text (stable: the drift test compares it byte for byte)."""
    return json.dumps(manifest.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"


@cache
def load(kind: ManifestKind) -> Manifest:
    """The committed manifest of ``kind`` (read once per process)."""
    text = (MANIFEST_DIR / f"{kind.value}.json").read_text(encoding="utf-8")
    return Manifest.model_validate_json(text)


@cache
def _index(kind: ManifestKind) -> dict[str, ManifestEntry]:
    """Every entry by its name and by each of its aliases."""
    index: dict[str, ManifestEntry] = {}
    for entry in load(kind).entries:
        index[entry.name] = entry
        for alias in entry.aliases:
            index.setdefault(alias, entry)
    return index


def find(kind: ManifestKind, name: str) -> ManifestEntry | None:
    """The entry called ``name`` (or one of its aliases), or None."""
    return _index(kind).get(name)


def entry(kind: ManifestKind, name: str) -> ManifestEntry:
    """The entry called ``name``; NotFound when the manifest has none."""
    found = find(kind, name)
    if found is None:
        raise NotFound(f"no {kind.value} entry named {name!r}", {"field": "name"})
    return found
