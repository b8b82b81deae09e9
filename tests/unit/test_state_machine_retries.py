"""Every Lambda step of every state machine retries what AWS reports for a lost sandbox
(an out-of-memory kill, a timeout: Lambda.Unknown) a bounded number of times after
Lambda's own service errors, and then its Catch records the failure; in an EXPRESS child
(at most 5 minutes) one retrier takes both, so that its attempts stay three."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import project_path

MACHINES = ("ingest_dataset", "run_task", "export_dataset", "import_model", "run_operation")


SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def lambda_tasks(
    states: dict[str, Any], express: bool = False
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every Lambda Task state, and whether it runs in an EXPRESS child."""
    for name, state in states.items():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                config = state[key].get("ProcessorConfig", {})
                yield from lambda_tasks(
                    state[key]["States"], config.get("ExecutionType") == "EXPRESS"
                )
        if state["Type"] == "Task" and "lambda:invoke" in state["Resource"]:
            yield name, state, express


@pytest.mark.parametrize("machine", MACHINES)
def test_each_lambda_step_retries_a_lost_sandbox_twice_after_service_errors(machine: str) -> None:
    definition = json.loads(project_path("statemachines", f"{machine}.asl.json").read_text())
    retried = {
        name: [retrier["ErrorEquals"] for retrier in state["Retry"]]
        for name, state, express in lambda_tasks(definition["States"])
        if not express
    }
    assert retried
    for name, errors in retried.items():
        unknown = errors.index(["Lambda.Unknown"])
        assert "Lambda.ServiceException" in errors[unknown - 1], name
    for name, state, express in lambda_tasks(definition["States"]):
        if not express:
            (retrier,) = [r for r in state["Retry"] if r["ErrorEquals"] == ["Lambda.Unknown"]]
            assert retrier["MaxAttempts"] == 2, name


@pytest.mark.parametrize(
    ("machine", "steps", "own"),
    [("ingest_dataset", ["ConvertChunk", "RescanChunk", "ScanChunk"], []),
     ("run_task", ["Partial", "Reduce"], ["TransientError"])],
)  # fmt: skip
def test_an_express_childs_lambda_step_retries_service_errors_and_a_lost_sandbox_twice_in_all(
    machine: str, steps: list[str], own: list[str]
) -> None:
    definition = json.loads(project_path("statemachines", f"{machine}.asl.json").read_text())
    express = {
        name: state["Retry"]
        for name, state, in_express in lambda_tasks(definition["States"])
        if in_express
    }
    assert sorted(express) == steps
    for name, retry in express.items():
        assert retry == [
            {
                "ErrorEquals": [*SERVICE_ERRORS, "Lambda.Unknown", *own],
                "IntervalSeconds": 1,
                "MaxAttempts": 2,
                "BackoffRate": 2.0,
            }
        ], name
