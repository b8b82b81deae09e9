"""From the embedded Step Functions' history to an AWS projection.

1. ``bench.aggregate.history``: every Lambda task of an execution (scheduled ->
   succeeded), with the few facts of its input and output that say how many bytes it
   handled, a Distributed Map's children read back from its ResultWriter's results.
2. ``phase_stats``: per phase (ScanChunk, ConvertChunk, Partial, Reduce, ...), how many
   CSV bytes one worker gets through per second on this machine.
3. ``bench.aggregate.forecast.project``: wall time and cost on AWS for a file of any
   size, from those rates, the Map stages as the ASL defines them, AWS's documented limits
   and prices (``bench.aggregate.aws``) and the stated assumptions;
   ``bench.aggregate.projection_report.render`` prints it all, with the formula.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.aggregate import history
from bench.aggregate.aws import MapStage, map_stages, step_between

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


# --- options ---------------------------------------------------------------------------


def add_projection_arguments(parser: argparse.ArgumentParser) -> None:
    """The AWS projection's options, the same in every benchmark that prints one."""
    group = parser.add_argument_group("AWS projection")
    group.add_argument(
        "--lambdas", type=int, default=1000, help="the account's Lambda concurrency (1000)"
    )
    group.add_argument(
        "--max-concurrency", type=int, help="a Distributed Map's MaxConcurrency (the catalogue's)"
    )
    group.add_argument(
        "--memory-mb", type=int, help="the fan-out Lambdas' memory (the catalogue's)"
    )
    group.add_argument("--s3-mb-s", type=float, default=90.0, help="S3 MB/s per Lambda (90)")
    group.add_argument("--cold-start-s", type=float, default=2.0, help="per fan-out stage (2)")
    group.add_argument(
        "--child-overhead-s", type=float, default=0.1, help="per Map child execution (0.1)"
    )
    group.add_argument("--project-gb", type=float, default=100.0, help="file to project (100)")


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
    # "ingest"/"task" -> the Task state its children run -> its Map stage, from the ASL
    stages: dict[str, dict[str, MapStage]] = field(default_factory=dict)
    gather: str = ""  # the task's step between its two Maps ("task.<State>"), if any
    architecture: str = "x86_64"  # the Lambdas', as the CDK deploys them
    cpu_s: dict[str, float] = field(default_factory=dict)  # kind -> the workers' CPU seconds
    cpu_scale: dict[str, float] = field(default_factory=dict)  # kind -> factor on alone_s

    @property
    def gathered(self) -> bool:
        """Whether a step gathers the parts' indexes for the reducers."""
        return bool(self.gather)

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


def deployed_architecture() -> str:
    """The Lambdas' architecture as the CDK deploys them (infra/constructs/layers.py)."""
    from sluice.catalog import PROJECT_ROOT

    text = (Path(PROJECT_ROOT) / "infra" / "constructs" / "layers.py").read_text()
    match = re.search(r"^ARCHITECTURE = lambda_\.Architecture\.(\w+)", text, re.MULTILINE)
    return "arm64" if match and match.group(1) == "ARM_64" else "x86_64"


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


def cpu_scaled(phases: dict[str, Phase], kind: str, cpu_s: float) -> float:
    """Scale the ``kind`` execution's fan-out phases to the workers' CPU seconds.

    A task's duration here counts the time it waited for a core that other processes on
    the machine held, not only its own work; the CPU seconds of the processes that ran
    the steps do not. So each fan-out phase's one-worker time (``alone_s``) is multiplied
    by ``cpu_s`` over the execution's phases' summed one-worker times (serial steps'
    durations included): its share of the CPU, apportioned by its measured time. Never
    above 1 (a phase is not made slower than measured). The factor applied."""
    mine = [p for name, p in phases.items() if name.startswith(f"{kind}.")]
    busy = sum(p.alone_s for p in mine)
    if cpu_s <= 0 or busy <= 0:
        return 1.0
    factor = min(1.0, cpu_s / busy)
    for phase in mine:
        if phase.name in FAN_OUT or phase.name in PER_BUCKET:
            phase.alone_s *= factor
    return factor


def measured_from(ours: dict[str, Any], file_bytes: int, chunk_bytes: int, cores: int) -> Measured:
    """The projection's inputs from the ours worker's result (its rates scaled to the
    workers' CPU seconds where the run measured them: ``cpu_scaled``)."""
    spans = ours["spans"]
    phases = phase_stats(spans, file_bytes, cores)
    cpu = {
        kind: float(ours.get(f"{kind}_cpu_seconds") or 0)
        - float(ours.get(f"{kind}_cpu_aws_seconds") or 0)
        for kind in ("ingest", "task")
    }
    scaled = {kind: cpu_scaled(phases, kind, seconds) for kind, seconds in cpu.items()}
    partials = [s for s in spans if s["phase"] == "task.Partial"]
    rows = sum(s.get("rows", 0) for s in partials) or 1
    memory, timeout = function_settings()
    machines = history.definitions()
    gather = step_between(machines["task"], "Partials", "Reduces")
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
        stages={kind: map_stages(found) for kind, found in machines.items()},
        gather=f"task.{gather}" if gather else "",
        architecture=deployed_architecture(),
        cpu_s=cpu,
        cpu_scale=scaled,
    )


# --- rendering helpers -----------------------------------------------------------------


def table(rows: list[list[str]]) -> list[str]:
    """Rows as aligned text lines, the first as a header with a rule under it."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
