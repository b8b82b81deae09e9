"""Group keys of few values travel through the shuffle as dictionaries (issue 23, item 6):
which keys do, that their hashes and buckets are those of their values, and that a bucket
whose parts sent one key in both forms merges into the same groups."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sluice.tasks import aggregate_distinct
from sluice.tasks.aggregate import AggOp, AggregateSpec, Aggregation, merge_partials
from sluice.tasks.aggregate import partial_aggregate as partial
from sluice.tasks.aggregate_output import key_hash

SUM_X = AggregateSpec(group_by=["k", "d"], aggregations=[Aggregation(column="x", op=AggOp.SUM)])


def plays(keys: list[str | None], rows: int) -> pa.Table:
    """``rows`` rows cycling through ``keys``, each with a day and a value."""
    return pa.table(
        {
            "k": pa.array([keys[i % len(keys)] for i in range(rows)], pa.string()),
            "d": pa.array([i % 7 for i in range(rows)], pa.int32()),
            "x": pa.array(range(rows), pa.int64()),
        }
    )


def key_type(table: pa.Table, buckets: int) -> pa.DataType:
    return partial(table, SUM_X, buckets)[0].schema.field("k").type


def test_a_text_key_of_few_values_travels_as_a_dictionary_of_them():
    kind = key_type(plays([f"song {i}" for i in range(20)], 1000), 4)
    assert kind == pa.dictionary(pa.int32(), pa.string())


def test_a_text_key_of_mostly_distinct_values_travels_as_texts():
    assert key_type(plays([f"song {i}" for i in range(900)], 1000), 4) == pa.string()


def test_a_key_whose_dictionary_in_every_bucket_outweighs_the_rows_travels_as_texts():
    # 300 values in 1,000 rows: few distinct in the sample, but 300 x 4 buckets > 1,000.
    assert key_type(plays([f"song {i}" for i in range(300)], 1000), 4) == pa.string()
    assert key_type(plays([f"song {i}" for i in range(300)], 1000), 3) != pa.string()


def test_a_category_key_with_a_dictionary_larger_than_the_part_travels_decoded():
    words = pa.array([f"w{i}" for i in range(500)])
    table = plays(["w1", "w2"], 100).set_column(
        0, "k", pa.DictionaryArray.from_arrays(pa.array([1, 2] * 50, pa.int32()), words)
    )
    assert key_type(table, 2) == pa.string()
    assert key_type(table.slice(0, 0), 2) == table.schema.field("k").type


def test_the_hash_of_a_dictionary_column_is_that_of_its_values():
    values = pa.array(["b", None, "a", "b", "a somewhat longer title, with a comma", None])
    encoded = pc.dictionary_encode(values)
    assert np.array_equal(key_hash([encoded]), key_hash([values]))
    null_in_dictionary = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, None, 1], pa.int32()), pa.array(["b", None])
    )
    decoded = pa.array(["b", None, None, None], pa.string())
    assert np.array_equal(key_hash([null_in_dictionary]), key_hash([decoded]))
    nothing = pa.DictionaryArray.from_arrays(
        pa.array([None, None], pa.int32()), pa.array([], "str")
    )
    assert np.array_equal(key_hash([nothing]), key_hash([pa.array([None, None], pa.string())]))


def test_a_key_lands_in_the_same_bucket_as_a_dictionary_and_as_a_text():
    few = plays(["a", "b", None], 600)
    many = pa.concat_tables([few, plays([f"s{i}" for i in range(1800)], 1800)])
    as_dictionary, as_texts = partial(few, SUM_X, 5), partial(many, SUM_X, 5)
    assert pa.types.is_dictionary(as_dictionary[0].schema.field("k").type)
    assert as_texts[0].schema.field("k").type == pa.string()
    for bucket in range(5):
        pairs = set(zip(*as_texts[bucket].select(["k", "d"]).to_pydict().values(), strict=True))
        wanted = as_dictionary[bucket].select(["k", "d"]).to_pydict().values()
        assert set(zip(*wanted, strict=True)) <= pairs


def test_a_bucket_of_dictionary_and_text_partials_sums_every_group_exactly():
    few = plays(["a", "b", None], 600)
    many = plays(["a", "b", None, *(f"s{i}" for i in range(600))], 600)
    buckets = 3
    parts = [partial(table, SUM_X, buckets) for table in (few, many, few)]
    merged = pa.concat_tables(merge_partials([p[b] for p in parts], SUM_X) for b in range(buckets))
    everything = pa.concat_tables([few, many, few])
    expected = everything.group_by(["k", "d"]).aggregate([("x", "sum")])
    assert merged.schema.field("k").type == pa.string()
    assert merged.num_rows == expected.num_rows
    got = {(r["k"], r["d"]): int(r["sum_x"]) for r in merged.to_pylist()}
    assert got == {(r["k"], r["d"]): r["x_sum"] for r in expected.to_pylist()}


def test_dictionary_keys_that_share_a_hash_are_still_told_apart_in_hash_order(monkeypatch):
    monkeypatch.setattr(aggregate_distinct, "MOSTLY_DISTINCT", 0.0)  # merged in hash order
    monkeypatch.setattr(
        aggregate_distinct, "_hashes32", lambda keys, hashed: np.zeros(len(keys), "u4")
    )
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op=AggOp.SUM)])
    part = pa.table({"k": pa.array(["b", "a", "c", "a", "b", None] * 5)})
    part = part.append_column("x", pa.array([1, 2, 3, 4, 5, 6] * 5, pa.int64()))
    (bucket,) = partial(part, spec, 1)
    assert pa.types.is_dictionary(bucket.schema.field("k").type)
    merged = merge_partials([bucket, bucket], spec)
    got = {r["k"]: int(r["sum_x"]) for r in merged.to_pylist()}
    assert got == {"a": 60, "b": 60, "c": 30, None: 60}
    assert merged.num_rows == 4
