"""From the embedded Step Functions' history to an AWS projection.

1. ``extract_spans``: every Lambda task of an execution (scheduled -> succeeded), with the
   few facts of its input and output that say how many bytes it handled.
2. ``phase_stats``: per phase (ScanChunk, ConvertChunk, Partial, Reduce, ...), how many
   CSV bytes one worker gets through per second on this machine.
3. ``project``: wall time and cost on AWS for a file of any size, N concurrent Lambdas
   of M MB, from those rates and the stated assumptions; ``render`` prints it all, with
   the formula.

Locally the "Lambdas" share the machine's cores (a pool of one worker process per core,
the rest waiting their turn), so tasks slow each other down. A task that ran while ``c``
tasks (of any phase) ran at once had ``min(1, cores / c)`` of a core; one worker's rate is
a phase's CSV bytes over the sum of its tasks' durations times that share. It still
includes the local S3 (moto, in the main process, on the same cores) and the pollers, so
it is conservative.

Each scan writes its chunk as a typed part too; only the chunks whose own types are not
the file's are converted again (their share ``v`` is measured).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MB = 1e6
MIB = 1024 * 1024

# Fan-out phases: one task per chunk/part (or bucket); the rest run once per execution.
FAN_OUT = ("ingest.ScanChunk", "ingest.RescanChunk", "ingest.ConvertChunk", "task.Partial")
PER_BUCKET = ("task.Reduce",)
SERIAL = (
    "ingest.Plan",
    "ingest.Reconcile",
    "ingest.Decide",
    "ingest.Finish",
    "task.Plan",
    "task.Finish",
)
EVENTS_PER_MAP_ITEM = 7  # MapIterationStarted, Task{StateEntered,Scheduled,Started,...}


# --- 1. the history --------------------------------------------------------------------


def add_projection_arguments(parser: argparse.ArgumentParser) -> None:
    """The AWS projection's options, the same in every benchmark that prints one."""
    group = parser.add_argument_group("AWS projection")
    group.add_argument("--lambdas", type=int, default=1000, help="N concurrent (1000)")
    group.add_argument("--memory-mb", type=int, default=3008, help="M per Lambda (3008)")
    group.add_argument("--s3-mb-s", type=float, default=90.0, help="S3 MB/s per Lambda (90)")
    group.add_argument("--cold-start-s", type=float, default=2.0, help="per fan-out stage (2)")
    group.add_argument("--project-gb", type=float, default=100.0, help="file to project (100)")


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    output = json.loads(event["taskSucceededEventDetails"].get("output") or "{}")
    payload = output.get("Payload", output)
    return payload if isinstance(payload, dict) else {}


def _facts(state: str, given: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The small facts of a task's input and output the projection needs."""
    if state in ("ScanChunk", "RescanChunk"):
        part = payload.get("part") or {}
        return {
            "csv_bytes": int(payload.get("end", 0)) - int(payload.get("start", 0)),
            "key": part.get("key"),  # the typed part the scan wrote, if any
        }
    if state == "ConvertChunk":
        span = given.get("span") or {}
        return {
            "csv_bytes": int(span.get("last", 0)) - int(span.get("first", 0)),
            "key": payload.get("key"),
            "parquet_bytes": int(payload.get("bytes") or 0),
            "rows": int(payload.get("rows") or 0),
        }
    if state == "Partial":
        return {
            "key": (given.get("part") or {}).get("key"),
            "rows": int(payload.get("rows") or 0),
            "groups": int(payload.get("groups") or 0),
        }
    if state == "Reduce":
        files = payload.get("files") or []
        return {
            "bucket": payload.get("bucket"),
            "output_bytes": sum(int(f.get("bytes", 0)) for f in files),
            "rows": sum(int(f.get("rows", 0)) for f in files),
        }
    return {}


def extract_spans(kind: str, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every task of one execution: ``{"phase": "<kind>.<State>", "scheduled", "succeeded",
    ...facts}``, times in epoch seconds. A task's TaskSucceeded event points back (by
    previousEventId) to its TaskStarted, TaskScheduled and the TaskStateEntered that
    names the state and holds its input."""
    by_id = {event["id"]: event for event in events}
    spans = []
    for event in events:
        if event["type"] != "TaskSucceeded":
            continue
        scheduled: float | None = None
        entered = event
        while entered["type"] != "TaskStateEntered":
            entered = by_id[entered["previousEventId"]]
            if entered["type"] == "TaskScheduled" and scheduled is None:
                scheduled = _epoch(entered["timestamp"])
        details = entered["stateEnteredEventDetails"]
        state = details["name"]
        given = json.loads(details.get("input") or "{}")
        spans.append(
            {
                "phase": f"{kind}.{state}",
                "scheduled": scheduled if scheduled is not None else _epoch(entered["timestamp"]),
                "succeeded": _epoch(event["timestamp"]),
                **_facts(state, given, _payload(event)),
            }
        )
    return spans


def count_transitions(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """State transitions (states entered: what Step Functions bills) and history events."""
    types = Counter(event["type"] for event in events)
    entered = sum(n for name, n in types.items() if name.endswith("StateEntered"))
    return {"transitions": entered, "events": sum(types.values())}


# --- 2. per-phase rates ----------------------------------------------------------------


@dataclass
class Phase:
    name: str
    tasks: int
    busy_s: float  # sum of task durations
    alone_s: float  # sum of task durations x the share of a core each task could have had
    span_s: float  # first scheduled -> last succeeded
    running: float  # tasks running at once (every phase), time-weighted over this phase's tasks
    csv_bytes: float  # the CSV bytes the phase stands for

    @property
    def mean_s(self) -> float:
        return self.busy_s / self.tasks

    @property
    def raw_rate(self) -> float:
        """CSV bytes/s of one task as measured, slowed by the others sharing the cores."""
        return self.csv_bytes / self.busy_s if self.busy_s > 0 else math.inf

    @property
    def one_worker_rate(self) -> float:
        """CSV bytes/s one worker would get through with a core of its own."""
        return self.csv_bytes / self.alone_s if self.alone_s > 0 else math.inf


def running_at_once(spans: Sequence[dict[str, Any]]) -> list[float]:
    """For each span, how many spans (itself included) ran at once, on average over it."""
    times = sorted({t for s in spans for t in (s["scheduled"], s["succeeded"])})
    pieces = list(itertools.pairwise(times))
    counts = [
        sum(1 for s in spans if s["scheduled"] <= lo and s["succeeded"] >= hi) for lo, hi in pieces
    ]
    out = []
    for span in spans:
        start, end = span["scheduled"], span["succeeded"]
        if end <= start:
            out.append(1.0)
            continue
        covered = sum(
            n * (hi - lo)
            for (lo, hi), n in zip(pieces, counts, strict=True)
            if lo >= start and hi <= end
        )
        out.append(max(covered / (end - start), 1.0))
    return out


@dataclass
class Measured:
    """What the projection takes from one local run."""

    file_bytes: int
    chunk_bytes: int
    cores: int
    phases: dict[str, Phase]
    typed_ratio: float  # typed Parquet bytes / CSV bytes
    group_ratio: float  # groups written by Partial / rows read
    output_ratio: float  # output CSV bytes / input CSV bytes
    rows_per_byte: float  # input rows / CSV bytes
    transitions: dict[str, int]  # "ingest"/"task" -> states entered
    events: dict[str, int]
    chunks: int
    buckets: int
    converted_share: float = 0.0  # chunks converted again / chunks
    memory_mb: dict[str, int] = field(default_factory=dict)  # phase -> configured MB
    timeout_s: dict[str, int] = field(default_factory=dict)

    def serial_s(self, phase: str) -> float:
        found = self.phases.get(phase)
        return found.mean_s if found else 0.0


def _reduce_share(spans: list[dict[str, Any]], file_bytes: int) -> dict[int, float]:
    """CSV bytes each Reduce stands for: the file split by its share of the output."""
    reduces = [s for s in spans if s["phase"] == "task.Reduce"]
    total = sum(s.get("output_bytes", 0) for s in reduces) or 1
    return {i: file_bytes * s.get("output_bytes", 0) / total for i, s in enumerate(reduces)}


def phase_stats(spans: list[dict[str, Any]], file_bytes: int, cores: int) -> dict[str, Phase]:
    """Group the spans by phase and attach the CSV bytes each phase handled.

    Locally the tasks share ``cores``: a task that ran while ``c`` tasks (of any phase) ran
    at once had ``min(1, cores / c)`` of a core, so alone it would have taken its duration
    times that share."""
    # A part is written by its scan or converted again; the last writer stands for it.
    writers = ("ingest.ScanChunk", "ingest.RescanChunk", "ingest.ConvertChunk")
    csv_of_part = {
        s["key"]: s["csv_bytes"]
        for phase in writers
        for s in spans
        if s["phase"] == phase and s.get("key")
    }
    reduce_bytes = _reduce_share(spans, file_bytes)
    at_once = running_at_once(spans)
    grouped: dict[str, list[tuple[dict[str, Any], float, float]]] = {}
    reduce_index = 0
    for span, running in zip(spans, at_once, strict=True):
        phase = span["phase"]
        if phase in ("ingest.ScanChunk", "ingest.RescanChunk", "ingest.ConvertChunk"):
            csv = float(span["csv_bytes"])
        elif phase == "task.Partial":
            csv = float(csv_of_part.get(span.get("key"), 0))
        elif phase == "task.Reduce":
            csv = reduce_bytes[reduce_index]
            reduce_index += 1
        else:  # serial steps stand for the whole file
            csv = float(file_bytes)
        grouped.setdefault(phase, []).append((span, csv, running))
    phases = {}
    for name, items in grouped.items():
        durations = [s["succeeded"] - s["scheduled"] for s, _, _ in items]
        busy = sum(durations)
        phases[name] = Phase(
            name=name,
            tasks=len(items),
            busy_s=busy,
            alone_s=sum(
                d * min(1.0, cores / c) for d, (_, _, c) in zip(durations, items, strict=True)
            ),
            span_s=max(s["succeeded"] for s, _, _ in items)
            - min(s["scheduled"] for s, _, _ in items),
            running=(
                sum(d * c for d, (_, _, c) in zip(durations, items, strict=True)) / busy
                if busy > 0
                else 1.0
            ),
            csv_bytes=sum(csv for _, csv, _ in items) if name not in SERIAL else float(file_bytes),
        )
    return phases


def function_settings() -> tuple[dict[str, int], dict[str, int]]:
    """Each phase's configured Lambda memory and timeout, from the catalogue and the ASL."""
    from sluice.catalog import CATALOG

    specs = {spec.name: spec for spec in CATALOG.functions}
    memory: dict[str, int] = {}
    timeout: dict[str, int] = {}
    kinds = {"ingest_dataset": "ingest", "run_task": "task"}
    for machine in CATALOG.state_machines:
        kind = kinds.get(machine.name)
        if kind is None:
            continue
        states = _task_states(json.loads(machine.definition_path.read_text())["States"])
        for state, placeholder in states.items():
            function = machine.functions.get(placeholder)
            if function in specs:
                memory[f"{kind}.{state}"] = specs[function].memory_mb
                timeout[f"{kind}.{state}"] = specs[function].timeout_s
    return memory, timeout


def _task_states(states: dict[str, Any]) -> dict[str, str]:
    """State name -> its function's ${Placeholder}, through Map and Parallel states."""
    found: dict[str, str] = {}
    for name, state in states.items():
        function = str((state.get("Parameters") or {}).get("FunctionName", ""))
        match = re.fullmatch(r"\$\{(\w+)\}", function)
        if match and name not in found:  # RecordFailure reuses Finish's function
            found[name] = match.group(1)
        for inner in [state.get("ItemProcessor") or {}, *(state.get("Branches") or [])]:
            found.update({k: v for k, v in _task_states(inner.get("States", {})).items()})
    return found


def _converted_share(phases: dict[str, Phase]) -> float:
    scans = phases.get("ingest.ScanChunk")
    converts = phases.get("ingest.ConvertChunk")
    if not scans or not converts:
        return 0.0
    return min(1.0, converts.tasks / scans.tasks)


def measured_from(ours: dict[str, Any], file_bytes: int, chunk_bytes: int, cores: int) -> Measured:
    """The projection's inputs from the ours worker's result."""
    spans = ours["spans"]
    phases = phase_stats(spans, file_bytes, cores)
    partials = [s for s in spans if s["phase"] == "task.Partial"]
    rows = sum(s.get("rows", 0) for s in partials) or 1
    memory, timeout = function_settings()
    return Measured(
        file_bytes=file_bytes,
        chunk_bytes=chunk_bytes,
        cores=cores,
        phases=phases,
        typed_ratio=ours["typed_bytes"] / file_bytes,
        group_ratio=sum(s.get("groups", 0) for s in partials) / rows,
        output_ratio=ours["output_bytes"] / file_bytes,
        rows_per_byte=(ours.get("row_count") or 0) / file_bytes,
        transitions={k: v["transitions"] for k, v in ours["executions"].items()},
        events={k: v["events"] for k, v in ours["executions"].items()},
        chunks=int(ours.get("chunk_count") or phases["ingest.ScanChunk"].tasks),
        buckets=int(ours.get("buckets") or 1),
        converted_share=_converted_share(phases),
        memory_mb=memory,
        timeout_s=timeout,
    )


# --- 3. the projection -----------------------------------------------------------------


@dataclass
class Assumptions:
    lambdas: int = 1000  # N: concurrent Lambdas
    memory_mb: int = 3008  # M: memory of the fan-out Lambdas
    s3_mb_s: float = 90.0  # S3 throughput one Lambda gets, each way
    request_s: float = 0.03  # one small S3 GET/PUT's latency
    cold_start_s: float = 2.0  # per fan-out stage: cold starts and Map launch
    inline_map_limit: int = 40  # Step Functions' inline Map runs at most 40 iterations at once
    lambda_gb_s: float = 0.0000166667  # $ per GB-s (x86)
    lambda_request: float = 0.20 / 1e6  # $ per invocation
    transition: float = 0.000025  # $ per state transition (Standard workflows)
    s3_put: float = 0.005 / 1000  # $ per PUT
    s3_get: float = 0.0004 / 1000  # $ per GET


@dataclass
class Projection:
    file_bytes: float
    concurrency: int
    chunks: int
    buckets: int
    stages: dict[str, float]  # stage -> wall seconds
    task_s: dict[str, float]  # fan-out phase -> seconds of one task
    lambda_cost: float
    transitions: float
    transition_cost: float
    s3_requests: dict[str, float]
    s3_cost: float
    warnings: list[str]

    @property
    def wall_s(self) -> float:
        return sum(self.stages.values())

    @property
    def cost(self) -> float:
        return self.lambda_cost + self.transition_cost + self.s3_cost


def _waves(items: int, concurrency: int) -> int:
    return math.ceil(items / concurrency)


def project(m: Measured, size: float, a: Assumptions, concurrency: int) -> Projection:
    """Wall time and cost of ingest + task for a CSV of ``size`` bytes on AWS."""
    from sluice.store.objects import PARALLEL_GETS
    from sluice.tasks.aggregate_output import ROWS_PER_BUCKET, bucket_count
    from sluice.tasks.partials import READ_THREADS

    s3 = a.s3_mb_s * MB
    c = float(m.chunk_bytes)
    n = max(1, math.ceil(size / c))
    r = bucket_count(int(size * m.rows_per_byte), int(size * m.typed_ratio))  # sluice's rule
    k, g, o = m.typed_ratio, m.group_ratio, m.output_ratio

    def rate(phase: str) -> float:
        found = m.phases.get(phase)
        return found.one_worker_rate if found and found.one_worker_rate > 0 else math.inf

    # One task's seconds: CPU at the measured rate + its S3 bytes at s3 + request latency.
    v = m.converted_share
    scan = c / rate("ingest.ScanChunk") + (c + c * k) / s3  # reads its range, writes its part
    convert = c / rate("ingest.ConvertChunk") + (c + c * k) / s3 if v else 0.0
    # One buckets file of all R buckets: one PUT (sluice.tasks.partials).
    partial = c / rate("task.Partial") + (c * k + c * k * g) / s3 + a.request_s
    bucket_csv = size / r
    reduce = (
        bucket_csv / rate("task.Reduce")
        + (bucket_csv * k * g + bucket_csv * o) / s3
        # per part, a ranged GET of the bucket's offsets, then one of its slice
        + 2 * math.ceil(n / READ_THREADS) * a.request_s
    )
    w = _waves(n, concurrency)
    stages = {
        "ingest: plan": m.serial_s("ingest.Plan"),
        "ingest: scan (and hash)": w * scan + a.cold_start_s,
        "ingest: reconcile + decide": m.serial_s("ingest.Reconcile")
        + m.serial_s("ingest.Decide")
        # decide GETs n chunk statistics and n block digests, 16 at a time
        + 2 * math.ceil(n / PARALLEL_GETS) * a.request_s,
        "ingest: convert": _waves(math.ceil(n * v), concurrency) * convert
        + (a.cold_start_s if v else 0.0),
        "ingest: finish": m.serial_s("ingest.Finish"),
        "task: plan": m.serial_s("task.Plan"),
        "task: partial": w * partial + a.cold_start_s,
        "task: reduce": _waves(r, concurrency) * reduce + a.cold_start_s,
        "task: finish": m.serial_s("task.Finish"),
    }

    fan_gb = a.memory_mb / 1024
    serial_gb_s = sum(
        m.serial_s(p) * m.memory_mb.get(p, 1024) / 1024 for p in SERIAL if p in m.phases
    )
    gb_s = n * (scan + v * convert + partial) * fan_gb + r * reduce * fan_gb + serial_gb_s
    invocations = math.ceil(n * (2 + v)) + r + 1 + len(SERIAL)
    lambda_cost = gb_s * a.lambda_gb_s + invocations * a.lambda_request

    # Map iterations: scan (+ the converted share); partial + reduce.
    items = {"ingest": n * (1 + v), "task": n + r}
    local_items = {"ingest": m.chunks * (1 + v), "task": m.chunks + m.buckets}
    transitions = 0.0
    warnings = []
    for kind in ("ingest", "task"):
        fixed = m.transitions.get(kind, 0) - local_items[kind]
        transitions += fixed + items[kind]
        events = m.events.get(kind, 0) - EVENTS_PER_MAP_ITEM * local_items[kind]
        events += EVENTS_PER_MAP_ITEM * items[kind]
        if events > 25_000:
            warnings.append(
                f"the {kind} execution would log ~{events:,.0f} history events: over Step "
                "Functions' 25,000 limit (a Distributed Map keeps iterations out of it)"
            )
    if n > 2000:
        warnings.append(
            f"{n:,} chunks: the Map results travel in the state (~2,000 chunks fit in 256 KB)"
        )
    rows_per_reducer = size * m.rows_per_byte * g / r
    if rows_per_reducer > 2 * ROWS_PER_BUCKET:
        warnings.append(
            f"{r} buckets (the most there may be): each reducer merges ~{rows_per_reducer:,.0f} "
            f"groups' partial rows, where the bucket rule aims at {ROWS_PER_BUCKET:,}"
        )
    for name, seconds in (("scan", scan), ("convert", convert), ("partial", partial)):
        if seconds > 300:
            warnings.append(f"one {name} task takes {seconds:.0f} s: over its 300 s timeout")

    # chunk stats, block digests, parts (+ again), one buckets file a part, outputs
    puts = 3 * n + n * v + n + r
    # scan, decide (2), partial (+ convert); per reducer and part, offsets + slice (at most)
    gets = 4 * n + n * v + 2 * n * r
    return Projection(
        file_bytes=size,
        concurrency=concurrency,
        chunks=n,
        buckets=r,
        stages=stages,
        task_s={"scan": scan, "convert": convert, "partial": partial, "reduce": reduce},
        lambda_cost=lambda_cost,
        transitions=transitions,
        transition_cost=transitions * a.transition,
        s3_requests={"PUT": puts, "GET": gets},
        s3_cost=puts * a.s3_put + gets * a.s3_get,
        warnings=warnings,
    )


# --- rendering -------------------------------------------------------------------------


def _rate(value: float) -> str:
    return "-" if math.isinf(value) else f"{value / MB:.1f}"


def render_phases(m: Measured) -> list[str]:
    order = ["ingest.Plan", "ingest.ScanChunk", "ingest.Reconcile"]
    order += ["ingest.RescanChunk", "ingest.Decide", "ingest.ConvertChunk", "ingest.Finish"]
    order += ["task.Plan", "task.Partial", "task.Reduce", "task.Finish"]
    rows = [["phase", "tasks", "mean task s", "span s", "running at once", "MB/s/task", "1 worker"]]
    for name in order:
        p = m.phases.get(name)
        if p is None:
            continue
        fan = name in FAN_OUT or name in PER_BUCKET
        rows.append(
            [
                name,
                str(p.tasks),
                f"{p.mean_s:.2f}",
                f"{p.span_s:.2f}",
                f"{p.running:.1f}",
                _rate(p.raw_rate) if fan else "-",
                _rate(p.one_worker_rate) if fan else "-",
            ]
        )
    return table(rows)


def render(
    m: Measured,
    a: Assumptions,
    sizes: Sequence[float],
    target_s: float,
    target_per_gb: float | None = None,
) -> str:
    """The per-phase rates, the formula, the assumptions and the projected wall and cost
    (against ``target_s`` seconds and, when given, ``target_per_gb`` dollars a GB)."""
    from sluice.tasks.partials import READ_THREADS

    out = [
        "AWS projection from our measured per-chunk throughput",
        "",
        f"Step Functions history of this run (cores here: {m.cores}; chunk "
        f"{m.chunk_bytes / MIB:g} MiB; MB = 1e6 bytes of the input CSV):",
        *render_phases(m),
        "  MB/s/task: CSV MB a task handled / its duration (scheduled -> succeeded), sharing",
        "  the cores with every task running at once (any phase). 1 worker: with a core of its",
        f"  own: MB / sum of its tasks' duration x min(1, {m.cores} cores / running at once).",
        f"  measured: v = chunks converted again / chunks = {m.converted_share:.2f}, "
        f"k = typed Parquet / CSV bytes = {m.typed_ratio:.3f}, g = groups Partial "
        f"writes per row read = {m.group_ratio:.3f}, o = output / CSV bytes = "
        f"{m.output_ratio:.3f}, {m.rows_per_byte * 1e6:,.0f} rows per MB;",
        f"  states entered: ingest {m.transitions.get('ingest', 0)}, task "
        f"{m.transitions.get('task', 0)} ({m.chunks} chunks, {m.buckets} buckets).",
        "",
        "Formula (S = CSV bytes, C = chunk bytes, N = concurrent Lambdas, r_x = 1-worker rate):",
        "  n = ceil(S / C) chunks = parts;  R = sluice's bucket_count(rows, S k) buckets",
        "  t_scan    = C / r_scan    + (C + C k) / s3   (reads its range, hashes its blocks,"
        " writes its part)",
        "  t_convert = C / r_convert + (C + C k) / s3   (only the share v is converted again)",
        "  t_partial = C / r_partial + (C k + C k g) / s3 + lat"
        "   (one PUT: all R buckets in one file)",
        f"  t_reduce  = (S/R) / r_reduce + (S/R)(k g + o) / s3 + 2 ceil(n / {READ_THREADS}) lat"
        "   (per part: a ranged GET of the bucket's offsets, then one of its slice)",
        "  wall = plan + ceil(n/N) t_scan + cold + reconcile + decide + 2 ceil(n/16) lat",
        "       + [v > 0] (ceil(n v/N) t_convert + cold) + finish",
        "       + plan' + ceil(n/N) t_partial + cold + ceil(R/N) t_reduce + cold + finish'",
        "  cost = GB-s x $/GB-s + invocations x $0.20/1M + transitions x $/transition"
        " + S3 requests",
        "         GB-s = n (t_scan + v t_convert + t_partial) M + R t_reduce M + serial steps",
        "         transitions = (measured fixed states) + n (1 + v) (ingest Map items)"
        " + n + R (task)",
        "         S3 PUTs = 3n + n v + n + R (stats, digests, parts, one buckets file a part,"
        " outputs); GETs = 4n + n v + 2 n R",
        "",
        "Assumptions:",
        f"  - N = {a.lambdas} concurrent Lambdas of M = {a.memory_mb} MB (~1.8 vCPU; the rates are "
        "one core's, so CPU time is not divided further); serial steps at their catalogue memory",
        f"  - S3: s3 = {a.s3_mb_s:g} MB/s per Lambda each way, lat = {a.request_s * 1000:g} ms per "
        "small request; the local rates already include moto's S3, so this is counted twice "
        "(conservative)",
        f"  - cold = {a.cold_start_s:g} s per fan-out stage for cold starts and the Map launch; "
        "Step Functions' own latency between states is in the serial steps as measured",
        "  - serial steps (plan, reconcile, decide, finish) take their measured local time "
        "(they touch one small object per chunk; only decide's GETs are scaled)",
        f"  - prices: Lambda ${a.lambda_gb_s}/GB-s, ${a.lambda_request * 1e6:.2f}/1M requests; "
        f"Step Functions ${a.transition}/transition; S3 ${a.s3_put * 1000:g}/1k PUT, "
        f"${a.s3_get * 1000:g}/1k GET; DynamoDB and data transfer left out",
        "  - the upload is not included (a file over 5 GiB goes up in presigned parts, "
        "from the client straight to S3)",
        f"  - the ASL uses inline Maps, which run at most {a.inline_map_limit} iterations at "
        "once: N only applies with a Distributed Map (shown for both)",
        "",
    ]
    rows = [
        [
            "CSV size",
            "chunks",
            "buckets",
            f"wall N={a.lambdas}",
            f"wall N={a.inline_map_limit} (inline Map)",
            "Lambda $",
            "transitions",
            "SFN $",
            "S3 req $",
            "$ / GB",
        ]
    ]
    details: list[Projection] = []
    for size in sizes:
        wide = project(m, size, a, a.lambdas)
        inline = project(m, size, a, min(a.lambdas, a.inline_map_limit))
        details.append(wide)
        gb = size / 1e9
        rows.append(
            [
                f"{gb:g} GB",
                f"{wide.chunks:,}",
                str(wide.buckets),
                f"{wide.wall_s:,.1f} s",
                f"{inline.wall_s:,.1f} s",
                f"{wide.lambda_cost:.4f}",
                f"{wide.transitions:,.0f}",
                f"{wide.transition_cost:.4f}",
                f"{wide.s3_cost:.4f}",
                f"{wide.cost / gb:.4f}",
            ]
        )
    out += table(rows)
    target = details[-1]
    out += ["", f"{target.file_bytes / 1e9:g} GB with N={a.lambdas}, stage by stage:"]
    out += [f"  {stage:<28}{seconds:9.1f} s" for stage, seconds in target.stages.items()]
    out.append(
        "  one task: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in target.task_s.items())
        + f"; {target.transitions:,.0f} transitions; S3 {target.s3_requests['PUT']:,.0f} PUT, "
        f"{target.s3_requests['GET']:,.0f} GET"
    )
    puts, gets = target.s3_requests["PUT"] * a.s3_put, target.s3_requests["GET"] * a.s3_get
    shares = {
        "Lambda": target.lambda_cost,
        "Step Functions": target.transition_cost,
        "S3 PUTs": puts,
        "S3 GETs": gets,
    }
    out.append(
        f"  cost ${target.cost:.2f} (${target.cost / (target.file_bytes / 1e9):.4f} per GB): "
        + ", ".join(f"{name} ${v:.3f} ({v / target.cost:.0%})" for name, v in shares.items())
    )
    verdict = "meets" if target.wall_s <= target_s else "misses"
    out.append(
        f"  => {target.wall_s:,.1f} s: {verdict} the {target_s:g} s target "
        f"for {target.file_bytes / 1e9:g} GB"
    )
    if target_per_gb is not None:
        per_gb = target.cost / (target.file_bytes / 1e9)
        verdict = "meets" if per_gb <= target_per_gb else "misses"
        out.append(f"  => ${per_gb:.4f} per GB: {verdict} the ${target_per_gb:g} per GB target")
    if not target.warnings:
        target.warnings.append("none of the checked limits is reached")
    out += ["", "Limits at that size:"] + [f"  - {w}" for w in target.warnings]
    return "\n".join(out)


def table(rows: list[list[str]]) -> list[str]:
    """Rows as aligned text lines, the first as a header with a rule under it."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
