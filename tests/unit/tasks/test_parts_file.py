"""A partial child's buckets file of several parts: each bucket's tables in one stream,
read back as one table; a file takes parts up to FILE_PART_BYTES, of one schema."""

import pyarrow as pa
from sluice.tasks.partials import BucketsBuilder, bucket_count_of, decode_bucket, encode_buckets
from sluice.tasks.parts_file import FILE_PART_BYTES, PartsFile


def keyed(keys: list[str], values: list[int]) -> pa.Table:
    return pa.table({"k": pa.array(keys).dictionary_encode(), "v": pa.array(values)})


def test_a_builders_bucket_holds_every_parts_rows_in_the_order_added() -> None:
    builder = BucketsBuilder(3)
    builder.add([keyed(["a"], [1]), None, keyed(["b", "c"], [2, 3])])
    builder.add([keyed(["d"], [4]), None, None])
    data = builder.finish()
    assert bucket_count_of(data) == 3
    assert decode_bucket(data, 0).to_pydict() == {"k": ["a", "d"], "v": [1, 4]}
    assert decode_bucket(data, 1) is None
    assert decode_bucket(data, 2).to_pydict() == {"k": ["b", "c"], "v": [2, 3]}


def test_a_builder_of_one_part_writes_what_encode_buckets_writes() -> None:
    tables = [keyed(["a"], [1]), None, keyed(["b"], [2])]
    builder = BucketsBuilder(3)
    builder.add(tables)
    assert builder.finish() == encode_buckets(tables)


def test_a_file_takes_groups_up_to_file_part_bytes_and_of_one_schema() -> None:
    parts = PartsFile.empty(2)
    assert parts.takes(FILE_PART_BYTES + 1, None)  # an empty file takes any group
    parts.add([0, 1], FILE_PART_BYTES - 10, 5, [keyed(["a"], [1]), keyed([], [])])
    assert (parts.parts, parts.rows, parts.groups) == ([0, 1], 5, 1)
    assert parts.takes(10, parts.schema)
    assert not parts.takes(11, parts.schema)
    assert not parts.takes(1, pa.schema([("k", pa.string()), ("v", pa.int64())]))
    assert parts.takes(1, None)  # a group without groups writes nothing
