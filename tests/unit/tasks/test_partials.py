"""A shuffle's buckets file: one object per part, each bucket read alone by ranged GETs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sluice.tasks import partials
from sluice.tasks.partials import (
    HEADER,
    MAGIC,
    bucket_count_of,
    decode_bucket,
    encode_buckets,
    index_size,
    read_bucket,
    read_indexes,
    read_slices,
    write_buckets,
)


def table(values: list[Any], name: str = "song") -> pa.Table:
    return pa.table({name: values, "plays": list(range(len(values)))})


class FakeStore:
    """The data bucket in memory, recording every request."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.ranges: list[tuple[str, int, int]] = []

    def put_bytes(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.puts.append(key)
        self.objects[key] = bytes(body)

    def read_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        self.ranges.append((key, start, end))
        return self.objects[key][start:end]

    def concurrently(self, work: Any, items: Any, threads: int) -> list[Any]:
        return [work(item) for item in items]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    fake = FakeStore()
    monkeypatch.setattr(partials, "objects", fake)
    monkeypatch.setattr(partials, "settings", lambda: SimpleNamespace(data_bucket="data"))
    return fake


def test_every_bucket_round_trips() -> None:
    tables = [table(["a", "b"]), table(["c"]), table(["d", "e", "f"])]
    data = encode_buckets(tables)
    assert [decode_bucket(data, b) for b in range(3)] == tables


def test_the_header_names_the_format_and_the_bucket_count() -> None:
    data = encode_buckets([table(["a"]), None, None, None, None])
    assert HEADER.unpack_from(data) == (MAGIC, 5, 0)
    assert bucket_count_of(data) == 5


def test_the_index_holds_each_buckets_start_and_the_files_size() -> None:
    data = encode_buckets([table(["a"]), None, table(["b", "c"])])
    offsets = np.frombuffer(data, dtype="<u8", count=4, offset=HEADER.size).tolist()
    assert offsets[0] == index_size(3) == 16 + 8 * 4
    assert offsets[1] == offsets[2]  # the empty bucket takes no bytes
    assert offsets[3] == len(data)


def test_an_empty_bucket_reads_as_none() -> None:
    data = encode_buckets([None, table(["a"]), None])
    assert decode_bucket(data, 0) is None
    assert decode_bucket(data, 2) is None


def test_a_table_of_no_rows_keeps_its_schema() -> None:
    empty = table([]).cast(pa.schema([("song", pa.string()), ("plays", pa.int64())]))
    data = encode_buckets([empty, None])
    kept = decode_bucket(data, 0)
    assert kept is not None
    assert kept.num_rows == 0
    assert kept.schema == empty.schema


def test_a_file_of_only_empty_buckets_is_its_index_alone() -> None:
    assert len(encode_buckets([None, None, None, None])) == index_size(4)


def test_a_bucket_past_the_count_is_refused() -> None:
    with pytest.raises(ValueError, match="bucket 3 is not one of the file's 3"):
        decode_bucket(encode_buckets([None, None, None]), 3)


def test_bytes_that_are_not_a_buckets_file_are_refused() -> None:
    with pytest.raises(ValueError, match="not a buckets file"):
        bucket_count_of(b"ARROW1" + bytes(20))


def test_a_part_writes_all_its_buckets_in_one_put(store: FakeStore) -> None:
    size = write_buckets("t/partials/p000000.buckets", [table(["a"]), None, table(["b"])])
    assert store.puts == ["t/partials/p000000.buckets"]
    assert size == len(store.objects["t/partials/p000000.buckets"])


def test_a_bucket_in_the_middle_is_read_alone_by_two_ranges(store: FakeStore) -> None:
    tables = [table(["a", "b"]), table(["c", "d", "e"]), table(["f"])]
    write_buckets("p0", tables)
    data = store.objects["p0"]
    start, end = np.frombuffer(data, dtype="<u8", count=2, offset=16 + 8).tolist()

    assert read_bucket(["p0"], 1) == [tables[1]]
    # Its two offsets (16 bytes at 16 + 8 x 1), then its slice: nothing of its neighbours.
    assert store.ranges == [("p0", 24, 40), ("p0", start, end)]


def test_a_part_whose_bucket_is_empty_costs_one_get_and_is_left_out(store: FakeStore) -> None:
    write_buckets("p0", [table(["a"]), None])
    write_buckets("p1", [table(["b"]), table(["c"])])
    assert read_bucket(["p0", "p1"], 1) == [table(["c"])]
    assert [key for key, _, _ in store.ranges] == ["p0", "p1", "p1"]


def test_a_buckets_tables_come_in_the_order_of_the_keys(store: FakeStore) -> None:
    for part, song in enumerate(["x", "y", "z"]):
        write_buckets(f"p{part}", [None, table([song])])
    assert read_bucket(["p2", "p0", "p1"], 1) == [table(["z"]), table(["x"]), table(["y"])]


def test_a_parts_whole_index_is_one_get_of_its_first_bytes(store: FakeStore) -> None:
    write_buckets("p0", [table(["a"]), None, table(["b", "c"])])
    write_buckets("p1", [None, None, table(["d"])])
    offsets = read_indexes(["p0", "p1"], 3)
    assert store.ranges == [("p0", 0, index_size(3)), ("p1", 0, index_size(3))]
    for row, key in enumerate(["p0", "p1"]):
        data = store.objects[key]
        assert offsets[row].tolist() == np.frombuffer(data, "<u8", 4, HEADER.size).tolist()
        assert offsets[row, -1] == len(data)


def test_an_index_of_another_bucket_count_is_refused(store: FakeStore) -> None:
    write_buckets("p0", [table(["a"]), None])
    with pytest.raises(ValueError, match="not a buckets file of 3 buckets"):
        read_indexes(["p0"], 3)


def test_each_slice_is_one_get_and_an_empty_one_none(store: FakeStore) -> None:
    tables = [table(["a", "b"]), None, table(["c"])]
    write_buckets("p0", tables)
    write_buckets("p1", [None, None, table(["d"])])
    offsets = read_indexes(["p0", "p1"], 3)
    store.ranges.clear()
    spans = [
        (key, int(offsets[row, 2]), int(offsets[row, 3])) for row, key in enumerate(["p0", "p1"])
    ]
    spans.insert(1, ("p0", int(offsets[0, 1]), int(offsets[0, 2])))  # bucket 1: empty
    assert read_slices(spans) == [table(["c"]), table(["d"])]
    assert store.ranges == [spans[0], spans[2]]
