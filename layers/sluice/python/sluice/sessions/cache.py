"""The operation cache: the same request on the same data is answered with the result
already computed.

The key is the SHA-256 of the operation's name, its inputs (defaults filled, lists whose
order does not matter sorted, dataset references replaced by what identifies their typed
data: the content hash of their file and the run that typed it) as canonical JSON. A
replaced file gives a new content hash and a new run, so a new key; a re-inference with
other types gives a new run. Entries are ``OPCACHE#<key>`` items in the owner's
partition: shared by every session of the owner, never seen by another. Only a
completed run writes one; a failed run leaves none.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sluice.operations.base import InputDataset
from sluice.operations.wizard import DATASET_TYPES, InputType, WizardInput
from sluice.store.records import RecordTable

PREFIX = "OPCACHE#"


def cache_key(
    name: str,
    specs: dict[str, WizardInput],
    inputs: dict[str, Any],
    datasets: dict[str, list[InputDataset]],
) -> str:
    """The key of ``name`` run on canonical ``inputs`` over ``datasets`` (by input key)."""
    material: dict[str, Any] = {}
    for key, value in inputs.items():
        spec = specs[key]
        if spec.type in DATASET_TYPES:
            read = [{"content_hash": d.content_hash, "run": d.run} for d in datasets[key]]
            if spec.type is InputType.DATASETS and not spec.ordered:
                read.sort(key=lambda item: json.dumps(item, sort_keys=True))
            material[key] = read if spec.type is InputType.DATASETS else read[0]
        else:
            material[key] = value
    text = json.dumps({"operation": name, "inputs": material}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def lookup(table: str, owner: str, key: str) -> str | None:
    """The id of the owner's completed operation with this key, if any."""
    found = RecordTable(table).get(owner, f"{PREFIX}{key}")
    return None if found is None else str(found["operation_id"])


def remember(table: str, owner: str, key: str, operation_id: str) -> None:
    """Record ``operation_id``'s result as the answer to ``key``."""
    RecordTable(table).put(owner, f"{PREFIX}{key}", {"operation_id": operation_id})


def replace(table: str, owner: str, key: str, operation_id: str, successor: str) -> None:
    """Have the entry of ``key`` name ``successor`` if it names ``operation_id`` (deleted,
    while ``successor`` answers with the same outputs)."""
    records = RecordTable(table)
    found = records.get(owner, f"{PREFIX}{key}")
    if found is not None and found.get("operation_id") == operation_id:
        records.put(owner, f"{PREFIX}{key}", {"operation_id": successor})


def forget(table: str, owner: str, key: str, operation_id: str) -> None:
    """Drop the entry of ``key`` if it names ``operation_id`` (its result is going)."""
    records = RecordTable(table)
    found = records.get(owner, f"{PREFIX}{key}")
    if found is not None and found.get("operation_id") == operation_id:
        records.delete(owner, f"{PREFIX}{key}")
