"""The shuffle's bucket count past 256 buckets: a bucket's rows are bounded at any size."""

import math

import pytest
from sluice.tasks.aggregate_output import MAX_BUCKETS, MOST_BUCKET_ROWS, bucket_count


@pytest.mark.parametrize(
    ("rows", "size", "expected"),
    [(256 * 8_000_000, 10**12, 256), (256 * 8_000_000 + 1, 10**12, 257),
     (18_900_000_000, 3 * 10**11, 2_363), (10**11, 1, 12_500)],
)  # fmt: skip
def test_bucket_count_grows_past_256_so_no_bucket_holds_more_than_8m_rows(rows, size, expected):
    assert bucket_count(rows, size) == expected
    assert math.ceil(rows / expected) <= MOST_BUCKET_ROWS


def test_bucket_count_keeps_256_while_that_holds_a_bucket_to_8m_rows() -> None:
    assert bucket_count(10**9, 10**15) == MAX_BUCKETS


def test_bucket_count_past_256_rounds_up_to_a_multiple_of_the_workers() -> None:
    assert bucket_count(256 * 8_000_000 + 1, 10**12, 2) == 258
