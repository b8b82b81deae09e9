"""The peers: BMAT's group-by in DuckDB, polars, pandas and Dask, each writing CSV.

Each ``worker_*`` runs in a subprocess of its own (``run.py --worker NAME``), so the
subprocess's peak RSS is the tool's own. Each returns ``{"seconds", "version", "outputs"}``:
``seconds`` covers reading the input, aggregating and writing every output file.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

SONG, DATE, PLAYS = "Song", "Date", "Number of Plays"
DASK_BLOCKSIZE = "64MB"


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _cpu_seconds() -> float:
    """This process's CPU seconds so far (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _duckdb_copy(source_sql: str, target: Path) -> tuple[float, float]:
    """Run BMAT's query over ``source_sql`` into ``target`` (CSV with a header): its wall
    and CPU seconds (a CPU second moves less with other load on the machine)."""
    import duckdb

    query = (
        f'COPY (SELECT "{SONG}", "{DATE}", sum("{PLAYS}") AS "{PLAYS}" '
        f"FROM {source_sql} GROUP BY ALL) TO {_quoted(target)} (HEADER)"
    )
    started, cpu = time.perf_counter(), _cpu_seconds()
    with duckdb.connect() as con:
        con.execute(query)
    return time.perf_counter() - started, _cpu_seconds() - cpu


def worker_duckdb(csv: Path, out: Path) -> dict[str, Any]:
    """DuckDB on the CSV: ``COPY (SELECT ... FROM read_csv(file) GROUP BY ALL) TO out``."""
    import duckdb

    target = out / "duckdb.csv"
    seconds, cpu = _duckdb_copy(f"read_csv({_quoted(csv)})", target)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "version": duckdb.__version__,
        "outputs": [str(target)],
    }


def worker_duckdb_parquet(parts: Path, out: Path) -> dict[str, Any]:
    """ "The task alone": DuckDB's query over OUR typed Parquet parts, copied out of S3."""
    import duckdb

    target = out / "duckdb-parquet.csv"
    seconds, cpu = _duckdb_copy(f"read_parquet({_quoted(parts / '*.parquet')})", target)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "version": duckdb.__version__,
        "outputs": [str(target)],
    }


def worker_polars(csv: Path, out: Path) -> dict[str, Any]:
    """polars, streaming: ``scan_csv -> group_by -> agg(sum) -> sink_csv``."""
    import polars as pl

    target = out / "polars.csv"
    started = time.perf_counter()
    (pl.scan_csv(csv).group_by([SONG, DATE]).agg(pl.col(PLAYS).sum()).sink_csv(target))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "version": pl.__version__, "outputs": [str(target)]}


def worker_pandas(csv: Path, out: Path) -> dict[str, Any]:
    """pandas with its defaults: ``read_csv -> groupby([Song, Date]).sum() -> to_csv``."""
    import pandas as pd

    target = out / "pandas.csv"
    started = time.perf_counter()
    frame = pd.read_csv(csv)
    read_seconds = time.perf_counter() - started
    grouped = frame.groupby([SONG, DATE])[PLAYS].sum().reset_index()
    grouped.to_csv(target, index=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "read_seconds": read_seconds,
        "version": pd.__version__,
        "outputs": [str(target)],
    }


def worker_dask(csv: Path, out: Path) -> dict[str, Any]:
    """Dask as BMAT did: ``read_csv(blocksize=64MB) -> groupby([Song, Date]).sum() ->
    to_csv``, one file per output partition, on Dask's default (threaded) scheduler."""
    import dask
    import dask.dataframe as dd

    folder = out / "dask"
    folder.mkdir()
    started = time.perf_counter()
    frame = dd.read_csv(csv, blocksize=DASK_BLOCKSIZE)
    grouped = frame.groupby([SONG, DATE])[PLAYS].sum().reset_index()
    written = grouped.to_csv(str(folder / "part-*.csv"), index=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "version": dask.__version__,
        "partitions_in": int(frame.npartitions),
        "outputs": sorted(str(path) for path in written),
    }
