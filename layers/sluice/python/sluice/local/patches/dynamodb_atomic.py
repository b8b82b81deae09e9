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
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

from sluice.local.patches.replace import replace_once, replaced

_request_lock = threading.RLock()


def _one_at_a_time(call_action: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    def serialized(self: DynamoHandler) -> Any:
        with _request_lock:
            return call_action(self)

    return serialized


def install() -> None:
    """Serialize moto's DynamoDB requests. Safe to call more than once."""
    replace_once(DynamoHandler, "call_action", _one_at_a_time)


def request_lock() -> threading.RLock:
    """The lock moto's DynamoDB requests hold (to read or replace its tables' items whole)."""
    return _request_lock


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(DynamoHandler, "call_action")


__all__ = ["install", "installed", "request_lock"]
