"""Make moto's DynamoDB answer each request atomically, as DynamoDB does.

moto checks an update's ``ConditionExpression`` and then changes the stored item in
place, with no lock, and its server answers requests on many threads. Two conditional
updates of one item can then both pass their checks and interleave their changes. In
sluice that let a pipeline step, allowed to write only while its run holds the dataset,
set the status after its owner's stop had taken the dataset from that run: the dataset
said ``inferring`` for a run that no longer existed. DynamoDB applies each write,
condition and all, atomically, and a read never sees half of one.

``install()`` has moto answer one DynamoDB request at a time, from parsing to the
serialized answer (moto hands back live items and serializes them after the backend
call returns). The local system makes a few DynamoDB requests per step, so the lock
is seldom waited on.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_MARK = "__sluice_dynamodb_atomic__"
_request_lock = threading.RLock()
_install_lock = threading.Lock()


def install() -> None:
    """Serialize moto's DynamoDB requests. Safe to call more than once."""
    with _install_lock:
        if installed():
            return
        original = DynamoHandler.call_action

        def call_action(self: DynamoHandler) -> Any:
            with _request_lock:
                return original(self)

        setattr(call_action, _MARK, True)
        DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return bool(getattr(DynamoHandler.call_action, _MARK, False))


__all__ = ["install", "installed"]
