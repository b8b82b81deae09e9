"""A filter on a category column is evaluated on its dictionary: the rows it keeps are
exactly those SQL keeps on the column's decoded texts (DuckDB, in the test). Whole
numbers past an integer or decimal column's range compare as Python's exact ints do."""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from sluice.tasks.aggregate import Predicate, filter_rows


def _category_column() -> pa.ChunkedArray:
    """Two chunks with different dictionaries, null rows, unicode and an empty text."""
    first = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, None, 2, 0, 3], pa.int32()), pa.array(["Nörd", "East", "", "Îles"])
    )
    second = pa.DictionaryArray.from_arrays(
        pa.array([1, None, 0, 0, 2], pa.int32()), pa.array(["East", "West", "Îles"])
    )
    return pa.chunked_array([first, second])


def _table() -> pa.Table:
    return pa.table({"region": _category_column(), "row": pa.array(range(11), pa.int64())})


def _sql(op: str, value: Any) -> str:
    texts = ", ".join("'" + v + "'" for v in value) if isinstance(value, list) else ""
    return {
        "==": f"region = '{value}'",
        "!=": f"region <> '{value}'",
        "<": f"region < '{value}'",
        ">=": f"region >= '{value}'",
        "in": f"region IN ({texts})" if value else "false",
        "not_in": f"region NOT IN ({texts})" if value else "true",
        "is_null": "region IS NULL",
        "not_null": "region IS NOT NULL",
    }[op]


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("==", "East"),
        ("!=", "East"),
        ("<", "Nörd"),
        (">=", "Îles"),
        ("in", ["Îles", "", "nowhere"]),
        ("not_in", ["East", ""]),
        ("in", []),
        ("not_in", []),
        ("is_null", None),
        ("not_null", None),
    ],
)
def test_a_category_filter_keeps_the_rows_sql_keeps_on_its_texts(op: str, value: Any) -> None:
    table = _table()
    decoded = pa.table(  # noqa: F841 (DuckDB reads it by name)
        {"region": table.column("region").cast(pa.string()), "row": table.column("row")}
    )
    query = f"SELECT row FROM decoded WHERE {_sql(op, value)} ORDER BY row"
    expected = [r for (r,) in duckdb.execute(query).fetchall()]
    kept = filter_rows(table, [Predicate(column="region", op=op, value=value)])
    assert kept.column("row").to_pylist() == expected
    assert kept.column("region").type == table.column("region").type  # still a category


def test_predicates_on_a_category_and_a_number_must_all_pass() -> None:
    table = _table().append_column("price", pa.array([5.0, None, 7, 1, 9, 3, 8, 2, 6, 4, 10]))
    predicates = [
        Predicate(column="region", op="in", value=["East", "Îles"]),
        Predicate(column="price", op=">", value=3),
    ]
    kept = filter_rows(table, predicates)
    # East or Îles: rows 1, 5, 8, 9, 10; of those, price null, 3, 6, 4, 10.
    assert kept.column("row").to_pylist() == [8, 9, 10]


def _wide_table() -> pa.Table:
    """int64 at both ends of its range and a 38-digit decimal past it, with nulls."""
    top, bottom = 2**63 - 1, -(2**63)
    return pa.table(
        {
            "i": pa.array([top, bottom, None, 5, top - 1], pa.int64()),
            "d": pa.array(
                [Decimal(10**30), Decimal(-5), None, Decimal(7), Decimal(2**63)],
                pa.decimal128(38, 0),
            ),
            "row": pa.array(range(5), pa.int64()),
        }
    )


COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda x, v: x in v,
    "not_in": lambda x, v: x not in v,
}


@pytest.mark.parametrize(
    ("column", "op", "value"),
    [
        ("i", ">=", 2**63 - 1),
        ("i", "<", 2**63),  # past int64: every value is below it
        ("i", ">", 2**70),
        ("i", "!=", -(2**64)),
        ("i", "<=", -(2**64)),
        ("i", "in", [2**64, 5, -(2**63)]),
        ("i", "not_in", [2**64]),
        ("d", ">", 6),
        ("d", ">=", 2**63),
        ("d", "==", 10**30),
        ("d", "<", 10**40),  # past decimal(38)
        ("d", "in", [7, 10**30, 10**40]),
        ("d", "not_in", [-5]),
    ],
)
def test_whole_numbers_past_a_columns_range_compare_as_exact_python(
    column: str, op: str, value: Any
) -> None:
    table = _wide_table()
    values = table.column(column).to_pylist()
    expected = [r for r, x in enumerate(values) if x is not None and COMPARE[op](x, value)]
    kept = filter_rows(table, [Predicate(column=column, op=op, value=value)])
    assert kept.column("row").to_pylist() == expected
