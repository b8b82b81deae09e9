"""The Partials Map's items: a large part cut into runs of its row groups, and a child's
batch held to BATCH_BYTES of them."""

from sluice.store.map_results import BATCH_BYTES, MAX_BATCH_ITEMS
from sluice.tasks.pieces import PIECE_BYTES, partial_batch_size, pieces
from sluice.tasks.step_models import PartRef

MIB = 1024 * 1024


def test_parts_of_at_most_piece_bytes_are_whole_items_numbered_in_order() -> None:
    found = pieces([("a", 26 * MIB), ("b", PIECE_BYTES)], {"b": [PIECE_BYTES // 2] * 2})
    assert found == [
        PartRef(index=0, key="a", bytes=26 * MIB),
        PartRef(index=1, key="b", bytes=PIECE_BYTES),
    ]


def test_a_larger_part_is_cut_into_runs_of_row_groups_of_at_most_piece_bytes() -> None:
    groups = [10 * MIB, 10 * MIB, 10 * MIB, 10 * MIB, 5 * MIB]
    found = pieces([("a", 1 * MIB), ("big", 45 * MIB), ("c", 2 * MIB)], {"big": groups})
    assert found == [
        PartRef(index=0, key="a", bytes=1 * MIB),
        PartRef(index=1, key="big", bytes=30 * MIB, row_groups=(0, 3)),
        PartRef(index=2, key="big", bytes=15 * MIB, row_groups=(3, 5)),
        PartRef(index=3, key="c", bytes=2 * MIB),
    ]


def test_a_row_group_larger_than_a_piece_is_a_piece_alone() -> None:
    found = pieces([("big", 100 * MIB)], {"big": [10 * MIB, 80 * MIB, 10 * MIB]})
    assert [(p.bytes, p.row_groups) for p in found] == [
        (10 * MIB, (0, 1)),
        (80 * MIB, (1, 2)),
        (10 * MIB, (2, 3)),
    ]


def test_a_large_part_of_one_row_group_stays_whole() -> None:
    assert pieces([("big", 100 * MIB)], {"big": [100 * MIB]}) == [
        PartRef(index=0, key="big", bytes=100 * MIB)
    ]


def test_a_partial_child_takes_at_most_batch_bytes_of_its_largest_piece() -> None:
    assert partial_batch_size([26 * MIB] * 20_000, 1000) == BATCH_BYTES // (26 * MIB) == 19
    assert partial_batch_size([80 * MIB] * 20_000, 1000) == 6
    assert partial_batch_size([BATCH_BYTES * 2] * 3, 1) == 1
    assert partial_batch_size([MIB] * 100_000, 1000) == MAX_BATCH_ITEMS
    assert partial_batch_size([26 * MIB] * 1_491, 1000) == 2  # one round of 1,000
