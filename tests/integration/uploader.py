"""Creating datasets through the API and landing their files where presigned POSTs would."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import call_api, wait_for

UPLOADS = "sluice-uploads"


class Uploader:
    """Creates datasets through the API and puts their files where the presigned POST would."""

    def __init__(self, local: Any) -> None:
        self.s3 = local.client("s3")
        self.sfn = local.client("stepfunctions")
        self.owner = str(uuid.uuid4())

    def create(self, **body: Any) -> tuple[str, dict[str, Any]]:
        status, created = call_api("POST", "/datasets", {"name": "t", **body}, owner=self.owner)
        assert status == 201
        return created["dataset"]["id"], created["upload"]

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=UPLOADS, Key=key, Body=body)

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        status, body = call_api("GET", f"/datasets/{dataset_id}", owner=self.owner)
        assert status == 200
        return body  # type: ignore[no-any-return]

    def settled(
        self, dataset_id: str, timeout_s: float = 60, every_s: float = 0.05
    ) -> dict[str, Any]:
        """The dataset once its ingest has ended (ready or failed)."""

        def done() -> dict[str, Any] | None:
            dataset = self.dataset(dataset_id)
            return dataset if dataset["status"] in ("ready", "failed", "duplicate") else None

        return wait_for(done, timeout_s, f"dataset {dataset_id} to settle", every_s)

    def ingest(self, body: bytes, **settings: Any) -> dict[str, Any]:
        dataset_id, upload = self.create(**settings)
        self.put(upload["fields"]["key"], body)
        return self.settled(dataset_id)

    def rows(self, dataset_id: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every row of a ready dataset (up to 10,000), with ``columns`` alone."""
        status, page = call_api(
            "GET",
            f"/datasets/{dataset_id}/rows",
            owner=self.owner,
            query={"start_row": "0", "num_rows": "10000"},
        )
        assert status == 200, page
        return [{k: row[k] for k in columns} for row in page["rows"]]

    def executions(self, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's ingest executions."""
        listed = self.sfn.list_executions(stateMachineArn=self.machine("ingest_dataset"))
        return [e for e in listed["executions"] if e["name"].startswith(dataset_id)]

    def states_entered(self, dataset_id: str) -> list[str]:
        """The states its ingest executions entered, in order."""
        entered = []
        for execution in self.executions(dataset_id):
            pages = self.sfn.get_paginator("get_execution_history").paginate(
                executionArn=execution["executionArn"]
            )
            for page in pages:
                entered += [
                    e["stateEnteredEventDetails"]["name"]
                    for e in page["events"]
                    if "stateEnteredEventDetails" in e
                ]
        return entered

    def machine(self, name: str) -> str:
        """The ARN of the state machine the catalogue calls ``name``."""
        machines = self.sfn.list_state_machines()["stateMachines"]
        return next(m["stateMachineArn"] for m in machines if m["name"] == f"sluice-{name}")


@pytest.fixture
def uploader(local: Any) -> Uploader:
    return Uploader(local)
