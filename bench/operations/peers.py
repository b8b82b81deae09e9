"""The peers: each operation as DuckDB and pandas do it over the same typed Parquet parts.

Each ``worker`` runs in a subprocess of its own (``run.py --worker TOOL --op NAME``), so its
peak RSS is the tool's own for that one operation. ``seconds`` covers reading the parts,
the work and writing the result: a Parquet file for a table result (ours writes a dataset
of Parquet parts), the figure's numbers in memory for describe and the histogram. Each
answers what the checks compare with ours: a table's rows, the bins' counts, describe's
count of each column.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from bench.operations.work import (
    FILTER,
    FILTER_COLUMNS,
    HISTOGRAM_BINS,
    HISTOGRAM_COLUMN,
    SORT_BY,
)

EXCEPTIONS = "_exceptions"
TOP = 10


def _glob(parts: Path, name: str) -> str:
    return "'" + str(parts / name / "*.parquet").replace("'", "''") + "'"


def _columns(parts: Path, name: str) -> dict[str, str]:
    """A dataset's columns (but the raw texts of failed values) and their Arrow types."""
    schema = pq.read_schema(next((parts / name).glob("*.parquet")))
    return {f.name: str(f.type) for f in schema if f.name != EXCEPTIONS}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _filter_sql() -> str:
    terms = []
    for p in FILTER:
        if p["op"] == "in":
            values = ", ".join("'" + str(v) + "'" for v in p["value"])
            terms.append(f"{_q(p['column'])} IN ({values})")
        else:
            terms.append(f"{_q(p['column'])} {p['op']} {p['value']}")
    return " AND ".join(terms)


def _rows_of(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


# --- DuckDB ------------------------------------------------------------------------------


def duckdb_worker(op: str, parts: Path, out: Path) -> dict[str, Any]:
    import duckdb

    started, cpu = time.perf_counter(), time.process_time()
    with duckdb.connect() as con:
        found = _duckdb(con, op, parts, out)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,  # every thread's
        "version": duckdb.__version__,
        **found,
    }


def _duckdb(con: Any, op: str, parts: Path, out: Path) -> dict[str, Any]:
    target = out / f"{op}.parquet"
    copy = "COPY ({}) TO '" + str(target) + "' (FORMAT parquet)"
    if op == "filter_select":
        select = ", ".join(_q(c) for c in FILTER_COLUMNS)
        con.execute(
            copy.format(f"SELECT {select} FROM {_glob(parts, 'messy')} WHERE {_filter_sql()}")
        )
        return {"rows": _rows_of(target)}
    if op == "sort":
        order = ", ".join(_q(c) for c in SORT_BY)
        con.execute(copy.format(f"SELECT * FROM {_glob(parts, 'plays')} ORDER BY {order}"))
        return {"rows": _rows_of(target), "first": _first_keys(target)}
    if op == "join":
        left = ", ".join(f"m.{_q(c)}" for c in _columns(parts, "messy"))
        right = ", ".join(f"t.{_q(c)}" for c in _columns(parts, "table") if c != "id")
        con.execute(
            copy.format(
                f"SELECT {left}, {right} FROM {_glob(parts, 'messy')} m"
                f" JOIN {_glob(parts, 'table')} t ON m.id = t.id"
            )
        )
        return {"rows": _rows_of(target)}
    if op == "histogram":
        c = _q(HISTOGRAM_COLUMN)
        source = f"(SELECT {c} AS v FROM {_glob(parts, 'messy')} WHERE isfinite({c}))"
        counted = con.execute(
            f"WITH r AS (SELECT min(v) AS lo, max(v) AS hi FROM {source})"
            f" SELECT least(floor((v - lo) / (hi - lo) * {HISTOGRAM_BINS}), {HISTOGRAM_BINS - 1})"
            f" AS b, count(*) FROM {source}, r GROUP BY b ORDER BY b"
        ).fetchall()
        counts = [0] * HISTOGRAM_BINS
        for b, n in counted:
            counts[int(b)] = n
        return {"counts": counts}
    if op == "describe":
        return {"counts": _duckdb_describe(con, parts)}
    raise ValueError(op)


def _duckdb_describe(con: Any, parts: Path) -> dict[str, int]:
    """describe's figures in DuckDB: one pass of aggregates over every column, then one
    GROUP BY per text, category or boolean column for its top values."""
    source = _glob(parts, "messy")
    columns = _columns(parts, "messy")
    numeric = ("int", "double", "float", "decimal")
    terms = []
    for name, kind in columns.items():
        c = _q(name)
        terms += [f"count({c})", f"count(*) - count({c})"]
        if not kind.startswith("bool"):
            terms += [f"min({c})", f"max({c})"]
        if kind.startswith(numeric):
            terms += [
                f"avg({c})",
                f"stddev_samp({c})",
                f"quantile_cont({c}, [0.25, 0.5, 0.75])",
            ]
    row = con.execute(f"SELECT {', '.join(terms)} FROM {source}").fetchone()
    for name, kind in columns.items():
        if not kind.startswith((*numeric, "timestamp")):
            c = _q(name)
            con.execute(
                f"SELECT {c}, count(*) AS n FROM {source} WHERE {c} IS NOT NULL"
                f" GROUP BY {c} ORDER BY n DESC, {c} LIMIT {TOP}"
            ).fetchall()
    counts, at = {}, 0
    for name, kind in columns.items():
        counts[name] = row[at]
        at += 2 + (0 if kind.startswith("bool") else 2) + (3 if kind.startswith(numeric) else 0)
    return counts


def _first_keys(path: Path, rows: int = 1000) -> list[list[Any]]:
    """The sort keys of a sorted output's first rows (the checks compare them with ours'):
    texts of (Song, Date), a title's first 10 characters and the date's day."""
    table = pq.ParquetFile(path).read_row_group(0, columns=SORT_BY).slice(0, rows)
    return [[str(v)[:10] for v in row.values()] for row in table.to_pylist()]


# --- pandas ------------------------------------------------------------------------------


def pandas_worker(op: str, parts: Path, out: Path) -> dict[str, Any]:
    import pandas as pd

    started, cpu = time.perf_counter(), time.process_time()
    found = _pandas(pd, op, parts, out)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "version": pd.__version__,
        **found,
    }


def _read(pd: Any, parts: Path, name: str, columns: list[str] | None = None) -> Any:
    wanted = columns or list(_columns(parts, name))
    return pd.read_parquet(parts / name, columns=wanted)


def _pandas(pd: Any, op: str, parts: Path, out: Path) -> dict[str, Any]:
    target = out / f"{op}.parquet"
    if op == "filter_select":
        wanted = list(dict.fromkeys([*FILTER_COLUMNS, *(p["column"] for p in FILTER)]))
        frame = _read(pd, parts, "messy", wanted)
        mask = np.ones(len(frame), dtype=bool)
        for p in FILTER:
            values = frame[p["column"]]
            mask &= (values.isin(p["value"]) if p["op"] == "in" else values > p["value"]).to_numpy(
                dtype=bool, na_value=False
            )
        frame[mask][FILTER_COLUMNS].to_parquet(target, index=False)
        return {"rows": _rows_of(target)}
    if op == "sort":
        frame = _read(pd, parts, "plays")
        frame.sort_values(SORT_BY, kind="stable").to_parquet(target, index=False)
        return {"rows": _rows_of(target), "first": _first_keys(target)}
    if op == "join":
        left = _read(pd, parts, "messy")
        right = _read(pd, parts, "table")
        left.merge(right, on="id", how="inner").to_parquet(target, index=False)
        return {"rows": _rows_of(target)}
    if op == "histogram":
        values = _read(pd, parts, "messy", [HISTOGRAM_COLUMN])[HISTOGRAM_COLUMN].to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        binned, _ = np.histogram(values[np.isfinite(values)], bins=HISTOGRAM_BINS)
        return {"counts": binned.tolist()}
    if op == "describe":
        frame = _read(pd, parts, "messy")
        numbers = frame.select_dtypes("number")
        numbers.describe()  # count, mean, std, min, quartiles, max
        counts = {name: int(frame[name].count()) for name in frame.columns}
        frame.isna().sum()
        for name in frame.columns:
            if name not in numbers.columns and not pd.api.types.is_datetime64_any_dtype(
                frame[name]
            ):
                frame[name].value_counts().head(TOP)
            else:
                frame[name].min(), frame[name].max()
        return {"counts": counts}
    raise ValueError(op)
