"""The load scenario: locust users of the API, each signed in as a Cognito user of its own.

- ``Reader`` (20 by default): lists its datasets, gets one and reads a page of its rows,
  with no think time; every answer is checked to be the caller's own (a request run with
  another user's identity answers 404 or someone else's data: an error).
- ``Uploader`` (5): creates a dataset, POSTs a small CSV to its presigned S3 form, and
  polls the dataset (a second apart) until it is ingested; then again.
- ``Tasker`` (2): starts an aggregation on its ready dataset and polls the task (a second
  apart) until it ends; then again.

The users' accounts and seeded datasets come from :mod:`bench.load.run`, which sets
``SEEDS`` before the users start. Importing this module imports locust, which patches
the standard library for gevent: import it in the process that drives the load only.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from locust import HttpUser, between, constant, task
from locust.exception import StopUser

POLL_S = 1.0
PIPELINE_DEADLINE_S = 120.0
SETTLED = ("ready", "failed", "stopped", "duplicate")


def csv_body(tag: str, rows: int = 200) -> bytes:
    """A small CSV of ``rows`` rows, distinct for each ``tag`` (an identical file would be
    recorded as a duplicate of the first)."""
    lines = ["order_id,date,region,product,quantity,unit_price,paid,tag"]
    lines += [
        f"{i},2024-0{1 + i % 9}-1{i % 10},{('north', 'south')[i % 2]},widget,{i % 17},"
        f"{i % 50}.25,{('yes', 'no')[i % 2]},{tag}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


TASK_BODY = {"group_by": ["region"], "aggregations": [{"column": "quantity", "op": "sum"}]}


@dataclass
class Seat:
    """One virtual user's account: its token, and the datasets it owns (id -> row count)."""

    username: str
    headers: dict[str, str]
    datasets: dict[str, int] = field(default_factory=dict)


@dataclass
class Seeds:
    readers: deque[Seat] = field(default_factory=deque)
    uploaders: deque[Seat] = field(default_factory=deque)
    taskers: deque[Seat] = field(default_factory=deque)


SEEDS = Seeds()


def _take(seats: deque[Seat]) -> Seat:
    if not seats:
        raise StopUser()  # more users of this kind than seeded accounts
    return seats.popleft()


class _SluiceUser(HttpUser):
    abstract = True
    seat: Seat

    def _json(self, method: str, path: str, name: str, **kwargs: Any) -> Any:
        """One API call under route ``name``; its JSON, or None when it failed (recorded)."""
        with self.client.request(
            method, path, name=name, headers=self.seat.headers, catch_response=True, **kwargs
        ) as answer:
            if not 200 <= answer.status_code < 400:  # 0: no answer
                answer.failure(f"{answer.status_code}: {answer.error or answer.text[:200]}")
                return None
            try:
                return answer.json() if answer.text else {}
            except ValueError:
                answer.failure("not JSON")
                return None

    def _settled(self, path: str, name: str, done: tuple[str, ...]) -> Any:
        deadline = time.monotonic() + PIPELINE_DEADLINE_S
        while time.monotonic() < deadline:
            record = self._json("GET", path, name)
            if record is None:
                return None
            if record.get("status") in done:
                return record
            time.sleep(POLL_S)
        self.environment.events.request.fire(
            request_type="WAIT",
            name=f"{name} settles",
            response_time=PIPELINE_DEADLINE_S * 1000,
            response_length=0,
            exception=TimeoutError(f"{path} did not settle in {PIPELINE_DEADLINE_S:.0f} s"),
            context={},
        )
        return None

    def _fail_pipeline(self, what: str, record: dict[str, Any]) -> None:
        self.environment.events.request.fire(
            request_type="PIPELINE",
            name=what,
            response_time=0,
            response_length=0,
            exception=RuntimeError(f"{record['id']} {record['status']}: {record.get('error')}"),
            context={},
        )


class Reader(_SluiceUser):
    """List, get, read rows: the read path, with no think time."""

    weight = 20
    wait_time = constant(0)

    def on_start(self) -> None:
        self.seat = _take(SEEDS.readers)
        self._ids = itertools.cycle(sorted(self.seat.datasets))

    @task
    def browse(self) -> None:
        page = self._json("GET", "/datasets?limit=20", "GET /datasets")
        if page is not None:
            listed = {item["id"] for item in page["items"]}
            if listed != set(self.seat.datasets):
                self._mismatch("GET /datasets", f"listed {sorted(listed)}")
        dataset_id = next(self._ids)
        dataset = self._json("GET", f"/datasets/{dataset_id}", "GET /datasets/{id}")
        if dataset is not None and dataset["id"] != dataset_id:
            self._mismatch("GET /datasets/{id}", f"got {dataset['id']}")
        rows = self._json(
            "GET", f"/datasets/{dataset_id}/rows?num_rows=50", "GET /datasets/{id}/rows"
        )
        if rows is not None and rows["row_count"] != self.seat.datasets[dataset_id]:
            self._mismatch("GET /datasets/{id}/rows", f"row_count {rows['row_count']}")

    def _mismatch(self, name: str, what: str) -> None:
        self.environment.events.request.fire(
            request_type="CHECK",
            name=f"{name} is the caller's",
            response_time=0,
            response_length=0,
            exception=AssertionError(f"{self.seat.username}: {what}"),
            context={},
        )


class Uploader(_SluiceUser):
    """Create a dataset, upload its CSV to S3, wait for the ingest; again."""

    weight = 5
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.seat = _take(SEEDS.uploaders)

    @task
    def upload(self) -> None:
        created = self._json(
            "POST", "/datasets", "POST /datasets", json={"name": "load", "path": "load"}
        )
        if created is None:
            return
        ticket = created["upload"]
        # Straight to the embedded S3, as a browser posts the presigned form.
        with self.client.post(
            ticket["url"],
            name="S3 POST upload",
            data=ticket["fields"],
            files={"file": ("load.csv", csv_body(uuid.uuid4().hex))},
            catch_response=True,
        ) as answer:
            if not 200 <= answer.status_code < 300:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return
        dataset_id = created["dataset"]["id"]
        dataset = self._settled(f"/datasets/{dataset_id}", "GET /datasets/{id} (poll)", SETTLED)
        if dataset is not None and dataset["status"] != "ready":
            self._fail_pipeline("ingest", dataset)


class Tasker(_SluiceUser):
    """Start an aggregation of its dataset, wait for it to end; again."""

    weight = 2
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.seat = _take(SEEDS.taskers)

    @task
    def aggregate(self) -> None:
        dataset_id = next(iter(self.seat.datasets))
        started = self._json(
            "POST", f"/datasets/{dataset_id}/tasks", "POST /datasets/{id}/tasks", json=TASK_BODY
        )
        if started is None:
            return
        final = ("succeeded", "failed", "cancelled")
        record = self._settled(f"/tasks/{started['id']}", "GET /tasks/{id} (poll)", final)
        if record is not None and record["status"] != "succeeded":
            self._fail_pipeline("aggregate", record)
