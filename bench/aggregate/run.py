"""The aggregate benchmark: BMAT's plays per song per day, sluice against DuckDB, polars,
pandas and Dask, on one CSV, in one run.

    python -m bench.aggregate.run [--bytes 1e9] [--songs N] [--chunk-mib 64] [--keep FILE]
                                  [--peers duckdb,polars,pandas,dask] [--skip-dask]
                                  [--seed 0] [--json FILE]
                                  [--lambdas 1000] [--memory-mb M] [--s3-mb-s 90]
                                  [--cold-start-s 2] [--project-gb 100]

1. Writes BMAT demo data (``Song,Date,Number of Plays``; ~rows/10 songs, or ``--songs``),
   or reuses ``--keep FILE``.
2. Ours, in a subprocess: sluice local in-process; sign in, create, upload, ingest, start
   the ``bmat_plays_per_song_per_day`` task, poll its result (425 until done), download.
3. Each peer in a subprocess of its own on the same CSV, writing CSV; and "the task
   alone": DuckDB's query over our typed Parquet parts.
4. Checks that every output holds the same (Song, Date) -> plays rows.
5. Prints wall times, ratios, peak RSS, rows and the verdicts; then an AWS projection from
   our per-chunk throughput in the Step Functions history.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.aggregate import peers
from bench.aggregate.check import Fingerprint, fingerprint, verdicts
from bench.aggregate.forecast import Assumptions
from bench.aggregate.ours import MAX_FILE_BYTES, POLL_SECONDS
from bench.aggregate.projection import add_projection_arguments, measured_from, table
from bench.aggregate.projection_report import render
from bench.workers import measure_worker, print_result

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
PEERS = ("duckdb", "polars", "pandas", "dask")
TASK_ALONE = "duckdb on our Parquet"
TARGET_SECONDS = 30.0
TARGET_DOLLARS_PER_GB = 0.005
"""Issue 23's targets for 100 GB: under 30 s, at most Athena's $5 per TB of CSV scanned."""


# --- the workers (in their own subprocess) -------------------------------------------------


def _worker(name: str) -> Callable[[argparse.Namespace], dict[str, Any]]:
    csv_workers = {
        "duckdb": peers.worker_duckdb,
        "polars": peers.worker_polars,
        "pandas": peers.worker_pandas,
        "dask": peers.worker_dask,
    }
    if name == "ours":
        from bench.aggregate.ours import worker_ours

        return lambda a: worker_ours(Path(a.csv), Path(a.out_dir), a.chunk_mib)
    if name == "duckdb-parquet":
        return lambda a: peers.worker_duckdb_parquet(Path(a.parts), Path(a.out_dir))
    return lambda a: csv_workers[name](Path(a.csv), Path(a.out_dir))


def run_worker(args: argparse.Namespace) -> int:
    """In the subprocess: run one worker and print its result as one ``RESULT {json}`` line."""
    try:
        result = _worker(args.worker)(args)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print_result(result)
    return 0


# --- the driver ----------------------------------------------------------------------------


def measure(worker: str, extra: list[str]) -> dict[str, Any]:
    """Run one worker in a subprocess: its result, plus its own peak RSS (``wait4``)."""
    command = [sys.executable, "-m", "bench.aggregate.run", "--worker", worker, *extra]
    return measure_worker(command)


def prepare_csv(args: argparse.Namespace, work: Path) -> tuple[Path, dict[str, Any]]:
    """Write the demo CSV (or reuse ``--keep FILE``); the file and what it holds."""
    from sluice.cli.demo_data import write_demo_data

    csv = Path(args.keep) if args.keep else work / "plays.csv"
    facts_file = csv.with_name(csv.name + ".facts.json")
    facts: dict[str, Any]
    if csv.exists():
        facts = json.loads(facts_file.read_text()) if facts_file.exists() else {}
        facts["reused"] = True
        note = f"reusing {csv} ({csv.stat().st_size:,} bytes)"
        if args.songs and facts.get("songs") not in (None, args.songs):
            note += f"; it has {facts['songs']} songs, not --songs {args.songs}"
        print(note, file=sys.stderr)
        return csv, facts
    started = time.perf_counter()
    facts = dict(write_demo_data(csv, int(args.bytes), args.songs, args.seed))
    facts["seconds"] = round(time.perf_counter() - started, 2)
    facts_file.write_text(json.dumps(facts))
    print(f"generated {csv}: {facts}", file=sys.stderr)
    return csv, facts


def dask_available() -> bool:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        return False
    return True


def run_all(args: argparse.Namespace, csv: Path, work: Path) -> dict[str, dict[str, Any]]:
    """Ours, then each peer, then the task alone; each in its own subprocess."""
    results: dict[str, dict[str, Any]] = {}
    plan: list[tuple[str, list[str]]] = [
        ("ours", ["--csv", str(csv), "--chunk-mib", str(args.chunk_mib)])
    ]
    for tool in PEERS:
        if tool not in args.peers:
            results[tool] = {"skipped": "not in --peers"}
        elif tool == "dask" and args.skip_dask:
            print("dask: skipped (--skip-dask)", file=sys.stderr)
            results["dask"] = {"skipped": "--skip-dask"}
        elif tool == "dask" and not dask_available():
            print("dask: skipped: not installed (pip install 'dask[dataframe]')", file=sys.stderr)
            results["dask"] = {"skipped": "dask[dataframe] is not installed"}
        else:
            plan.append((tool, ["--csv", str(csv)]))
    for tool, extra in plan:
        out = work / tool
        out.mkdir()
        print(f"running {tool} ...", file=sys.stderr, flush=True)
        results[tool] = measure(tool, [*extra, "--out-dir", str(out)])
        _say_done(tool, results[tool])
    parts = results["ours"].get("parts_folder")
    if parts:
        out = work / "duckdb-parquet"
        out.mkdir()
        print(f"running {TASK_ALONE} ...", file=sys.stderr, flush=True)
        results[TASK_ALONE] = measure("duckdb-parquet", ["--parts", parts, "--out-dir", str(out)])
        _say_done(TASK_ALONE, results[TASK_ALONE])
    return results


def _say_done(label: str, result: dict[str, Any]) -> None:
    state = result.get("error") or f"{result.get('seconds', 0):.1f} s"
    print(f"  {label}: {state}", file=sys.stderr, flush=True)


def check_outputs(results: dict[str, dict[str, Any]]) -> tuple[str | None, dict[str, str]]:
    """Fingerprint every tool's output files and compare them with ours'."""
    prints: dict[str, Fingerprint | str] = {}
    for tool, result in results.items():
        if result.get("skipped"):
            continue
        if result.get("error"):
            prints[tool] = "the tool failed"
            continue
        try:
            found = fingerprint([Path(p) for p in result["outputs"]])
        except Exception as exc:
            prints[tool] = f"unreadable output: {type(exc).__name__}: {str(exc)[:120]}"
            continue
        prints[tool] = found
        result["fingerprint"] = found.as_dict()
    return verdicts(prints, reference="ours")


# --- the report ----------------------------------------------------------------------------


def _in_order(results: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Ours, the peers, then the task alone, whatever order they were recorded in."""
    order = ["ours", *PEERS, TASK_ALONE]
    return sorted(results.items(), key=lambda item: order.index(item[0]))


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(ours: float | None, tool: float | None) -> str:
    return "-" if not ours or not tool else f"{ours / tool:.2f}"


def report(
    csv: Path,
    facts: dict[str, Any],
    results: dict[str, dict[str, Any]],
    checks: dict[str, str],
    args: argparse.Namespace,
) -> str:
    size = csv.stat().st_size
    ours = results["ours"]
    whole, task = ours.get("seconds"), ours.get("task_seconds")
    out = [
        f"aggregate benchmark (BMAT: group by Song, Date; sum Number of Plays): {csv}",
        f"  {size:,} bytes, {_cardinality(facts)}; {len(os.sched_getaffinity(0))} CPUs; "
        f"ours: chunks of at most {args.chunk_mib:g} MiB",
        "",
    ]
    rows = [
        [
            "tool",
            "version",
            "wall s",
            "ours/tool whole",
            "ours/tool task",
            "peak RSS MiB",
            "rows",
            "sum of plays",
            "identical?",
        ]
    ]
    for tool, result in _in_order(results):
        if result.get("skipped"):
            rows.append([tool, "-", "skipped", "-", "-", "-", "-", "-", result["skipped"]])
            continue
        rows.append(_row(tool, result, checks.get(tool, "-"), whole, task))
        if tool == "ours" and task is not None:
            rows.append(["ours (task alone)", "sluice", _s(task), "", "", "", "", "", ""])
    out += table(rows)
    out += [
        "",
        "wall: ours = upload complete -> dataset ready -> task (POST .../tasks until GET "
        "/tasks/{id}/result is 200) -> every output file downloaded; peers = read the CSV, "
        "group, write CSV. Each tool ran alone in its own subprocess (peak RSS is its own).",
        "ours/tool whole: ours' whole path / the tool's wall; ours/tool task: ours' task "
        "alone / the tool's wall (< 1: ours is faster). Identical: same rows, same total "
        "plays and the same order-free digest of (Song, Date, plays) as ours.",
        "",
    ]
    out += _ours_notes(ours, results.get(TASK_ALONE) or {})
    out += _peer_notes(results)
    return "\n".join(out)


def _cardinality(facts: dict[str, Any]) -> str:
    """The input's rows and songs, and which variant that is."""
    rows, songs = facts.get("rows"), facts.get("songs")
    if not rows or not songs:
        return "rows and songs unknown (reused without its .facts.json)"
    kind = "high cardinality" if rows / songs <= 20 else "low cardinality"
    return f"{rows:,} rows, {songs:,} songs (~{rows / songs:,.0f} rows a song: {kind})"


def _row(
    tool: str, result: dict[str, Any], verdict: str, whole: float | None, task: float | None
) -> list[str]:
    """One tool's line of the table (ours' line has no ratios: they would be its own)."""
    seconds = result.get("seconds")
    fp = result.get("fingerprint") or {}
    rss = result.get("peak_rss_bytes")
    ours = tool == "ours"
    return [
        "ours (whole path)" if ours else tool,
        str(result.get("version", "sluice")),
        "failed" if seconds is None else _s(seconds),
        "" if ours else _ratio(whole, seconds),
        "" if ours else _ratio(task, seconds),
        "-" if rss is None else f"{rss / MIB:,.0f}",
        f"{fp['rows']:,}" if fp else "-",
        f"{fp['plays']:,}" if fp else "-",
        verdict,
    ]


def _ours_notes(ours: dict[str, Any], task_alone: dict[str, Any]) -> list[str]:
    if ours.get("error"):
        return [f"ours: ERROR {ours['error']}", ours.get("stderr_tail", "")]
    timings = ours.get("timings") or {}
    return [
        f"ours: startup {_s(ours.get('startup_seconds'))} s, upload "
        f"{_s(ours.get('upload_seconds'))} s (streamed presigned POST; not in the wall)",
        f"ours: ingest (upload complete -> ready) {_s(ours.get('ingest_seconds'))} s, "
        f"{ours.get('row_count', 0):,} rows in {ours.get('chunk_count')} chunks, types "
        + ", ".join(f"{k}: {v}" for k, v in (ours.get("columns") or {}).items()),
        f"ours: task (POST -> result 200) {_s(ours.get('task_seconds'))} s; GET .../result "
        f"answered 425 Too Early {ours.get('too_early', 0)} times while it ran (polled every "
        f"{POLL_SECONDS:g} s; the ends are when the system recorded them); the task's own timings: "
        + ", ".join(f"{k} {v}" for k, v in timings.items())
        + f"; {ours.get('parts')} parts -> {ours.get('buckets')} buckets",
        f"ours: download {_s(ours.get('download_seconds'))} s: {len(ours.get('outputs', []))} "
        f"files, {ours.get('output_rows', 0):,} rows, {ours.get('output_bytes', 0):,} bytes",
        f"ours: whole path {_s(ours.get('seconds'))} s (ingest + task + download)",
        _cpu_note(ours, task_alone),
    ]


def _cpu_note(ours: dict[str, Any], duckdb: dict[str, Any]) -> str:
    """The task's CPU seconds against DuckDB's over our Parquet: on a machine shared with
    other work, a steadier comparison than their walls (each waits its turn for a core)."""
    mine, theirs = ours.get("task_cpu_seconds"), duckdb.get("cpu_seconds")
    line = (
        f"ours: CPU (user + system of every process of the local system): ingest "
        f"{_s(ours.get('ingest_cpu_seconds'))} s ({_s(ours.get('ingest_cpu_aws_seconds'))} in "
        f"the embedded AWS's process), task {_s(mine)} s "
        f"({_s(ours.get('task_cpu_aws_seconds'))} in the embedded AWS's process)"
    )
    if theirs:
        ratio = _ratio(mine, theirs)
        line += f"; DuckDB on our Parquet {_s(theirs)} s: the task's CPU / DuckDB's {ratio}"
    return line


def _peer_notes(results: dict[str, dict[str, Any]]) -> list[str]:
    notes = []
    for tool, result in _in_order(results):
        if tool == "ours":
            continue
        if result.get("skipped"):
            notes.append(f"{tool}: skipped: {result['skipped']}")
        elif result.get("error"):
            notes.append(f"{tool}: ERROR {result['error']}")
            if result.get("stderr_tail"):
                notes.append(f"{tool} stderr: ...{result['stderr_tail']}")
        if tool == "pandas" and result.get("read_seconds") is not None:
            notes.append(f"pandas: read_csv {_s(result['read_seconds'])} s of its wall")
        if tool == "dask" and result.get("outputs"):
            notes.append(
                f"dask: {result.get('partitions_in')} input partitions (blocksize 64MB), "
                f"{len(result['outputs'])} output file(s), threaded scheduler"
            )
        if tool == TASK_ALONE and result.get("seconds"):
            ours = results["ours"]
            notes.append(
                f"{TASK_ALONE}: DuckDB's same query over the {ours.get('parts_copied')} typed "
                f"Parquet parts ours' ingest wrote ({ours.get('typed_bytes', 0):,} bytes), "
                "copied to local disk: the match for ours' task alone"
            )
    return notes


def projection_text(results: dict[str, dict[str, Any]], size: int, args: argparse.Namespace) -> str:
    ours = results["ours"]
    if ours.get("error") or not ours.get("spans"):
        return "AWS projection: skipped (ours did not finish)"
    cores = len(os.sched_getaffinity(0))
    measured = measured_from(ours, size, int(args.chunk_mib * MIB), cores)
    assumptions = Assumptions(
        lambdas=args.lambdas,
        max_concurrency=args.max_concurrency,
        memory_mb=args.memory_mb,
        s3_mb_s=args.s3_mb_s,
        cold_start_s=args.cold_start_s,
        child_overhead_s=args.child_overhead_s,
        output_file_bytes=MAX_FILE_BYTES,
    )
    sizes = [1e9, 10e9, args.project_gb * 1e9]
    return render(measured, assumptions, sizes, TARGET_SECONDS, TARGET_DOLLARS_PER_GB)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from sluice.cli.demo_data import parse_size

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=parse_size, default=10**9, help="CSV size (1e9)")
    parser.add_argument("--songs", type=int, help="distinct songs (default ~rows/10)")
    parser.add_argument("--chunk-mib", type=float, default=64, help="sluice's chunk size (64)")
    parser.add_argument("--keep", help="generate the CSV here and keep it; reused if it exists")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated peers to run besides ours"
    )
    parser.add_argument("--skip-dask", action="store_true", help="do not run Dask")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed (0)")
    parser.add_argument("--json", help="also write every raw measurement here")
    parser.add_argument(
        "--keep-parts", help="copy ours' typed Parquet parts into this folder (for profiling)"
    )
    add_projection_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    parser.add_argument("--parts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    work = Path(tempfile.mkdtemp(prefix="sluice-aggregate-"))
    try:
        csv, facts = prepare_csv(args, work)
        results = run_all(args, csv, work)
        if args.keep_parts and results["ours"].get("parts_folder"):
            shutil.copytree(results["ours"]["parts_folder"], args.keep_parts, dirs_exist_ok=True)
        print("checking outputs ...", file=sys.stderr, flush=True)
        _, checks = check_outputs(results)
        print(report(csv, facts, results, checks, args))
        print()
        print(projection_text(results, csv.stat().st_size, args))
        if args.json:
            Path(args.json).write_text(json.dumps({"facts": facts, "results": results}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
