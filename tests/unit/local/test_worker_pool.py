"""The local worker pool: processes forked from a warmed-up server run the steps."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from sluice.catalog import CATALOG
from sluice.heap import ARROW_ENVIRONMENT as ARROW_ENV
from sluice.local import lambda_runtime

from tests.support import invoke, load_event, wait_for


def test_the_warm_up_imports_every_step_handler_but_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sluice.local import worker_warmup

    # Other tests load handlers into the same cache: start from an empty one.
    monkeypatch.setattr(lambda_runtime, "_modules", {})
    worker_warmup.warm_up()
    steps = {spec.name for spec in CATALOG.functions if not spec.public_api}
    assert set(lambda_runtime._modules) == steps


def _chunk(index: int, parity: int, quotes: int) -> dict[str, int]:
    span = {"start": 32 * index, "end": 32 * (index + 1), "first": 32 * index, "last": 32}
    return {"index": index, "parity": parity, "quotes": quotes, "newlines": 1, "rows": 1, **span}


# Reconcile with its scans' results inline: a step that needs no AWS. Chunk 1 guessed it
# began outside quotes; chunk 0's one quote says it began inside.
RECONCILE = {"chunks": [_chunk(0, 0, 1), _chunk(1, 0, 0)]}


def test_a_pool_worker_answers_a_step_as_this_process_does() -> None:
    event = RECONCILE
    pool = lambda_runtime.worker_pool(1)
    try:
        payload, errored, _ = pool.submit(
            lambda_runtime.invoke_catalogued, "ingest_reconcile", "arn:sample", event
        ).result(timeout=120)
    finally:
        pool.shutdown()
    assert not errored
    assert json.loads(payload) == invoke("ingest_reconcile", event)
    assert [chunk["index"] for chunk in json.loads(payload)["redo"]] == [1]


def test_a_pool_worker_gives_arrow_one_core() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        cores = pool.submit(pa.cpu_count).result(timeout=120)
    finally:
        pool.shutdown()
    assert cores == 1


def test_pools_put_arrows_allocator_settings_in_the_environment_workers_inherit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sluice.local.worker_pool import give_workers_arrows_settings

    for name in ARROW_ENV:
        monkeypatch.delenv(name, raising=False)
    give_workers_arrows_settings()
    assert {name: os.environ.get(name) for name in ARROW_ENV} == ARROW_ENV


def test_a_worker_killed_mid_call_loses_that_call_and_the_pool_runs_the_next() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        [pid] = pool.worker_pids()
        outcome: list[BaseException | None] = []
        in_flight = threading.Thread(target=lambda: outcome.append(_call(pool, time.sleep, 60)))
        in_flight.start()
        os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        in_flight.join(timeout=60)
        cores = pool.submit(pa.cpu_count).result(timeout=120)
        replacements, pids = pool.replacements, pool.worker_pids()
    finally:
        pool.shutdown()
    assert isinstance(outcome[0], lambda_runtime.SandboxLost)
    assert (cores, replacements) == (1, 1)
    assert pid not in pids


def test_a_lost_sandbox_answers_as_lambda_answers_an_out_of_memory_kill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload, errored = _reconcile_answer(monkeypatch, _lose_sandbox)
    assert errored
    assert json.loads(payload) == {
        "errorType": "Lambda.Unknown",
        "errorMessage": "the worker running ingest_reconcile exited before answering (killed)",
    }


def test_a_call_past_its_timeout_is_stopped_and_the_pool_runs_the_next() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        started = time.monotonic()
        with pytest.raises(lambda_runtime.TimedOut, match=r"^Task timed out after 0\.50 seconds$"):
            pool.call(time.sleep, 60, timeout_s=0.5)
        stopped_after = time.monotonic() - started
        cores = pool.call(pa.cpu_count, timeout_s=120)
    finally:
        pool.shutdown()
    assert stopped_after < 30
    assert (cores, pool.replacements) == (1, 1)


def test_a_call_past_its_timeout_stops_its_own_worker_and_the_call_beside_it_answers() -> None:
    pool = lambda_runtime.worker_pool(2)
    try:
        beside: list[Any] = []
        running = threading.Thread(
            target=lambda: beside.append(pool.call(_answer_after, 3.0, 42, timeout_s=120))
        )
        running.start()
        wait_for(lambda: len(pool._idle) == 1 or None, 30, "the first call to take a worker")
        with pytest.raises(lambda_runtime.TimedOut):
            pool.call(time.sleep, 60, timeout_s=0.5)
        running.join(timeout=60)
    finally:
        pool.shutdown()
    assert (beside, pool.replacements) == ([42], 1)


def test_a_timed_out_step_answers_as_lambda_answers_a_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload, errored = _reconcile_answer(monkeypatch, _time_out)
    assert errored
    assert json.loads(payload) == {
        "errorType": "Lambda.Unknown",
        "errorMessage": "ingest_reconcile: Task timed out after 30.00 seconds",
    }


def test_a_call_to_a_pool_whose_worker_died_idle_runs_on_new_workers() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        [pid] = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pool._workers[0]._broken or None, 30, "the pool to see its worker gone")
        cores = pool.call(pa.cpu_count)
    finally:
        pool.shutdown()
    assert (cores, pool.replacements) == (1, 1)


def _reconcile_answer(monkeypatch: pytest.MonkeyPatch, call: Any) -> tuple[str, bool]:
    """What invoke answers for ingest_reconcile when the pool's ``call`` does as ``call``."""
    monkeypatch.setattr(lambda_runtime, "_pool", SimpleNamespace(call=call))
    payload, errored, _ = lambda_runtime.invoke(CATALOG, "ingest_reconcile", "arn:s", {})
    return payload, errored


def _answer_after(seconds: float, answer: int) -> int:
    time.sleep(seconds)
    return answer


def _time_out(fn: Any, *args: Any, timeout_s: float | None = None) -> Any:
    raise lambda_runtime.TimedOut(f"Task timed out after {timeout_s:.2f} seconds")


def _lose_sandbox(fn: Any, *args: Any, timeout_s: float | None = None) -> Any:
    raise lambda_runtime.SandboxLost("killed")


def _call(pool: lambda_runtime.WorkerPool, fn: Any, *args: Any) -> BaseException | None:
    try:
        pool.call(fn, *args)
    except lambda_runtime.SandboxLost as exc:
        return exc
    return None


def test_a_pool_worker_runs_at_a_lower_priority_than_the_server() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        niceness = pool.submit(os.nice, 0).result(timeout=120)
    finally:
        pool.shutdown()
    assert niceness == os.nice(0) + lambda_runtime.WORKER_NICENESS


def test_an_api_pool_worker_answers_the_api_as_this_process_does() -> None:
    event = load_event("api/openapi")
    pool = lambda_runtime.api_pool(1)
    try:
        payload, errored, _ = pool.call(lambda_runtime.invoke_catalogued, "api", "arn:api", event)
        niceness = pool.call(os.nice, 0)
    finally:
        pool.shutdown()
    assert not errored
    assert json.loads(payload) == invoke("api", event)
    assert niceness == os.nice(0)  # answers people: the server's priority, not the steps'


def test_with_an_api_pool_the_api_function_runs_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def call(fn: Any, name: str, *args: Any, timeout_s: float | None = None) -> Any:
        calls.append(name)
        return "{}", False, ""

    monkeypatch.setattr(lambda_runtime, "_api_pool", SimpleNamespace(call=call))
    monkeypatch.setattr(lambda_runtime, "_pool", None)
    lambda_runtime.invoke(CATALOG, "api", "arn:api", load_event("api/openapi"))
    assert calls == ["api"]
