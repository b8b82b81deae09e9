"""How a Distributed Map's item list is ordered for its ItemBatcher: each batch takes
every n-th item, so neighbours run in different invocations."""

from __future__ import annotations

from sluice.config import Settings
from sluice.store.map_results import dealt, map_concurrency


def batches(items: list[int], batch: int) -> list[list[int]]:
    """The ItemBatcher's cut: consecutive runs of ``batch`` items, the last maybe shorter."""
    return [items[i : i + batch] for i in range(0, len(items), batch)]


def test_each_batch_takes_every_nth_item() -> None:
    assert batches(dealt(list(range(4)), 2), 2) == [[0, 2], [1, 3]]
    assert batches(dealt(list(range(7)), 3), 3) == [[0, 3, 5], [1, 4, 6], [2]]


def test_every_item_is_dealt_once_and_one_batch_keeps_the_order() -> None:
    assert sorted(dealt(list(range(10)), 4)) == list(range(10))
    assert dealt(list(range(5)), 8) == [0, 1, 2, 3, 4]
    assert dealt([], 1) == []


def concurrency(**env: str) -> int:
    return map_concurrency(
        Settings.model_validate(
            {"SLUICE_TABLE": "t", "SLUICE_UPLOAD_BUCKET": "u", "SLUICE_DATA_BUCKET": "d", **env}
        )
    )


def test_a_map_runs_the_catalogues_concurrency_where_lambda_scales_out() -> None:
    assert concurrency() == 1000


def test_a_map_runs_as_many_children_as_the_local_workers() -> None:
    assert concurrency(SLUICE_WORKERS="2") == 2


def test_a_lower_map_concurrency_holds_the_local_workers_too() -> None:
    assert concurrency(SLUICE_WORKERS="2", SLUICE_MAP_CONCURRENCY="1") == 1
