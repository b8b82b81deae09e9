"""How a Distributed Map's item list is ordered for its ItemBatcher: each batch takes
every n-th item, so neighbours run in different invocations."""

from __future__ import annotations

from sluice.store.map_results import dealt


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
