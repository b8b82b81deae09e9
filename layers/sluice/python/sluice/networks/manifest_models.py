"""What a manifest entry is: a Keras layer, optimizer, loss, metric or activation and
the parameters a canvas may set on it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ManifestKind(StrEnum):
    LAYERS = "layers"
    OPTIMIZERS = "optimizers"
    LOSSES = "losses"
    METRICS = "metrics"
    ACTIVATIONS = "activations"


class ParamType(StrEnum):
    """How a parameter's value is checked (``networks.param_checks``)."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    """Any JSON number."""
    STRING = "string"
    ENUM = "enum"
    """One of ``allowed_values``."""
    INT_TUPLE = "int_tuple"
    """An int, or a list of ints (or of lists of ints: Cropping2D's ((0, 0), (0, 0)))."""
    FLOAT_TUPLE = "float_tuple"
    """A number, or a list of numbers."""
    SHAPE = "shape"
    """A tensor shape without the batch dimension: a list of ints or nulls (unknown)."""
    ANY = "any"
    """Anything JSON (nothing in Keras says more)."""


class ValueRange(BaseModel):
    """Bounds on a number, or on each int of a tuple or shape."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    """True: the value must be greater than ``min`` (a learning rate > 0)."""


class ParamSpec(BaseModel):
    """One parameter of a class's ``__init__`` (or an activation function)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field(description="inspect's kind: POSITIONAL_OR_KEYWORD or KEYWORD_ONLY.")
    default: Any = Field(None, description="The default as JSON; null when required or None.")
    required: bool
    type: ParamType
    nullable: bool = Field(description="Whether null (Python's None) is a valid value.")
    allowed_values: list[Any] | None = None
    value_range: ValueRange | None = None
    doc: str = ""


class InputArity(BaseModel):
    """How many inbound edges a layer takes: 0 for an input, 2 or more for a merge."""

    model_config = ConfigDict(extra="forbid")

    min: int
    max: int | None = None


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    module: str
    description: str
    categories: list[str]
    aliases: list[str] = Field(default_factory=list)
    """Other names for the same thing (Convolution2D for Conv2D; a loss's string id)."""
    inputs: InputArity | None = None
    """Layers only."""
    parameters: list[ParamSpec]

    def parameter(self, name: str) -> ParamSpec | None:
        """The parameter called ``name``, or None."""
        return next((param for param in self.parameters if param.name == name), None)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ManifestKind
    tensorflow_version: str
    keras_version: str
    entries: list[ManifestEntry]
