"""The operations benchmark: sluice's operations against DuckDB and pandas over the same
typed Parquet, in one run.

    python -m bench.operations.run [--bytes 1e9] [--keep-dir DIR] [--ops a,b,...]
                                   [--peers duckdb,pandas] [--json FILE]
                                   [--lambdas 1000] [--memory-mb 3008] [--s3-mb-s 90]
                                   [--cold-start-s 2] [--project-gb 100]

1. Writes the inputs (or reuses them from ``--keep-dir``): BMAT's demo plays and the
   ingest benchmark's messy file, ``--bytes`` each, and a 1M-row table to join.
2. Ours, in a subprocess: sluice local; ingest the three (off the clock), then each
   operation from its POST to COMPLETED, with each process's peak RSS during it
   (``ours.py``); then the inputs' typed Parquet parts are copied out of the embedded S3.
3. Each peer, each operation, in a subprocess of its own over those parts (``peers.py``).
4. Checks that each peer's answer is ours (rows, a sort's first keys, bins, counts).
5. Prints walls, ours/peer ratios, peak memory and the verdicts; then an AWS projection
   from each operation's Step Functions history.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.aggregate import aws
from bench.aggregate.projection import (
    add_projection_arguments,
    deployed_architecture,
    running_at_once,
    table,
)
from bench.operations.ours import FLOOR_ROWS
from bench.operations.work import INPUTS, OPERATIONS, WHAT, write_join_table
from bench.workers import measure_worker, print_result

MIB = 1024 * 1024
PEERS = ("duckdb", "pandas")
TARGET_RATIO = 2.0  # the issue's: every operation within 2x DuckDB's time


# --- the workers (in their own subprocess) -------------------------------------------------


def run_worker(args: argparse.Namespace) -> int:
    """In the subprocess: one worker, its result printed as one ``RESULT {json}`` line."""
    try:
        if args.worker == "ours":
            from bench.operations.ours import worker_ours

            inputs = {name: Path(args.keep_dir) / f"{name}.csv" for name in INPUTS}
            result = worker_ours(inputs, Path(args.out_dir), args.ops, args.at_rest)
        else:
            from bench.operations import peers

            worker = peers.duckdb_worker if args.worker == "duckdb" else peers.pandas_worker
            result = worker(args.op, Path(args.parts), Path(args.out_dir))
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print_result(result)
    return 0


# --- the driver ----------------------------------------------------------------------------


def prepare_inputs(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The three CSVs in ``folder`` (each written unless it is there already)."""
    from sluice.cli.demo_data import write_demo_data

    from bench.ingest.generate import write_messy_csv

    writers = {
        "plays": lambda path: write_demo_data(path, int(args.bytes)),
        "messy": lambda path: write_messy_csv(path, int(args.bytes)),
        "table": write_join_table,
    }
    facts = {}
    for name, write in writers.items():
        path = folder / f"{name}.csv"
        if not path.exists():
            began = time.perf_counter()
            write(path)
            print(f"wrote {path} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        facts[name] = path.stat().st_size
    return facts


def measure(worker: str, extra: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.operations.run", "--worker", worker, *extra]
    return measure_worker(command)


def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Ours (every operation in one system), then each peer on each operation."""
    out = work / "ours"
    out.mkdir()
    print("running ours ...", file=sys.stderr, flush=True)
    ours = measure(
        "ours",
        ["--keep-dir", args.keep_dir, "--out-dir", str(out), "--ops", ",".join(args.ops)]
        + (["--at-rest"] if args.at_rest else []),
    )
    if ours.get("error"):
        print(f"  ours: {ours['error']}\n{ours.get('stderr_tail', '')}", file=sys.stderr)
        return {"ours": ours}
    for op, found in ours["operations"].items():
        print(f"  ours {op}: {found['seconds']:.1f} s ({found['status']})", file=sys.stderr)
    results: dict[str, Any] = {"ours": ours}
    for tool in args.peers:
        results[tool] = {}
        for op in args.ops:
            folder = work / tool / op
            folder.mkdir(parents=True)
            extra = ["--op", op, "--parts", ours["parts_folder"], "--out-dir", str(folder)]
            results[tool][op] = measure(tool, extra)
            shutil.rmtree(folder, ignore_errors=True)  # its output: disk for the next
            state = results[tool][op].get("error") or f"{results[tool][op]['seconds']:.1f} s"
            print(f"  {tool} {op}: {state}", file=sys.stderr, flush=True)
    return results


def _cpu(found: dict[str, Any]) -> str:
    seconds = found.get("cpu_seconds")
    return "-" if seconds is None else f"{seconds:.2f}"


def verdict(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    """Whether the peer's answer is ours: rows, a sort's first keys, bins or counts."""
    if peer.get("error"):
        return "failed"
    if ours.get("status") != "COMPLETED":
        return "ours failed"
    for fact in ("rows", "first", "counts"):
        if fact in peer and peer[fact] != ours.get(fact):
            return f"DIFFERENT {fact}"
    return "same"


# --- the report ----------------------------------------------------------------------------


def _mib(value: float | None) -> str:
    return "-" if not value else f"{value / MIB:,.0f}"


def report(results: dict[str, Any], args: argparse.Namespace, sizes: dict[str, int]) -> str:
    ours = results["ours"]
    if ours.get("error"):
        return f"ours failed: {ours['error']}\n{ours.get('stderr_tail', '')}"
    inputs = ours["inputs"]
    lines = [
        "operations benchmark: sluice's operations against "
        + " and ".join(args.peers)
        + " over the same typed Parquet parts",
        f"  {os.cpu_count()} CPUs; inputs: "
        + "; ".join(
            f"{name} {sizes[name]:,} CSV bytes, {inputs[name]['rows']:,} rows, "
            f"{inputs[name]['parts']} typed parts ({inputs[name]['typed_bytes']:,} bytes)"
            for name in INPUTS
        ),
        "",
    ]
    header = ["operation", "ours s", "floor s"]
    for tool in args.peers:
        header += [f"{tool} s", f"ours/{tool}", f"above floor/{tool}", f"{tool} same?"]
    header += ["ours CPU s"] + [f"{tool} CPU s" for tool in args.peers]
    header += ["ours peak MiB (worker / main)"] + [f"{tool} peak MiB" for tool in args.peers]
    rows = [header]
    for op in args.ops:
        mine = ours["operations"][op]
        floor = mine.get("floor_seconds")
        row = [
            op,
            f"{mine['seconds']:.2f}" if mine["status"] == "COMPLETED" else "FAILED",
            "-" if floor is None else f"{floor:.2f}",
        ]
        for tool in args.peers:
            peer = results[tool][op]
            seconds = peer.get("seconds")
            row += [
                "failed" if seconds is None else f"{seconds:.2f}",
                "-" if not seconds else f"{mine['seconds'] / seconds:.2f}",
                "-"
                if not seconds or floor is None
                else f"{(mine['seconds'] - floor) / seconds:.2f}",
                verdict(mine, peer),
            ]
        row.append(_cpu(mine))
        row += [_cpu(results[tool][op]) for tool in args.peers]
        row.append(f"{_mib(mine['peak_worker_bytes'])} / {_mib(mine['peak_main_bytes'])}")
        row += [_mib(results[tool][op].get("peak_rss_bytes")) for tool in args.peers]
        rows.append(row)
    lines += table(rows)
    lines += [""] + [f"{op}: {WHAT[op]}" for op in args.ops]
    lines += [
        "",
        "ours: from the POST of the request to the moment Finish recorded it COMPLETED "
        "(sluice local: a Lambda worker process per core, moto's AWS in the main process); "
        f"floor: ours on the inputs' first {FLOOR_ROWS:,} rows, what the operation's states, "
        "requests and records cost whatever the data; above floor/peer: ours less that, "
        "over the peer's time; "
        "peers: read the Parquet parts, do the same, write a Parquet file (tables) or hold "
        "the figures, each operation in a subprocess of its own. ours/peer < 1: ours is "
        "faster. CPU: user and system time of every thread during the operation (ours: "
        "every process of the local system, moto's AWS and the polls included; a peer: "
        "its process). Peak: each process's own peak RSS during the operation (ours: the "
        "largest Lambda worker / the main process; a peer: its one process).",
    ]
    for op in args.ops:
        mine = ours["operations"][op]
        if mine["status"] != "COMPLETED":
            lines.append(f"ours {op}: {mine['status']}: {mine['message']}")
        else:
            lines.append(f"ours {op}: {mine['parts']} parts, {mine['buckets']} buckets")
    within = [
        op
        for op in args.ops
        if "duckdb" in results
        and results["duckdb"][op].get("seconds")
        and ours["operations"][op]["seconds"] / results["duckdb"][op]["seconds"] <= TARGET_RATIO
    ]
    lines.append(
        f"target (within {TARGET_RATIO:g}x DuckDB): met by {', '.join(within) or 'none'} "
        f"of {len(args.ops)}"
    )
    return "\n".join(lines)


# --- the AWS projection --------------------------------------------------------------------

FAN_OUT = ("SurveyPart", "Part", "Bucket")


def projection(results: dict[str, Any], args: argparse.Namespace) -> str:
    """Each operation on a ``--project-gb`` file on AWS, from its measured per-byte CPU.

    Locally a task that ran while ``c`` tasks ran at once had ``min(1, cores / c)`` of a
    core; so one worker's CPU seconds per typed byte, per fan-out phase, are its tasks'
    durations times that share over the input's typed bytes. On AWS, for a file ``f``
    times as large (typed bytes ``T``, ``f`` times the parts, buckets as sluice's rule
    would make them, at most 256): each fan-out phase takes ``waves x (T / items x
    cpu_per_byte + 2 x T / items / s3)`` (it reads its share and writes as much) plus a
    cold start; Plan, Settle and Finish as measured, plus a request per part they read
    (8 at a time, 30 ms each). A stage whose Map the ASL makes Distributed starts its
    children at AWS's dispatch rate, batched by sluice's rule (``bench.aggregate.aws``);
    Lambda is priced as deployed (arm64).
    """
    ours = results["ours"]
    if ours.get("error"):
        return "AWS projection: skipped (ours did not finish)"
    from sluice.catalog import CATALOG, MAP_CONCURRENCY
    from sluice.store.map_results import batch_size
    from sluice.tasks.aggregate_output import bucket_count

    (machine,) = [m for m in CATALOG.state_machines if m.name == "run_operation"]
    stages = aws.load_map_stages(machine.definition_path)
    max_concurrency = args.max_concurrency or MAP_CONCURRENCY
    memory_mb = args.memory_mb or 3008
    price = aws.LAMBDA_GB_S[deployed_architecture()]
    cores = os.cpu_count() or 1
    s3 = args.s3_mb_s * 1e6
    request_s, threads = 0.03, 8
    out = [
        f"AWS projection: each operation over a {args.project_gb:g} GB CSV, at most "
        f"{args.lambdas} concurrent {memory_mb} MB Lambdas, S3 {args.s3_mb_s:g} MB/s each "
        f"way per Lambda, {args.cold_start_s:g} s cold start per fan-out stage",
    ]
    rows = [["operation", "parts", "buckets", "fan-out s", "serial s", "wall s", "$ Lambda"]]
    for op, mine in ours["operations"].items():
        if mine["status"] != "COMPLETED":
            continue
        main = "plays" if op == "sort" else "messy"
        read = [ours["inputs"][n] for n in _reads(op)]
        typed_local = sum(r["typed_bytes"] for r in read)
        rows_local = sum(r["rows"] for r in read)
        factor = args.project_gb * 1e9 / ours["inputs"][main]["csv_bytes"]
        typed = typed_local * factor
        parts = max(1, math.ceil(mine["parts"] * factor))
        buckets = 0
        if mine["buckets"]:
            # A shuffle's buckets by sluice's rule at that size (no worker rounding on AWS);
            # describe's one-per-rank buckets do not grow with the data.
            shuffle = bucket_count(rows_local, typed_local, cores) if op != "histogram" else 0
            fixed = max(0, mine["buckets"] - shuffle) if op == "describe" else 0
            grown = bucket_count(int(rows_local * factor), int(typed)) if shuffle else 0
            buckets = fixed + grown
        spans = mine["spans"]
        shares = running_at_once(spans)
        cpu: dict[str, float] = {}
        serial = 0.0
        for span, running in zip(spans, shares, strict=True):
            state = span["phase"].split(".", 1)[1]
            seconds = span["succeeded"] - span["scheduled"]
            if state in FAN_OUT:
                cpu[state] = cpu.get(state, 0.0) + seconds * min(1.0, cores / running)
            else:
                serial += seconds
        surveyed = any(s["phase"].endswith(".Settle") for s in spans)
        # Finish (and Settle) read a file per part, ``threads`` at a time.
        serial += (1 + surveyed) * math.ceil(parts / threads) * request_s
        fan_out, gb_s, invocations = 0.0, 0.0, 0
        for state, seconds in cpu.items():
            items = buckets if state == "Bucket" else parts
            if not items:
                continue
            share = typed / items
            task = share * seconds / typed_local + 2 * share / s3
            if state == "Bucket":
                task += math.ceil(parts / threads) * request_s  # a file from every part
            stage = stages.get(state)
            if stage is None:  # not a Map of the ASL: as many at once as Lambda allows
                fan_out += math.ceil(items / args.lambdas) * task + args.cold_start_s
                invocations += items
            else:
                batch = (
                    batch_size(items, stage.concurrency(max_concurrency, args.lambdas))
                    if stage.batched
                    else 1
                )
                run = aws.run_stage(
                    stage, items, task, batch, max_concurrency, args.lambdas, args.child_overhead_s
                )
                fan_out += run.wall_s + args.cold_start_s
                invocations += run.children
            gb_s += items * task * memory_mb / 1024
        cost = gb_s * price + invocations * aws.LAMBDA_REQUEST
        rows.append(
            [
                op,
                f"{parts:,}",
                f"{buckets:,}",
                f"{fan_out:.1f}",
                f"{serial:.1f}",
                f"{fan_out + serial:.1f}",
                f"{cost:.3f}",
            ]
        )
    out += table(rows)
    out.append(
        "(fan-out: each Map stage as its ASL runs it (bench/aggregate/aws.py: an inline Map "
        "40 at once, a Distributed Map's children started at 100 a second if STANDARD, "
        "1,000 if EXPRESS, batched by sluice's rule) of share / measured rate + reading and "
        "writing the share at the S3 rate, + cold starts; serial: Plan, Settle, Finish as "
        "measured here plus a request per part; Lambda at the deployed architecture's price)"
    )
    return "\n".join(out)


def _reads(op: str) -> tuple[str, ...]:
    return {"sort": ("plays",), "join": ("messy", "table")}.get(op, ("messy",))


# --- the command ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from sluice.cli.demo_data import parse_size

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=parse_size, default=10**9, help="each CSV's size (1e9)")
    parser.add_argument("--keep-dir", help="write the inputs here and keep them; reused")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="operations to run")
    parser.add_argument("--peers", default=",".join(PEERS), help="peers to run besides ours")
    parser.add_argument("--json", help="also write every raw measurement here")
    parser.add_argument(
        "--at-rest",
        action="store_true",
        help="start each operation from the system at rest (its workers' and main "
        "process's freed memory given back, as after a pause): peaks are the "
        "operation's own; its steps fault their heap in again",
    )
    add_projection_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--parts", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for given, known, what in ((args.ops, OPERATIONS, "operations"), (args.peers, PEERS, "peers")):
        unknown = set(given) - set(known)
        if unknown:
            parser.error(f"unknown {what}: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    work = Path(tempfile.mkdtemp(prefix="sluice-operations-"))
    kept = bool(args.keep_dir)
    args.keep_dir = args.keep_dir or str(work / "inputs")
    Path(args.keep_dir).mkdir(parents=True, exist_ok=True)
    try:
        sizes = prepare_inputs(args, Path(args.keep_dir))
        results = run_all(args, work)
        print(report(results, args, sizes))
        print()
        print(projection(results, args))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not kept:
            shutil.rmtree(args.keep_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
