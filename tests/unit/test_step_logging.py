"""Step handlers log Powertools JSON lines carrying their execution's name."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pydantic import ValidationError
from sluice.step_logging import logger, run_at, step_handler

from tests.support import invoke, load_event


class Context:
    """The Lambda context fields Powertools reads."""

    function_name = "a_step"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:a_step"
    aws_request_id = "request-1"


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the sluice logger writes (to stdout in a Lambda), caught here: its handler
    keeps the stdout it was made with, which capsys cannot swap."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def log_lines(logged: io.StringIO) -> list[dict[str, Any]]:
    """The JSON lines the logger wrote."""
    return [json.loads(line) for line in logged.getvalue().splitlines()]


def test_a_failing_ingest_step_logs_its_error_with_the_dataset_run_as_correlation_id(
    logged: io.StringIO,
) -> None:
    run = load_event("ingest/reconcile")["dataset"]["run"]
    event = {**load_event("ingest/reconcile"), "chunks": "not chunks"}
    with pytest.raises(ValidationError):
        invoke("ingest_reconcile", event)
    [line] = [line for line in log_lines(logged) if line["message"] == "step failed"]
    assert (line["level"], line["correlation_id"], line["function_name"]) == (
        "ERROR",
        run,
        "ingest_reconcile",
    )


def test_a_failing_task_step_logs_with_the_task_execution_name_as_correlation_id(
    logged: io.StringIO,
) -> None:
    event = {"BatchInput": {"task": {"owner": "someone", "id": "0123"}}, "Items": "no items"}
    with pytest.raises(ValidationError):
        invoke("task_reduce", event)
    [line] = [line for line in log_lines(logged) if line["message"] == "step failed"]
    assert (line["correlation_id"], line["function_name"]) == ("task-0123", "task_reduce")


def test_each_invocation_logs_with_its_own_run_and_none_is_kept_for_the_next(
    logged: io.StringIO,
) -> None:
    @step_handler(run_at("dataset", "run"))
    def step(event: dict[str, Any], context: Any) -> None:
        logger.info("working")

    step({"dataset": {"run": "run-1"}}, Context())
    step({"chunks": []}, Context())
    lines = log_lines(logged)
    assert [(line["message"], line.get("correlation_id")) for line in lines] == [
        ("working", "run-1"),
        ("working", None),
    ]
    assert lines[0]["function_request_id"] == "request-1"


def test_run_at_reads_a_nested_name_and_gives_none_where_the_event_lacks_it() -> None:
    run_of = run_at("task", "id", prefix="task-")
    assert [run_of({"task": {"id": "7"}}), run_of({"task": "7"}), run_of({})] == [
        "task-7",
        None,
        None,
    ]
