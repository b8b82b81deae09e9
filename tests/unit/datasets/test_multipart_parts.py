"""How a file is cut into parts for an upload in parts."""

from __future__ import annotations

import pytest
from sluice.datasets.multipart import MIN_PART_BYTES, part_bytes_for
from sluice.errors import PayloadTooLarge, Unprocessable

MIB = 1024 * 1024
GIB = 1024 * MIB


def test_parts_are_64_mib_by_default() -> None:
    assert part_bytes_for(10 * MIB, None) == 64 * MIB


def test_parts_grow_in_whole_mib_to_stay_within_a_thousand() -> None:
    assert part_bytes_for(100 * GIB, None) == 103 * MIB  # 102.4 MiB rounded up


def test_a_requested_part_size_is_kept_when_it_makes_a_thousand_parts_or_fewer() -> None:
    assert part_bytes_for(1000 * MIN_PART_BYTES, MIN_PART_BYTES) == MIN_PART_BYTES


def test_a_requested_part_size_that_makes_over_a_thousand_parts_is_refused() -> None:
    with pytest.raises(Unprocessable) as refused:
        part_bytes_for(1000 * MIN_PART_BYTES + 1, MIN_PART_BYTES)
    assert refused.value.message == (
        f"body.part_bytes: {MIN_PART_BYTES} bytes a part makes 1001 parts of a"
        f" {1000 * MIN_PART_BYTES + 1}-byte file; at most 1000"
    )


def test_a_file_that_needs_parts_over_5_gib_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge):
        part_bytes_for(6 * 1024 * GIB, None)
