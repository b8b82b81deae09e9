"""The child workflow executions of a Distributed Map's Map Run: each runs in a frame of
its own, and keeps its status, input, output, or error and cause, for the ResultWriter
and the failure threshold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData


@dataclass
class Child:
    """One child workflow execution of a Map Run, as the ResultWriter reports it."""

    index: int
    input: Any
    name: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "PENDING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: datetime | None = None
    stop: datetime | None = None


def run_child(env: Any, program: Any, child: Child) -> None:
    """Run ``child`` through the Map's iteration ``program`` in a frame of ``env``'s, and
    note how it ended on it (an error of the interpreter's own fails it too)."""
    frame = env.open_inner_frame()
    child.start = datetime.now(UTC)
    child.status = "RUNNING"
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=child.index, Value=child.input)
        )
        frame.states.reset(input_value=child.input)
        program.eval(frame)
        ended = frame.program_state()
        if isinstance(ended, ProgramError):
            child.status = "FAILED"
            details = ended.error or {}
            child.error, child.cause = details.get("error"), details.get("cause")
        elif isinstance(ended, ProgramTimedOut):
            child.status = "TIMED_OUT"
        elif isinstance(ended, ProgramStopped):
            child.status = "ABORTED"
        else:
            child.status = "SUCCEEDED"
            child.output = frame.states.get_input()
    except Exception as exc:  # the interpreter's own failure: the child failed
        child.status, child.error, child.cause = "FAILED", "States.Runtime", repr(exc)
    finally:
        child.stop = datetime.now(UTC)
        env.delete_frame(frame)


__all__ = ["Child", "run_child"]
