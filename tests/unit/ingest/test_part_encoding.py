"""How a typed part is written: columns of few distinct values in dictionary pages, the
rest plain, every column read back with the type it was written with."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
from sluice.ingest import parts
from sluice.ingest.parts import ROW_GROUP_ROWS, parquet_bytes

ROWS = 8192


def _encoded(data: bytes) -> dict[str, bool]:
    """Per column: whether its first row group's chunk has a dictionary page."""
    group = pq.ParquetFile(pa.BufferReader(data)).metadata.row_group(0)
    return {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(group.num_columns)
    }


def test_columns_of_few_distinct_values_get_dictionaries_and_keep_their_types() -> None:
    table = pa.table(
        {
            "song": [f"song {i % 100}" for i in range(ROWS)],
            "title": [f"title {i}" for i in range(ROWS)],
            "day": pa.array([dt.datetime(2023, 1, 1 + i % 28) for i in range(ROWS)]),
            "plays": pa.array([i % 50 for i in range(ROWS)], pa.int16()),
            "id": pa.array(range(ROWS), pa.int64()),
            "label": pa.array(["a", "b"] * (ROWS // 2)).dictionary_encode(),
        }
    )
    data = parquet_bytes(table)
    assert _encoded(data) == {
        "song": True,
        "title": False,
        "day": True,
        "plays": True,
        "id": False,
        "label": True,
    }
    assert pq.read_table(pa.BufferReader(data)).equals(table)


def test_a_part_of_few_rows_is_written_plain_all_but_its_categories() -> None:
    table = pa.table(
        {
            "song": ["x", "y"] * 100,
            "label": pa.array(["a", "b"] * 100).dictionary_encode(),
        }
    )
    assert _encoded(parquet_bytes(table)) == {"song": False, "label": True}


def _plays_with_origin() -> pa.Table:
    table = pa.table(
        {
            "song": [f"song {i % 100}" if i % 7 else None for i in range(ROWS)],
            "title": [f"title {i}" for i in range(ROWS)],
            "plays": pa.array([i % 50 for i in range(ROWS)], pa.int16()),
        }
    )
    return table.replace_schema_metadata({b"sluice.origin": b'{"note": 1}'})


def test_a_column_handed_over_as_a_dictionary_is_written_and_read_as_its_texts() -> None:
    table = _plays_with_origin()
    encoded = {"song": table.column("song").combine_chunks().dictionary_encode()}
    assert parts._every_group_holds_most(encoded["song"])  # so it is handed over
    given = parquet_bytes(table, encoded=encoded)
    assert _encoded(given)["song"]
    read = pq.read_table(pa.BufferReader(given))
    assert read.schema.equals(table.schema, check_metadata=True)
    assert read.equals(table)
    # The same file as one written from the texts, to its stored Arrow schema.
    plain = parquet_bytes(table)
    assert pq.read_metadata(pa.BufferReader(given)).metadata == (
        pq.read_metadata(pa.BufferReader(plain)).metadata
    )


def test_a_dictionary_handed_over_for_a_column_written_plain_is_not_used() -> None:
    table = _plays_with_origin()
    encoded = {"title": table.column("title").combine_chunks().dictionary_encode()}
    data = parquet_bytes(table, encoded=encoded)
    assert not _encoded(data)["title"]
    assert pq.read_table(pa.BufferReader(data)).equals(table)


def test_a_dictionary_whose_values_the_first_row_group_mostly_lacks_is_not_used() -> None:
    # Written as given, every row group's dictionary page would hold all its values.
    rows = ROW_GROUP_ROWS + 20_000
    texts = [f"few {i % 50}" if i < ROW_GROUP_ROWS else f"many {i}" for i in range(rows)]
    table = pa.table({"song": texts})
    encoded = {"song": table.column("song").combine_chunks().dictionary_encode()}
    assert parquet_bytes(table, encoded=encoded) == parquet_bytes(table)
