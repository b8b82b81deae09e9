"""An operation's output part tells its columns (types, nulls) as written, so that the
output dataset's Finish reads no footer; a wide part does not, and its footer is read."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sluice.datasets import derived
from sluice.datasets.derived import (
    FACT_BYTES,
    FACT_COLUMNS,
    WrittenColumn,
    WrittenFile,
    column_facts,
)
from sluice.datasets.rows import EXCEPTIONS
from sluice.inference.types import ColumnType


def _footer_nulls(table: pa.Table) -> dict[str, int]:
    """Each column's null count as the written Parquet file's statistics add them up."""
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=2, use_dictionary=["kind"])
    metadata = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    counts = dict.fromkeys(table.column_names, 0)
    for group in range(metadata.num_row_groups):
        for index in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(index)
            counts[chunk.path_in_schema] += chunk.statistics.null_count
    return counts


def test_a_parts_column_facts_are_its_types_and_the_null_counts_its_footer_holds() -> None:
    table = pa.table(
        {
            "id": pa.array([1, None, 3, 4, None], pa.int64()),
            "price": pa.array([1.5, float("nan"), None, 2.0, 3.0]),
            "kind": pa.array(["a", None, "b", "a", None]).dictionary_encode(),
            "when": pa.array([0, 1, None, 3, 4], pa.timestamp("us")),
        }
    )

    facts = column_facts(table)

    assert facts == [
        WrittenColumn(name="id", type=ColumnType.INT64, nulls=2),
        WrittenColumn(name="price", type=ColumnType.FLOAT64, nulls=1),
        WrittenColumn(name="kind", type=ColumnType.CATEGORY, nulls=2),
        WrittenColumn(name="when", type=ColumnType.DATETIME, nulls=1),
    ]
    assert {c.name: c.nulls for c in facts} == _footer_nulls(table)


def test_the_raw_texts_column_has_no_type_in_the_facts() -> None:
    table = pa.table({"id": [1], EXCEPTIONS: pa.array([None], pa.map_(pa.string(), pa.string()))})

    facts = column_facts(table)

    assert facts is not None
    assert facts[1] == WrittenColumn(name=EXCEPTIONS, type=None, nulls=1)


def test_a_part_wider_than_the_fact_limit_tells_no_facts() -> None:
    wide = pa.table({f"c{i}": [i] for i in range(FACT_COLUMNS + 1)})

    assert column_facts(wide) is None
    assert column_facts(wide.select(wide.column_names[:FACT_COLUMNS])) is not None


def test_a_part_whose_facts_would_pass_the_byte_limit_tells_none() -> None:
    # Few columns, but names so long that 8 parts' answers would near a Map child's 256 KB.
    long_names = pa.table({"x" * 1000 + str(i): [i] for i in range(FACT_BYTES // 1000)})

    assert column_facts(long_names) is None
    assert column_facts(long_names.select(long_names.column_names[:4])) is not None


def test_a_file_with_facts_is_not_read_and_one_without_reads_its_footer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = [WrittenColumn(name="id", type=ColumnType.INT64, nulls=0)]
    read: list[str] = []

    def footer(key: str) -> list[WrittenColumn]:
        read.append(key)
        return facts

    monkeypatch.setattr(derived, "_footer", footer)

    told = derived._columns(WrittenFile(key="told", rows=1, bytes=1, columns=facts))
    untold = derived._columns(WrittenFile(key="untold", rows=1, bytes=1))

    assert (told, untold, read) == (facts, facts, ["untold"])
