"""Data sessions (Datalab's datasessions): a name and the data a user works on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sluice.store.changes import RecordChanges

RecordId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
MAX_INPUTS = 100


class DatasetInput(BaseModel):
    """One of the caller's datasets."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["dataset"]
    id: RecordId


class OutputInput(BaseModel):
    """What a task or an operation of the caller's produced; ``file`` picks one of its
    outputs (a task's output file name, an operation's output dataset id)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["task_output", "operation_output"]
    id: RecordId
    file: str | None = Field(None, min_length=1, max_length=200)


InputItem = Annotated[DatasetInput | OutputInput, Field(discriminator="type")]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    input_data: list[InputItem] = Field(default_factory=list, max_length=MAX_INPUTS)


class SessionUpdate(BaseModel):
    """A new name, and input_data items to append (those already there are kept once)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    input_data: list[InputItem] = Field(default_factory=list, max_length=MAX_INPUTS)


class Session(BaseModel):
    id: str
    owner: str = Field(exclude=True)
    name: str
    input_data: list[InputItem]
    created_at: datetime
    updated_at: datetime


class SessionChanges(RecordChanges):
    name: str | None = None
    input_data: list[InputItem] | None = None


class SessionPage(BaseModel):
    items: list[Session]
    next_token: str | None = None
