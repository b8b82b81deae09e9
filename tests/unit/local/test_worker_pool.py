"""The local worker pool: processes forked from a warmed-up server run the steps."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from sluice.catalog import CATALOG
from sluice.local import lambda_runtime

from tests.support import invoke, load_event


def test_the_warm_up_imports_every_step_handler_but_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sluice.local import worker_warmup

    # Other tests load handlers into the same cache: start from an empty one.
    monkeypatch.setattr(lambda_runtime, "_modules", {})
    worker_warmup.warm_up()
    steps = {spec.name for spec in CATALOG.functions if not spec.public_api}
    assert set(lambda_runtime._modules) == steps


def test_a_pool_worker_answers_a_step_as_this_process_does() -> None:
    event = load_event("ingest/reconcile")
    pool = lambda_runtime.worker_pool(1)
    try:
        payload, errored, _ = pool.submit(
            lambda_runtime.invoke_catalogued, "ingest_reconcile", "arn:sample", event
        ).result(timeout=120)
    finally:
        pool.shutdown()
    assert not errored
    assert json.loads(payload) == invoke("ingest_reconcile", event)


def test_a_pool_worker_gives_arrow_one_core() -> None:
    pool = lambda_runtime.worker_pool(1)
    try:
        cores = pool.submit(pa.cpu_count).result(timeout=120)
    finally:
        pool.shutdown()
    assert cores == 1
