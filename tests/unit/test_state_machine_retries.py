"""Every Lambda step of every state machine retries what AWS reports for a lost sandbox
(an out-of-memory kill, a timeout: Lambda.Unknown) a bounded number of times after
Lambda's own service errors, and then its Catch records the failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import project_path

MACHINES = ("ingest_dataset", "run_task", "export_dataset", "import_model", "run_operation")


def lambda_tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from lambda_tasks(state[key]["States"])
        if state["Type"] == "Task" and "lambda:invoke" in state["Resource"]:
            yield name, state


@pytest.mark.parametrize("machine", MACHINES)
def test_each_lambda_step_retries_a_lost_sandbox_twice_after_service_errors(machine: str) -> None:
    definition = json.loads(project_path("statemachines", f"{machine}.asl.json").read_text())
    retried = {
        name: [retrier["ErrorEquals"] for retrier in state["Retry"]]
        for name, state in lambda_tasks(definition["States"])
    }
    assert retried
    for name, errors in retried.items():
        unknown = errors.index(["Lambda.Unknown"])
        assert "Lambda.ServiceException" in errors[unknown - 1], name
    for name, state in lambda_tasks(definition["States"]):
        (retrier,) = [r for r in state["Retry"] if r["ErrorEquals"] == ["Lambda.Unknown"]]
        assert retrier["MaxAttempts"] == 2, name
