"""How a Map child's batch of parts runs: its operation's record read once, a figure's
parts counted once for the batch, a table result's first as it is written and the rest
together at most every interval, and a deleted operation's batch removing what it wrote."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from sluice.operations.base import OperationRun, PartRef, StepResult, WrittenPart
from sluice.sessions import step_batches, step_records, steps
from sluice.sessions.operation_models import OperationStatus
from sluice.sessions.step_models import OperationRef, PartBatch

RUN = OperationRun(owner="o", id="op", inputs={}, datasets={}, work="work/op/")


class Records:
    """An operation's record as the steps see it: reads counted, updates kept; ``open``
    False once the operation is deleted (every conditional update then misses)."""

    def __init__(self) -> None:
        self.reads = 0
        self.updates: list[dict[str, Any]] = []
        self.open = True

    def get(self, owner: str, operation_id: str) -> Any:
        self.reads += 1
        return SimpleNamespace(name="fake", status=OperationStatus.IN_PROGRESS)

    def update(self, owner: str, operation_id: str, changes: Any, **counts: Any) -> Any:
        self.updates.append(counts)
        return object() if self.open else None


class Fake:
    """An operation whose part steps write one output part each (a table result), or
    none (a figure)."""

    parts_at_once = 2

    def __init__(self, output: str) -> None:
        self.output = output
        self.batches: list[list[int]] = []
        self.written: list[int] = []

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        self.written.append(part.index)
        key = f"out/p{part.index}.parquet"
        return StepResult(
            index=part.index, written=[WrittenPart(index=0, key=key, rows=1, bytes=1)]
        )

    def run_parts(self, run: OperationRun, parts: list[PartRef], buckets: int) -> list[StepResult]:
        self.batches.append([p.index for p in parts])
        return [StepResult(index=p.index) for p in parts]


def batch(*indexes: int) -> PartBatch:
    items = [PartRef(input="dataset", index=i, key=f"parts/{i}", rows=1) for i in indexes]
    shared = {"operation": OperationRef(owner="o", id="op"), "bucket_count": 0}
    return PartBatch.model_validate({"Items": items, "BatchInput": shared})


@pytest.fixture
def removed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    cleaned: list[str] = []
    monkeypatch.setattr(step_batches, "operation_run", lambda record: RUN)
    monkeypatch.setattr(step_records, "remove_written", lambda ref: cleaned.append(ref.id))
    return cleaned


def test_a_figures_batch_reads_its_record_once_and_counts_its_parts_once(
    monkeypatch: pytest.MonkeyPatch, removed: list[str]
) -> None:
    records, fake = Records(), Fake("data")
    monkeypatch.setattr(step_batches, "catalogued", lambda name: fake)
    results = steps.part_batch(records, batch(4, 0, 2))  # type: ignore[arg-type]
    assert [r.index for r in results] == [4, 0, 2]
    assert fake.batches == [[4, 0, 2]]
    assert records.reads == 1
    assert [(u["add_parts_done"], u["only_if_status"]) for u in records.updates] == [
        (3, OperationStatus.IN_PROGRESS)
    ]


def test_a_table_results_first_part_is_counted_at_once_and_the_rest_at_most_every_interval(
    monkeypatch: pytest.MonkeyPatch, removed: list[str]
) -> None:
    records, fake = Records(), Fake("dataset")
    fake.parts_at_once = 1  # the parts end in the batch's order
    monkeypatch.setattr(step_batches, "catalogued", lambda name: fake)
    # The clock as each part ends: 0 (counted at once), 0.2 and 0.4 (too soon), 0.6 (due:
    # counted with those two), 0.7 (the last: counted however soon).
    moments = iter([0.0, 0.2, 0.4, 0.6, 0.7])
    monkeypatch.setattr(step_batches, "_clock", lambda: next(moments))
    results = steps.part_batch(records, batch(1, 3, 5, 7, 9))  # type: ignore[arg-type]
    assert [r.index for r in results] == [1, 3, 5, 7, 9]
    assert records.reads == 1
    assert [(u["add_parts_done"], sorted(u["add_written"])) for u in records.updates] == [
        (1, ["p1.parquet"]),
        (3, ["p3.parquet", "p5.parquet", "p7.parquet"]),
        (1, ["p9.parquet"]),
    ]
    assert removed == []


def test_a_deleted_operations_batch_removes_what_it_wrote_once_none_is_writing(
    monkeypatch: pytest.MonkeyPatch, removed: list[str]
) -> None:
    records, fake = Records(), Fake("dataset")
    records.open = False  # deleted while the batch ran
    monkeypatch.setattr(step_batches, "catalogued", lambda name: fake)
    cleaned = threading.Event()
    original = fake.run_part

    def late_write(run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        if part.index == 1:  # still writing when the other's count has found the delete
            cleaned.wait(5)
        return original(run, part, buckets)

    def remove(ref: OperationRef) -> None:
        fake.written.append(-1)
        cleaned.set()

    monkeypatch.setattr(fake, "run_part", late_write)
    monkeypatch.setattr(step_records, "remove_written", remove)
    with pytest.raises(steps.OperationGone):
        steps.part_batch(records, batch(0, 1, 2))  # type: ignore[arg-type]
    # Part 1 wrote after the first clean-up; the batch cleaned up again once it had.
    assert fake.written[0] == 0 and fake.written[-1] == -1
    assert fake.written.index(-1) < fake.written.index(1)
