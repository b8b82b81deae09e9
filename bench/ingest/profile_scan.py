"""A chunk scan's pure work on a real CSV, in one process, under a CPU clock: where the
ingest's time goes, without the embedded AWS or the other helpers' load in the way.

    python -m bench.ingest.profile_scan /tmp/s15agg/lo1g.csv              # 4 chunks
    python -m bench.ingest.profile_scan /tmp/agg1g.csv --chunks 16 --profile

Each chunk is what a ScanChunks child does to its range: read its bytes (from the
file here, not by a GET), hash its blocks, find and parse its records as texts, gather
its columns' statistics (every type's reading of each column), decide its part's types,
convert it and write it as Parquet. Arrow gets one core and the process keeps its freed
memory, as each worker of the local system does (``sluice.heap``). Printed: CPU seconds
per phase (user and system, ``os.times``) and the parts' bytes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
from sluice import heap
from sluice.csv.dialect import COMMA
from sluice.csv.ranges import ByteRange, balanced_chunk_bytes, plan_ranges
from sluice.csv.scan import HEAD_BYTES, SCAN_OVERFLOW, read_header, scan_range
from sluice.datasets import content_hash
from sluice.inference.conversion import convert_table
from sluice.inference.schema import InferenceSettings
from sluice.inference.statistics import chunk_stats_and_parses, decide, na_values_for
from sluice.inference.types import ColumnType
from sluice.ingest.models import column_plans
from sluice.ingest.parts import parquet_bytes

T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="a CSV file (comma-separated, with a header)")
    parser.add_argument("--chunks", type=int, default=4, help="chunks to scan (4)")
    parser.add_argument("--chunk-mib", type=int, default=64, help="chunk size (64)")
    parser.add_argument("--workers", type=int, default=2, help="for the chunk size (2)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top lines")
    parser.add_argument("--limit", type=int, default=30, help="cProfile lines (30)")
    args = parser.parse_args(argv)
    settings = heap.environment()
    if any(os.environ.get(name) != value for name, value in settings.items()):
        # The allocators read these when the process starts: start again with them.
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], os.environ | settings)
    pa.set_cpu_count(1)  # as in the local system's workers (sluice.local.worker_pool)

    path = Path(args.csv)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    header = read_header(head, size, COMMA)
    chunk = balanced_chunk_bytes(size, args.chunk_mib << 20, args.workers, content_hash.BLOCK_BYTES)
    ranges = plan_ranges(header.data_start, size, chunk)[: args.chunks]
    inference = InferenceSettings()
    na_values = na_values_for(inference)
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    phases = ("read", "hash", "parse", "stats", "decide", "convert", "write")
    clock = {name: [0.0, 0.0] for name in phases}  # user, system

    def timed(name: str, call: Callable[..., T], *a: object) -> T:
        started = os.times()
        if profiler:
            profiler.enable()
        result = call(*a)
        if profiler:
            profiler.disable()
        ended = os.times()
        clock[name][0] += ended.user - started.user
        clock[name][1] += ended.system - started.system
        return result

    rows = written = 0
    with path.open("rb") as f:

        def read_file(start: int, end: int) -> bytes:
            f.seek(start)
            return f.read(end - start)

        for rng in ranges:
            # As a scan's one GET: its range's bytes and the overflow past it, fetched
            # once (a new 60 MiB object each chunk, as the GET's body is).
            low = max(rng.start - 1, 0)
            fetched = timed("read", read_file, low, min(size, rng.end + SCAN_OVERFLOW))

            def read(start: int, end: int, low: int = low, fetched: bytes = fetched) -> bytes:
                if (start, end) == (low, low + len(fetched)):
                    return fetched
                return read_file(start, end)

            timed("hash", content_hash.block_digests, memoryview(fetched)[1 : rng.end - low])
            scan = timed(
                "parse",
                scan_range,
                read,
                ByteRange(rng.index, rng.start, rng.end),
                size,
                header.columns,
                0 if rng.index == 0 else None,
                SCAN_OVERFLOW,
                na_values,
                COMMA,
            )
            assert scan.table is not None
            texts = timed("parse", scan.table.combine_chunks)  # as scan_steps joins them
            stats, parses = timed("stats", chunk_stats_and_parses, texts, 100, ".")
            plans = timed("decide", lambda s: column_plans(decide(s, inference, {})), stats)
            typed, _ = timed("convert", convert_table, texts, plans, parses, ".")
            encoded = {
                plan.name: found
                for plan in plans
                if plan.type is ColumnType.STRING
                and (found := parses[plan.name].encoded()) is not None
            }  # as scan_steps hands the writer the texts parsed as a dictionary
            written += len(timed("write", parquet_bytes, typed, None, encoded))
            rows += texts.num_rows
            del fetched, scan, texts, typed
    types = ", ".join(f"{p.name}: {p.type.value}" for p in plans)
    print(f"{len(ranges)} chunks of {chunk / 2**20:.1f} MiB, {rows:,} rows; {types}")
    print(f"parts {written / 1e6:.1f} MB")
    for name, (user, system) in clock.items():
        print(f"{name:8s} {user + system:6.2f} s CPU ({user:.2f} user, {system:.2f} system)")
    user, system = (sum(times[i] for times in clock.values()) for i in (0, 1))
    print(f"total    {user + system:6.2f} s CPU ({user:.2f} user, {system:.2f} system)")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.limit)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
