"""The shape of a typed update: which fields of a stored record to overwrite."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RecordChanges(BaseModel):
    """Fields of a stored record to overwrite: only those a caller sets are written, and
    one set to None is written as null. A subclass lists a record's writable fields, each
    optional, so that a misspelt one fails the type check and, at run time, validation."""

    model_config = ConfigDict(extra="forbid")

    def written(self) -> dict[str, Any]:
        """The attributes to write: the fields set, each dumped whole as JSON."""
        # ``include`` rather than ``exclude_unset``: the latter would also drop the unset
        # defaults inside nested models (a column's statistics), changing what is stored.
        return self.model_dump(mode="json", include=self.model_fields_set)
