"""The task's pure work on real parts, in one process, under a CPU clock: where a
partial's and a reducer's time goes, without the embedded AWS or the other helpers'
load in the way (CPU time moves far less with the load than wall time does).

    python -m bench.aggregate.run --bytes 1e9 --songs 10000 --keep-parts /tmp/parts
    python -m bench.aggregate.profile_task /tmp/parts            # every part, every bucket
    python -m bench.aggregate.profile_task /tmp/parts --profile  # and cProfile's top lines

Arrow gets one core, as each worker of the local system does, and the process keeps its
freed memory as the workers do (``sluice.heap``: it starts itself again with the
allocators' settings when they are missing; without them a part's arrays fault their
pages in again and the system CPU doubled). Each part is read as the
partial step reads it (its needed columns of the Parquet file), aggregated into R buckets
(R by the task's own rule, two workers) and written as a buckets file; each bucket is
then read back from those files and merged, and its output CSV rendered, as a reducer
does. Printed: CPU seconds per phase (``time.process_time``).
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
import pyarrow.parquet as pq
from sluice import heap
from sluice.tasks.aggregate import (
    AggregateSpec,
    bmat_preset,
    bucket_count,
    merge_partials,
    needed_columns,
    partial_aggregate,
    write_outputs,
)
from sluice.tasks.partials import decode_bucket, encode_buckets
from sluice.tasks.steps_partial import dictionary_keys

MAX_FILE_BYTES = 64 * 1024 * 1024
T = TypeVar("T")


def _read(path: Path, spec: AggregateSpec) -> pa.Table:
    """A part's columns, as the partial step reads them (its texts kept in dictionary
    pages as dictionaries)."""
    keys = dictionary_keys(pq.read_metadata(path), list(spec.group_by), None)
    return pq.read_table(path, columns=needed_columns(spec), read_dictionary=keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", help="a folder of typed Parquet parts (run.py --keep-parts)")
    parser.add_argument("--buckets", type=int, help="R (default: the task's rule, 2 workers)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top lines")
    parser.add_argument("--limit", type=int, default=25, help="cProfile lines (25)")
    args = parser.parse_args(argv)
    settings = heap.environment()
    if any(os.environ.get(name) != value for name, value in settings.items()):
        # The allocators read these when the process starts: start again with them.
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], os.environ | settings)
    pa.set_cpu_count(1)  # as in the local system's workers (sluice.local.worker_pool)

    files = sorted(Path(args.parts).rglob("*.parquet"))
    spec = bmat_preset()
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    size = sum(f.stat().st_size for f in files)
    buckets = args.buckets or bucket_count(rows, size, 2)
    print(f"{len(files)} parts, {rows:,} rows, {size / 1e6:.0f} MB, {buckets} buckets")
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    clock: dict[str, float] = {"read": 0.0, "partial": 0.0, "encode": 0.0}
    clock |= {"decode": 0.0, "merge": 0.0, "output": 0.0}
    blobs = []

    def timed(name: str, call: Callable[..., T], *a: object) -> T:
        started = time.process_time()
        if profiler:
            profiler.enable()
        result = call(*a)
        if profiler:
            profiler.disable()
        clock[name] += time.process_time() - started
        return result

    groups = 0
    for path in files:
        table = timed("read", _read, path, spec)
        split = timed("partial", partial_aggregate, table, spec, buckets)
        blobs.append(timed("encode", encode_buckets, [t if t.num_rows else None for t in split]))
    for bucket in range(buckets):
        found = [timed("decode", decode_bucket, blob, bucket) for blob in blobs]
        partials = [t for t in found if t is not None]
        merged = timed("merge", merge_partials, partials, spec)
        groups += merged.num_rows
        timed("output", write_outputs, merged, "csv", MAX_FILE_BYTES)
    print(f"{groups:,} groups")
    for name, seconds in clock.items():
        print(f"{name:8s} {seconds:6.2f} s CPU")
    partial = clock["read"] + clock["partial"] + clock["encode"]
    reduce = clock["decode"] + clock["merge"] + clock["output"]
    print(f"partials {partial:6.2f} s CPU, reduces {reduce:6.2f} s CPU")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.limit)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
