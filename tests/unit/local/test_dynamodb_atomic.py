"""sluice.local.patches.dynamodb_atomic: a conditional write is checked and applied as one step."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb import models as dynamodb_models
from sluice.local.patches import dynamodb_atomic

from tests.support import own_dynamodb_table

TABLE = "atomicity-test"


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    """A table on a moto server of its own, with one dataset item held by run r1."""
    dynamodb_atomic.install()
    with own_dynamodb_table(TABLE) as client:
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "d1"}, "run": {"S": "r1"}, "status": {"S": "uploaded"}},
        )
        yield client


def _update_if_run_is_r1(client: Any, changes: dict[str, str]) -> None:
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "d1"}},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
        ConditionExpression="#run = :r1",
        ExpressionAttributeNames={"#run": "run", **{f"#{k}": k for k in changes}},
        ExpressionAttributeValues={
            ":r1": {"S": "r1"},
            **{f":{k}": {"S": v} for k, v in changes.items()},
        },
    )


def test_a_conditional_update_cannot_slip_between_another_ones_check_and_its_write(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked, go = threading.Event(), threading.Event()
    original = dynamodb_models.create_condition_expression_parser

    class PauseAfterPassing:
        """The stop's condition: once it has passed, wait before the write is applied."""

        def __init__(self, parser: Any) -> None:
            self._op = parser.parse()

        def parse(self) -> PauseAfterPassing:
            return self

        def expr(self, item: Any) -> bool:
            passed = bool(self._op.expr(item))
            if passed:
                checked.set()
                go.wait(10)
            return passed

    def parser(expression: Any, names: Any, values: Any) -> Any:
        made = original(expression, names, values)
        return PauseAfterPassing(made) if {"S": "stopped"} in values.values() else made

    monkeypatch.setattr(dynamodb_models, "create_condition_expression_parser", parser)
    stop = threading.Thread(
        target=_update_if_run_is_r1, args=(table, {"status": "stopped", "run": "r1-stopped"})
    )
    stop.start()
    assert checked.wait(10)
    step_errors: list[str] = []

    def late_step() -> None:
        try:
            _update_if_run_is_r1(table, {"status": "inferring"})
        except ClientError as exc:
            step_errors.append(exc.response["Error"]["Code"])

    step = threading.Thread(target=late_step)
    step.start()
    step.join(0.5)  # unpatched moto lets the step write now, while the stop waits
    go.set()
    stop.join(10)
    step.join(10)
    item = table.get_item(TableName=TABLE, Key={"pk": {"S": "d1"}})["Item"]
    assert (item["status"]["S"], item["run"]["S"]) == ("stopped", "r1-stopped")
    assert step_errors == ["ConditionalCheckFailedException"]
