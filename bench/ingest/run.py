"""The ingest benchmark: sluice against DuckDB, polars and pandas on one messy CSV.

    python -m bench.ingest.run [--bytes 1e9] [--chunk-mib 64] [--keep FILE]
                               [--tools ours,duckdb,polars,pandas] [--seed 7]
                               [--variant messy|semicolon|gzip]

Generates the CSV (``bench.ingest.generate``; reused if ``--keep FILE`` exists), then
runs each tool in a subprocess of its own on the same file, one after the other, and
prints wall time, ours/tool ratio, peak memory (the subprocess's peak RSS) and which
column types each tool got right. See bench/README.md.

``--variant`` picks the form of the file: ``messy`` (the CSV), ``semicolon`` (the same
rows ``;``-separated with decimal commas, as a European spreadsheet exports them;
the generator writes it directly) or ``gzip`` (the messy CSV compressed with
``gzip -1``, uploaded and read as the ``.csv.gz`` it is). Sluice detects the dialect and
the compression itself; each peer is told what its documentation asks a user to say.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.ingest.generate import EXPECTED_TYPES, write_messy_csv
from bench.workers import measure_worker, print_result, recorded_moment

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("ours", "duckdb", "polars", "pandas")
VARIANTS = ("messy", "semicolon", "gzip")
"""The file's forms (``--variant``): see the module's doc."""
POLL_SECONDS = float(os.environ.get("BENCH_POLL_S", 0.5))
READY_DEADLINE_SECONDS = float(os.environ.get("BENCH_READY_DEADLINE_S", 3600))
INTEGER_WIDTHS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
FLOAT_WIDTHS = {"float32": 32, "float64": 64}


# --- types: each tool's own names -> sluice type names -------------------------------------


def sluice_type_of_arrow(arrow_type: Any) -> str:
    """The sluice type name an Arrow (Parquet) column type stands for."""
    import pyarrow as pa

    t = pa.types
    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_signed_integer(arrow_type):
        return f"int{arrow_type.bit_width}"
    if t.is_unsigned_integer(arrow_type):
        return f"uint{arrow_type.bit_width}"
    if t.is_floating(arrow_type):
        return f"float{arrow_type.bit_width}"
    if t.is_date(arrow_type) or t.is_timestamp(arrow_type):
        return "datetime"
    if t.is_duration(arrow_type):
        return "timedelta"
    if t.is_time(arrow_type):
        return "time"
    if t.is_dictionary(arrow_type):
        return "category"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type):
        return "string"
    return str(arrow_type)


def sluice_type_of_pandas(series: Any) -> str:
    """The sluice type name a pandas column's dtype stands for ("object:<kind>" if mixed)."""
    import pandas as pd

    dtype = series.dtype
    kind = getattr(dtype, "kind", "")
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_string_dtype(dtype) and kind != "O":
        return "string"
    if kind == "i":
        return f"int{dtype.itemsize * 8}"
    if kind == "u":
        return f"uint{dtype.itemsize * 8}"
    if kind == "f":
        return f"float{dtype.itemsize * 8}"
    if kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    if kind == "m":
        return "timedelta"
    if kind == "O":
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return "string" if inferred == "string" else f"object:{inferred}"
    return str(dtype)


def verdict(expected: str, chosen: str | None) -> tuple[str, str]:
    """("ok" | "wider" | "wrong" | "none", the cell's text) for one tool and column."""
    if chosen is None:
        return "none", "-"
    if chosen == expected:
        return "ok", "ok"
    for widths in (INTEGER_WIDTHS, FLOAT_WIDTHS):
        if expected in widths and chosen in widths and widths[chosen] > widths[expected]:
            return "wider", f"~{chosen}"
    return "wrong", chosen


# --- the workers: each runs in a subprocess of its own -------------------------------------


def _parquet_facts(path: Path) -> tuple[dict[str, str], int]:
    """Per-column sluice types and the row count of a Parquet file or folder."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet")
    types = {field.name: sluice_type_of_arrow(field.type) for field in dataset.schema}
    return types, dataset.count_rows()


DUCKDB_OPTIONS = {
    "messy": "",
    # DuckDB's sniffer finds the ';' but not the decimal comma: a user says both.
    "semicolon": ", delim=';', decimal_separator=','",
    "gzip": "",  # read_csv decompresses a .gz itself (compression='auto')
}


def worker_duckdb(csv: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    target = out / "duckdb.parquet"
    quoted_csv = str(csv).replace("'", "''")
    quoted_out = str(target).replace("'", "''")
    options = DUCKDB_OPTIONS[args.variant]
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_csv('{quoted_csv}', sample_size=-1{options})) "
            f"TO '{quoted_out}' (FORMAT parquet)"
        )
    seconds = time.perf_counter() - started
    types, rows = _parquet_facts(target)
    return {"seconds": seconds, "types": types, "rows": rows, "version": duckdb.__version__}


def worker_polars(csv: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    target = out / "polars.parquet"
    started = time.perf_counter()
    if args.variant == "semicolon":
        pl.scan_csv(csv, infer_schema_length=None, separator=";", decimal_comma=True).sink_parquet(
            target
        )
    elif args.variant == "gzip":
        # scan_csv cannot stream a compressed file; read_csv decompresses it in memory.
        pl.read_csv(csv, infer_schema_length=None).write_parquet(target)
    else:
        pl.scan_csv(csv, infer_schema_length=None).sink_parquet(target)
    seconds = time.perf_counter() - started
    types, rows = _parquet_facts(target)
    return {"seconds": seconds, "types": types, "rows": rows, "version": pl.__version__}


def worker_pandas(csv: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    result: dict[str, Any] = {"version": pd.__version__, "notes": []}
    # A .gz is decompressed by read_csv (compression="infer", from the name).
    dialect = {"sep": ";", "decimal": ","} if args.variant == "semicolon" else {}
    attempt = _pandas_attempt(pd, csv, out / "pandas.parquet", dialect)
    if attempt.get("error"):
        # As a user would next: read with low_memory=False (whole columns typed at once).
        mixed = {name: kind for name, kind in attempt["types"].items() if "object" in kind}
        result["notes"].append(
            f"read_csv() with its defaults: {attempt['error']} (mixed columns: {mixed}); "
            "timed instead: read_csv(low_memory=False) -> to_parquet"
        )
        attempt = _pandas_attempt(pd, csv, out / "pandas.parquet", {**dialect, "low_memory": False})
    result.update(attempt)
    return result


def _pandas_attempt(pd: Any, csv: Path, target: Path, options: dict[str, Any]) -> dict[str, Any]:
    import warnings

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pd.read_csv(csv, **options)
    read_seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        # Type inspection (infer_dtype on object columns) is not timed.
        "types": {name: sluice_type_of_pandas(frame[name]) for name in frame.columns},
        "rows": len(frame),
        "read_seconds": read_seconds,
        "warnings": sorted({f"{w.category.__name__}: {w.message}"[:160] for w in caught}),
    }
    started = time.perf_counter()
    try:
        frame.to_parquet(target, engine="pyarrow")
    except Exception as exc:
        result["error"] = f"to_parquet failed: {type(exc).__name__}: {str(exc)[:160]}"
        return result
    result["seconds"] = read_seconds + time.perf_counter() - started
    return result


class MultipartBody:
    """A multipart/form-data body read from the CSV file as it is sent (never held whole).

    ``requests`` sends a file-like body in blocks, with Content-Length from ``len()``.
    """

    def __init__(self, fields: dict[str, str], path: Path) -> None:
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in fields.items()
        )
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._length = len(head) + path.stat().st_size + len(tail)
        self._file = path.open("rb")
        self._parts: list[Callable[[int], bytes]] = [
            _bytes_reader(head),
            self._file.read,
            _bytes_reader(tail),
        ]

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._length
        out = bytearray()
        while self._parts and len(out) < size:
            block = self._parts[0](size - len(out))
            if block:
                out += block
            else:
                self._parts.pop(0)
        return bytes(out)

    def close(self) -> None:
        self._file.close()


def _bytes_reader(data: bytes) -> Callable[[int], bytes]:
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        block = data[position : position + size]
        position += len(block)
        return block

    return read


def worker_ours(csv: Path, _: Path, args: argparse.Namespace) -> dict[str, Any]:
    import requests
    from sluice.local import patches
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    patches.install_all()  # LocalSystem.start installs them too; idempotent
    stages = _time_functions()
    size = csv.stat().st_size
    started = time.perf_counter()
    system = LocalSystem(
        LocalOptions(
            port=0,
            chunk_bytes=int(args.chunk_mib * 1024 * 1024),
            max_upload_bytes=max(5 * 1024**3, 2 * size),
            demo=True,
            lambda_processes=os.cpu_count() or 1,
        )
    ).start()
    result: dict[str, Any] = {"startup_seconds": time.perf_counter() - started}
    try:
        api = system.api_url
        http = requests.Session()
        tokens = http.post(
            f"{api}/auth/token",
            json={"username": DEMO_USER, "password": DEMO_PASSWORD},
            timeout=60,
        )
        _check(tokens)
        http.headers["Authorization"] = f"Bearer {tokens.json()['id_token']}"
        created = http.post(
            f"{api}/datasets",
            json={"name": csv.stem, "path": "bench", "description": "ingest benchmark"},
            timeout=60,
        )
        _check(created)
        dataset_id = created.json()["dataset"]["id"]
        upload = created.json()["upload"]

        body = MultipartBody(upload["fields"], csv)
        upload_started = time.perf_counter()
        try:
            posted = requests.post(
                upload["url"],
                data=body,
                headers={"Content-Type": body.content_type},
                timeout=3600,
            )
        finally:
            body.close()
        _check(posted)
        uploaded = time.perf_counter()
        cpu_at_upload = _tree_cpu_seconds()
        result["upload_seconds"] = uploaded - upload_started
        result["upload"] = "presigned POST, streamed multipart body"

        poll_seconds: list[float] = []
        while True:
            asked = time.perf_counter()
            answer = http.get(f"{api}/datasets/{dataset_id}", timeout=60)
            poll_seconds.append(time.perf_counter() - asked)
            _check(answer)
            dataset = answer.json()
            if dataset["status"] not in ("awaiting_upload", "uploaded", "inferring"):
                result["cpu_seconds"] = _tree_cpu_seconds() - cpu_at_upload
                break  # ready, or failed / stopped / any other end
            if time.perf_counter() - uploaded > READY_DEADLINE_SECONDS:
                result["error"] = f"not ready after {READY_DEADLINE_SECONDS:.0f} s: {dataset}"
                return result
            time.sleep(POLL_SECONDS)
        # Ready is when Finish recorded it (ingest_finished_at, this machine's clock), not
        # when a poll next noticed: polls then need not be frequent (each one costs the
        # embedded AWS, and so the ingest, some CPU).
        result["seconds"] = recorded_moment(dataset.get("ingest_finished_at")) - uploaded
        result["polls"] = len(poll_seconds)
        result["poll_median_ms"] = 1000 * sorted(poll_seconds)[len(poll_seconds) // 2]
        result["stages"] = {
            name: {"calls": calls, "first": first - uploaded, "last": last - uploaded}
            for name, (calls, first, last) in stages.items()
            if last >= uploaded
        }
        result["rows"] = dataset.get("row_count")
        result["dialect"] = dataset.get("dialect")
        result["content_hash"] = dataset.get("content_hash")
        result["chunk_count"] = dataset.get("chunk_count")
        if dataset["status"] != "ready":
            result["error"] = f"status {dataset['status']}: {dataset.get('error')}"
        types: dict[str, str | None] = {}
        for column in dataset.get("columns") or []:
            if isinstance(column, str):  # before inference: names only
                types[column] = None
            else:
                types[column["name"]] = column.get("inferred_type") or column.get("effective_type")
        result["types"] = types
        return result
    finally:
        system.stop()


def _tree_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every descendant (the embedded AWS
    in this one, the pool's workers), reaped children included: less sensitive to other
    load on the machine than wall time. Linux only (/proc); 0.0 elsewhere."""
    parents: dict[int, int] = {}
    spent: dict[int, int] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = sum(int(f) for f in fields[11:15])
    tree = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(spent.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def _check(response: Any) -> None:
    """Raise with the answer's text when a request failed (the API's error names the cause)."""
    if response.status_code >= 400:
        request = response.request
        raise RuntimeError(
            f"{request.method} {response.url}: {response.status_code} {response.text[:300]}"
        )


def _time_functions() -> dict[str, list[Any]]:
    """Record when each in-process Lambda function runs: name -> [calls, first start, last end].

    Wraps ``lambda_runtime.invoke`` (what every local invocation goes through; with worker
    processes a call's time includes its wait for a free one); for the breakdown only.
    """
    from sluice.local import lambda_runtime

    stages: dict[str, list[Any]] = {}
    invoke = lambda_runtime.invoke

    def timed(catalog: Any, name: str, arn: str, event: Any) -> tuple[str, bool, str]:
        started = time.perf_counter()
        try:
            return invoke(catalog, name, arn, event)
        finally:
            ended = time.perf_counter()
            entry = stages.setdefault(name, [0, started, ended])
            entry[0] += 1
            entry[1] = min(entry[1], started)
            entry[2] = max(entry[2], ended)

    lambda_runtime.invoke = timed  # type: ignore[assignment]
    return stages


WORKERS: dict[str, Callable[[Path, Path, argparse.Namespace], dict[str, Any]]] = {
    "ours": worker_ours,
    "duckdb": worker_duckdb,
    "polars": worker_polars,
    "pandas": worker_pandas,
}


def run_worker(args: argparse.Namespace) -> int:
    try:
        result = WORKERS[args.worker](Path(args.csv), Path(args.out_dir), args)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print_result(result)
    return 0


# --- the driver ----------------------------------------------------------------------------


def measure(tool: str, csv: Path, out_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one tool's worker in a subprocess; its result with peak RSS and wall time added."""
    command = [
        sys.executable,
        "-m",
        "bench.ingest.run",
        "--worker",
        tool,
        "--csv",
        str(csv),
        "--out-dir",
        str(out_dir),
        "--chunk-mib",
        str(args.chunk_mib),
        "--variant",
        args.variant,
    ]
    return measure_worker(command)


def _content_hash(path: Path) -> str:
    """Dropbox's content hash of the file, streamed (the definition, not sluice's code)."""
    digests = []
    with path.open("rb") as stream:
        while block := stream.read(4 * 1024 * 1024):
            digests.append(hashlib.sha256(block).digest())
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _gib(n: float | None) -> str:
    return "-" if n is None else f"{n / 1024**3:.2f} GiB"


def _secs(n: float | None) -> str:
    return "-" if n is None else f"{n:.1f} s"


def _table(rows: Iterable[list[str]]) -> str:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(
    csv: Path,
    expected_types: dict[str, str],
    results: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    text: Path | None = None,
) -> str:
    """The tables and notes; ``text``: the CSV that ``csv`` compresses, if it does."""
    size = csv.stat().st_size
    ours = results.get("ours", {}).get("seconds")
    out = [
        f"ingest benchmark ({args.variant}): {csv} ({size:,} bytes), {os.cpu_count()} CPUs, "
        f"chunks of at most {args.chunk_mib:g} MiB",
        "",
    ]
    if text is not None:
        out[0] += f"; it compresses {text} ({text.stat().st_size:,} bytes)"
        out[1:1] = ["MB/s: the compressed file's bytes a second"]
    summary = [["tool", "version", "wall", "ours/tool", "MB/s", "peak RSS", "rows", "types"]]
    for tool, result in results.items():
        seconds = result.get("seconds")
        ratio = "-" if seconds is None or ours is None else f"{ours / seconds:.2f}"
        speed = "-" if not seconds else f"{size / seconds / 1e6:.0f}"
        counts = {"ok": 0, "wider": 0, "wrong": 0, "none": 0}
        for column, expected in expected_types.items():
            counts[verdict(expected, (result.get("types") or {}).get(column))[0]] += 1
        typed = f"{counts['ok']}/{len(expected_types)} right"
        if counts["wider"]:
            typed += f", {counts['wider']} wider"
        if counts["none"] == len(expected_types):
            typed = "- (no types)"
        rows = result.get("rows")
        summary.append(
            [
                tool,
                str(result.get("version", "sluice")),
                "failed" if seconds is None else _secs(seconds),
                ratio,
                speed,
                _gib(result.get("peak_rss_bytes")),
                "-" if rows is None else f"{rows:,}",
                typed,
            ]
        )
    out.append(_table(summary))
    out.append("")
    out.append(
        "wall: ours = upload complete -> Finish recorded the dataset ready (its "
        f"ingest_finished_at; polled every {POLL_SECONDS:g} s); peers = CSV -> "
        "Parquet. ours/tool < 1: ours is faster."
    )
    types = [["column", "right type", *results]]
    for column, expected in expected_types.items():
        types.append(
            [
                column,
                expected,
                *(
                    verdict(expected, (r.get("types") or {}).get(column))[1]
                    for r in results.values()
                ),
            ]
        )
    out += ["", "column types (ok: right; ~T: a wider type of the right kind; else what it chose):"]
    out.append(_table(types))
    notes = []
    for tool, result in results.items():
        if result.get("error"):
            notes.append(f"{tool}: ERROR {result['error']}")
        if tool == "ours":
            poll_ms = result.get("poll_median_ms")
            notes.append(
                f"ours: startup {_secs(result.get('startup_seconds'))}, upload "
                f"{_secs(result.get('upload_seconds'))} ({result.get('upload', '-')}), "
                f"{result.get('chunk_count', '-')} chunks, {result.get('polls', '-')} polls "
                f"(median {'-' if poll_ms is None else f'{poll_ms:.0f}'} ms each), "
                f"{_secs(result.get('cpu_seconds'))} of CPU in its processes over the ingest"
            )
            notes.append(f"ours: columns: {', '.join(result.get('types') or {}) or '-'}")
            if result.get("dialect"):
                notes.append(f"ours: dialect {json.dumps(result['dialect'])}")
            if result.get("content_hash"):
                if result["content_hash"] == _content_hash(csv):
                    verdict_text = "matches the file's"
                elif text is not None and result["content_hash"] == _content_hash(text):
                    verdict_text = "matches the decompressed text's"
                else:
                    verdict_text = "DIFFERS from the file's"
                notes.append(f"ours: content hash {verdict_text}")
            spans = [
                f"{name.removeprefix('ingest_')} x{calls} {first:.1f}..{last:.1f}"
                for name, (calls, first, last) in sorted(
                    (
                        (n, (v["calls"], v["first"], v["last"]))
                        for n, v in (result.get("stages") or {}).items()
                    ),
                    key=lambda item: item[1][1],
                )
            ]
            if spans:
                notes.append("ours: functions, seconds after upload: " + "; ".join(spans))
        if tool == "pandas":
            notes += [f"pandas: {note}" for note in result.get("notes", [])]
            if result.get("read_seconds") is not None:
                notes.append(f"pandas: read_csv {_secs(result['read_seconds'])} of the wall time")
            notes += [f"pandas: {warning}" for warning in result.get("warnings", [])]
        if result.get("stderr_tail"):
            notes.append(f"{tool} stderr: ...{result['stderr_tail']}")
    if notes:
        out += ["", *notes]
    return "\n".join(out)


def input_file(args: argparse.Namespace, work: Path) -> tuple[Path, dict[str, str], Path | None]:
    """The file the tools read, its expected types, and the CSV it compresses (gzip only).

    ``--keep FILE`` names the messy CSV; the variants lie beside it: the semicolon file
    at ``<stem>.semicolon<suffix>``, the gzip at ``FILE.gz``. Each is reused if it exists.
    """
    messy = Path(args.keep) if args.keep else work / "messy.csv"
    if args.variant == "semicolon":
        path = messy.with_name(f"{messy.stem}.semicolon{messy.suffix}")
        return path, _generated(path, args, "semicolon"), None
    expected_types = _generated(messy, args, "comma")
    if args.variant == "messy":
        return messy, expected_types, None
    packed = messy.with_name(messy.name + ".gz")
    if packed.exists():
        print(f"reusing {packed} ({packed.stat().st_size:,} bytes)", file=sys.stderr)
    else:
        started = time.perf_counter()
        partial = packed.with_name(packed.name + ".partial")
        with partial.open("wb") as out:
            subprocess.run(["gzip", "-1", "-c", str(messy)], stdout=out, check=True)
        partial.rename(packed)
        print(
            f"compressed {messy} to {packed} ({packed.stat().st_size:,} bytes, gzip -1) "
            f"in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return packed, expected_types, messy


def _generated(path: Path, args: argparse.Namespace, dialect: str) -> dict[str, str]:
    """Generate the CSV at ``path`` in ``dialect`` unless it exists; its expected types."""
    types_file = path.with_name(path.name + ".types.json")
    if path.exists():
        print(f"reusing {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
        if types_file.exists():
            expected: dict[str, str] = json.loads(types_file.read_text())
            return expected
        print(f"no {types_file}: assuming a file of over 1M rows", file=sys.stderr)
        return dict(EXPECTED_TYPES)
    started = time.perf_counter()
    expected = write_messy_csv(path, int(args.bytes), args.seed, dialect)
    seconds = time.perf_counter() - started
    types_file.write_text(json.dumps(expected, indent=1))
    print(f"generated {path} ({path.stat().st_size:,} bytes) in {seconds:.1f} s", file=sys.stderr)
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=float, default=1e9, help="CSV size to generate (1e9)")
    parser.add_argument("--chunk-mib", type=float, default=64, help="sluice's chunk size (64)")
    parser.add_argument("--keep", help="generate the CSV here and keep it; reused if it exists")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="messy",
        help="the file's form: messy CSV (default), ';' with decimal commas, or gzip",
    )
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    try:
        csv, expected_types, text = input_file(args, work)
        results: dict[str, dict[str, Any]] = {}
        for tool in tools:
            out_dir = work / tool
            out_dir.mkdir()
            print(f"running {tool} ...", file=sys.stderr, flush=True)
            results[tool] = measure(tool, csv, out_dir, args)
            shutil.rmtree(out_dir, ignore_errors=True)
            print(f"  {tool}: {_secs(results[tool].get('seconds'))}", file=sys.stderr, flush=True)
        print(report(csv, expected_types, results, args, text))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
