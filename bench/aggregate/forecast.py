"""The AWS projection's model: wall time and cost of ingest + task for a CSV of any size,
from one local run's measured rates (``projection.Measured``), the state machines' Map
stages as their ASL defines them, AWS's documented limits and prices (``aws``) and the
stated assumptions (``Assumptions``).

Each fan-out stage runs as its Map state does (``aws.run_stage``): a Distributed Map's
children start at its execution type's dispatch rate, at most MaxConcurrency (the
catalogue's) and the account's Lambda concurrency at once, ``batch`` items a child when it
has an ItemBatcher (sluice's own ``batch_size`` rule); an inline Map runs 40 at once. The
S3 requests are counted per step from what the steps do (``requests``), the shuffle's from
the step list: with a step between the two Maps that gathers the parts' indexes, a reducer
makes one ranged GET per part; without, two.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from bench.aggregate import aws
from bench.aggregate.aws import StageRun
from bench.aggregate.projection import EVENTS_PER_MAP_ITEM, MB, MIB, SERIAL, Measured

REDUCER_GIB = 0.32
REDUCER_GIB_A_MILLION_GROUPS = 0.228
"""A reducer's peak resident memory, GiB = 0.32 + 0.228 x millions of groups in its bucket:
measured locally on the BMAT file's groups (a text key of ~30 bytes, a date, a sum), one
reducer in a fresh process with the Lambdas' heap settings reading its slices, merging
them and rendering its CSV files: 1.46 GiB at 5.0M groups, 2.60 GiB at 10.0M."""


@dataclass
class Assumptions:
    """What the projection assumes beyond what it measured and what AWS documents.

    Where each default comes from: ``lambdas`` is AWS's documented default (``aws``);
    ``s3_mb_s`` is AWS's S3 performance guideline ("make one concurrent request for each
    85-90 MB/s of desired network throughput",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html),
    the steps moving a body one request at a time; ``request_s``, ``cold_start_s`` and
    ``child_overhead_s`` are neither documented nor measured here: assumptions, printed
    as such (at 0.1 s a request the 100 GB projection grows by ~4.5 s)."""

    lambdas: int = aws.LAMBDA_ACCOUNT_CONCURRENCY  # the account's Lambda concurrency
    max_concurrency: int | None = None  # a Distributed Map's MaxConcurrency (None: catalogue's)
    memory_mb: int | None = None  # the fan-out functions' memory (None: the catalogue's)
    s3_mb_s: float = 90.0  # S3 throughput one Lambda gets, each way (a connection's)
    request_s: float = 0.03  # one small S3 GET/PUT's latency (assumed)
    cold_start_s: float = 2.0  # per fan-out stage: the Map Run's start and cold starts (assumed)
    child_overhead_s: float = 0.1  # a child execution's own start and end (assumed)
    output_file_bytes: int = 64 * MIB  # the largest output file the task asks for
    architecture: str | None = None  # the Lambdas' (None: what the CDK deploys)
    max_buckets: int | None = None  # the bucket rule's cap (None: sluice's MAX_BUCKETS)
    # (the rule's floor, a bucket of at most MOST_BUCKET_ROWS rows, holds either way)


@dataclass
class Projection:
    file_bytes: float
    chunks: int
    buckets: int
    stages: dict[str, float]  # stage -> wall seconds
    task_s: dict[str, float]  # fan-out phase -> seconds of one item's work
    runs: dict[str, StageRun]  # fan-out phase -> how its Map ran
    gb_s: dict[str, float]  # phase -> Lambda GB-seconds
    invocations: int
    lambda_cost: float
    transitions: float
    step_functions_cost: float  # transitions, and EXPRESS children's requests and duration
    requests: dict[str, dict[str, float]]  # step -> {"PUT": n, "GET": n}
    s3_put: float
    s3_get: float
    gathered: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return sum(self.stages.values())

    @property
    def costs(self) -> dict[str, float]:
        """Dollars per component."""
        puts = sum(r["PUT"] for r in self.requests.values()) * self.s3_put
        gets = sum(r["GET"] for r in self.requests.values()) * self.s3_get
        return {
            "Lambda": self.lambda_cost,
            "S3 GET": gets,
            "S3 PUT": puts,
            "Step Functions": self.step_functions_cost,
        }

    @property
    def cost(self) -> float:
        return sum(self.costs.values())

    def request_total(self, method: str) -> float:
        return sum(r[method] for r in self.requests.values())


FAN_OUT_PHASES = {
    "ingest.ScanChunk": ("ingest", "ScanChunk"),
    "ingest.ConvertChunk": ("ingest", "ConvertChunk"),
    "task.Partial": ("task", "Partial"),
    "task.Reduce": ("task", "Reduce"),
}


MAP_STEP = {
    "ScanChunk": "ingest: scan",
    "RescanChunk": "ingest: scan",
    "ConvertChunk": "ingest: convert",
    "Partial": "task: partial",
    "Reduce": "task: reduce",
}
"""The step whose requests a Map's ItemReader and ResultWriter count with."""


def _inline_local_items(m: Measured) -> dict[str, float]:
    """Iterations of each execution's inline Maps in the local run: their states are in
    the parent's history (and its transitions), a Distributed Map's children's are not."""
    local = {"ingest": 0.0, "task": 0.0}
    for phase, (kind, task) in FAN_OUT_PHASES.items():
        stage = m.stages.get(kind, {}).get(task)
        found = m.phases.get(phase)
        if stage and found and not stage.distributed:
            local[kind] += found.tasks * stage.child_states
    return local


def per_group(limit: int, item_bytes: float) -> int:
    """Items a child's group holds: as many as make ``limit`` bytes, one at least."""
    return max(1, int(limit // max(item_bytes, 1.0)))


def groups(run: StageRun, items_a_group: int) -> int:
    """The groups a Map's children cut their batches into (``items_a_group`` each, never
    across children): where a scan child stores statistics and evidence, and a partial
    child writes a buckets file."""
    return cut(run.items, run.batch, items_a_group)


def cut(items: int, batch: int, items_a_group: int) -> int:
    """Groups of ``items_a_group`` that children of ``batch`` items cut ``items`` into."""
    full, last = divmod(items, batch) if batch else (0, 0)
    return full * math.ceil(batch / items_a_group) + math.ceil(last / items_a_group)


def ranges_apart(parts: int) -> bool:
    """Whether Gather writes each bucket's ranges to an object of its own: a bucket's
    start and size in each of ``parts`` parts (a part after the first of its buckets file
    has 0, 0; Gather bounds them all by the largest offset's digits, ~10 at 100 GB and
    beyond) would not fit a child's input
    (``sluice.tasks.steps_reduce.CHILD_ITEMS_BYTES``)."""
    from sluice.tasks.steps_reduce import CHILD_ITEMS_BYTES

    return parts * 2 * 11 > CHILD_ITEMS_BYTES


def requests(
    m: Measured,
    n: int,
    r: int,
    converted: int,
    runs: dict[str, StageRun],
    outputs: int,
    apart: bool = False,
) -> dict[str, dict[str, float]]:
    """S3 requests per step, as the steps make them (n parts, r buckets):

    - plan: a GET of the file's head; PUTs of the header's names and the chunk list;
    - scan, a chunk: a ranged GET of its bytes and a PUT of its typed part; a group of a
      child's chunks (sluice.ingest.scan_groups: one chunk at 64 MiB): a PUT of their type
      statistics, a GET and a PUT of the run's evidence; a child: the header's names and
      the evidence (its blocks' digests travel in its results);
    - reconcile: the scans' results (manifest, results file), a PUT of the rescans' list;
    - decide: the statistics of every group (g GETs), 3 PUTs (merged statistics, layout,
      the spans' list);
    - convert, a chunk converted again: a ranged GET and a PUT of its part;
    - finish: the conversions' results (2 GETs), a PUT of the manifest;
    - task plan: the dataset's manifest; partial: a GET of each part, one PUT of all the
      buckets of a group of parts (one part at 64 MiB chunks: f files); gather (when the
      step list has one): the partials' results (2 GETs), a GET of each file's index, a
      PUT of the reducers' list; reduce: per file, one ranged GET of its slice (gathered)
      or two (its offsets, then its slice); a PUT per output file; finish: the reducers'
      results (2 GETs) when their Map writes them; where a bucket's ranges would not
      fit a child's input (``apart``), gather PUTs them apart and each reducer GETs them;
    - every Distributed Map: its ItemReader's GET, its ResultWriter's 2 PUTs.
    """
    from sluice.ingest.scan_groups import GROUP_BYTES
    from sluice.tasks.parts_file import FILE_PART_BYTES

    scans = runs["ingest.ScanChunk"]
    g = groups(scans, per_group(GROUP_BYTES, m.chunk_bytes))
    f = groups(runs["task.Partial"], per_group(FILE_PART_BYTES, m.chunk_bytes * m.typed_ratio))
    shuffle_gets = f * r if m.gathered else 2 * f * r
    steps: dict[str, dict[str, float]] = {
        "ingest: plan": {"PUT": 2, "GET": 1},
        "ingest: scan": {"PUT": n + 2 * g, "GET": n + g + 2 * scans.children},
        "ingest: reconcile + decide": {"PUT": 1 + 3, "GET": 2 + g},
        "ingest: convert": {"PUT": converted, "GET": converted},
        "ingest: finish": {"PUT": 1, "GET": 2},
        "task: plan": {"PUT": 0, "GET": 1},
        "task: partial": {"PUT": f, "GET": n},
        "task: reduce": {"PUT": outputs, "GET": shuffle_gets},
    }
    if m.gathered:  # the partials' results (manifest, file), then every file's index
        steps["task: gather"] = {"PUT": 1 + (r if apart else 0), "GET": 2 + f}
        steps["task: reduce"]["GET"] += r if apart else 0
    reduces = m.stages.get("task", {}).get("Reduce")
    if reduces and reduces.writes_results:  # finish reads the reducers' results
        steps["task: finish"] = {"PUT": 0, "GET": 2}
    for stages in m.stages.values():
        for stage in stages.values():
            where = steps[MAP_STEP[stage.task]]
            where["GET"] += int(stage.reads_items)
            where["PUT"] += 2 * int(stage.writes_results)
    return steps


def project(m: Measured, size: float, a: Assumptions) -> Projection:
    """Wall time and cost of ingest + task for a CSV of ``size`` bytes on AWS."""
    from sluice.catalog import MAP_CONCURRENCY
    from sluice.ingest.scan_groups import GROUP_BYTES, STATS_GETS
    from sluice.store.map_results import SHUFFLE_BATCH, batch_size, most_per_batch
    from sluice.tasks.aggregate_output import (
        BYTES_PER_BUCKET,
        MOST_BUCKET_ROWS,
        ROWS_PER_BUCKET,
        bucket_count,
    )
    from sluice.tasks.partials import READ_THREADS, index_size
    from sluice.tasks.parts_file import FILE_PART_BYTES
    from sluice.tasks.pieces import most_pieces

    s3, lat = a.s3_mb_s * MB, a.request_s
    c = float(m.chunk_bytes)
    n = max(1, math.ceil(size / c))
    rows, typed = int(size * m.rows_per_byte), int(size * m.typed_ratio)
    r = bucket_count(rows, typed)  # sluice's rule
    if a.max_buckets:  # the same rule with another cap (a lever, not what the code does)
        wanted = max(math.ceil(typed / BYTES_PER_BUCKET), math.ceil(rows / ROWS_PER_BUCKET))
        needed = math.ceil(rows / MOST_BUCKET_ROWS)
        r = max(1, min(max(wanted, needed), max(a.max_buckets, needed), max(rows, 1)))
    k, g, o, v = m.typed_ratio, m.group_ratio, m.output_ratio, m.converted_share
    converted = math.ceil(n * v)
    max_concurrency = a.max_concurrency or MAP_CONCURRENCY

    def rate(phase: str) -> float:
        found = m.phases.get(phase)
        return found.one_worker_rate if found and found.one_worker_rate > 0 else math.inf

    # One item's seconds: CPU at the measured rate + its S3 bytes at s3 + request latency.
    bucket_csv = size / r
    files = max(1, math.ceil(bucket_csv * o / a.output_file_bytes))  # output files a bucket
    # Chunks a scan child's group holds (it stores their statistics and evidence once),
    # and parts a partial child aggregates together (one buckets file): one each at 64 MiB.
    scan_group, part_group = per_group(GROUP_BYTES, c), per_group(FILE_PART_BYTES, c * k)
    # Items a child takes at most (sluice's rule: more of smaller chunks and parts).
    most = {
        "ingest.ScanChunk": most_per_batch(int(c)),
        "ingest.ConvertChunk": most_per_batch(int(c)),
        "task.Partial": most_pieces(int(c * k)),
        "task.Reduce": SHUFFLE_BATCH,
    }

    def batch_of(phase: str, items: int) -> int:
        kind, task = FAN_OUT_PHASES[phase]
        stage = m.stages[kind][task]
        concurrency = stage.concurrency(max_concurrency, a.lambdas)
        return batch_size(items, concurrency, most[phase]) if stage.batched else 1

    # A partial child's buckets files: a run of its parts up to FILE_PART_BYTES each.
    partial_files = cut(n, batch_of("task.Partial", n), part_group)
    apart = ranges_apart(n) if m.gathered else False
    item_s = {
        # its range, its part's PUT, and a share of its group's 3 small requests
        # (statistics, the evidence's GET and PUT)
        "ingest.ScanChunk": c / rate("ingest.ScanChunk")
        + (c + c * k) / s3
        + (1 + 3 / scan_group) * lat,
        "ingest.ConvertChunk": c / rate("ingest.ConvertChunk") + (c + c * k) / s3 + lat,
        # a GET of its part, a share of its file's one PUT of all R buckets
        "task.Partial": c / rate("task.Partial")
        + (c * k + c * k * g) / s3
        + (1 + partial_files / n) * lat,
        "task.Reduce": bucket_csv / rate("task.Reduce")
        + (bucket_csv * k * g + bucket_csv * o) / s3
        # per file its slice (gathered) or its offsets then its slice, READ_THREADS at once
        + (1 if m.gathered else 2) * math.ceil(partial_files / READ_THREADS) * lat
        + (lat if apart else 0.0)  # its ranges first, where they are apart
        + files * lat,
    }
    counts = {
        "ingest.ScanChunk": n,
        "ingest.ConvertChunk": converted,
        "task.Partial": n,
        "task.Reduce": r,
    }
    runs: dict[str, StageRun] = {}
    for phase, (kind, task) in FAN_OUT_PHASES.items():
        stage = m.stages[kind][task]
        runs[phase] = aws.run_stage(
            stage,
            counts[phase],
            item_s[phase],
            batch_of(phase, counts[phase]),
            max_concurrency,
            a.lambdas,
            a.child_overhead_s,
        )

    def fan(phase: str) -> float:
        return runs[phase].wall_s + (a.cold_start_s if runs[phase].items else 0.0)

    gather_s = 0.0
    if m.gathered:  # the gather step: every partial file's index, READ_THREADS at once
        gather_s = (
            m.serial_s(m.gather)
            + math.ceil(partial_files / READ_THREADS) * lat
            + partial_files * index_size(r) / s3
            # past ~10,000 files each bucket's ranges go to an object of its own
            + (math.ceil(r / READ_THREADS) * lat if apart else 0.0)
        )
    stages = {
        "ingest: plan": m.serial_s("ingest.Plan"),
        "ingest: scan (and hash)": fan("ingest.ScanChunk"),
        "ingest: reconcile + decide": m.serial_s("ingest.Reconcile")
        + m.serial_s("ingest.Decide")
        # decide GETs every group's statistics, STATS_GETS at a time (the blocks'
        # digests are in the scans' results)
        + math.ceil(groups(runs["ingest.ScanChunk"], scan_group) / STATS_GETS) * lat,
        "ingest: convert": fan("ingest.ConvertChunk"),
        "ingest: finish": m.serial_s("ingest.Finish"),
        "task: plan": m.serial_s("task.Plan"),
        "task: partial": fan("task.Partial"),
        **({"task: gather": gather_s} if m.gathered else {}),
        "task: reduce": fan("task.Reduce"),
        "task: finish": m.serial_s("task.Finish"),
    }

    # Lambda: each phase's GB-s at its memory, arm64 or x86 as deployed.
    def memory_gb(phase: str) -> float:
        if a.memory_mb and phase in FAN_OUT_PHASES:
            return a.memory_mb / 1024
        return m.memory_mb.get(phase, 1024) / 1024

    gb_s = {p: counts[p] * item_s[p] * memory_gb(p) for p in FAN_OUT_PHASES}
    serial = [p for p in (*SERIAL, m.gather) if p in m.phases]
    gb_s.update({p: m.serial_s(p) * memory_gb(p) for p in serial})
    invocations = sum(run.children for run in runs.values()) + len(serial)
    price = aws.LAMBDA_GB_S[a.architecture or m.architecture]
    lambda_cost = sum(gb_s.values()) * price + invocations * aws.LAMBDA_REQUEST

    # Step Functions: the parents' own states (as measured, less the local inline Maps'
    # iterations) + each stage's children; EXPRESS children's requests and duration.
    local = _inline_local_items(m)
    transitions = sum(m.transitions.get(kind, 0) - local[kind] for kind in local)
    express = 0.0
    warnings: list[str] = []
    events = {kind: m.events.get(kind, 0) - EVENTS_PER_MAP_ITEM * local[kind] for kind in local}
    for phase, (kind, task) in FAN_OUT_PHASES.items():
        stage, run = m.stages[kind][task], runs[phase]
        transitions += aws.stage_transitions(stage, run)
        express += aws.express_cost(stage, run)
        if not stage.distributed:
            events[kind] += EVENTS_PER_MAP_ITEM * run.children
        if stage.execution_type == "EXPRESS" and run.child_s > aws.EXPRESS_MAX_S:
            warnings.append(
                f"a {task} child takes {run.child_s:.0f} s: over an EXPRESS execution's 5 min"
            )
        lambda_s = run.batch * item_s[phase]
        if run.items and lambda_s > m.timeout_s.get(phase, math.inf):
            warnings.append(
                f"one {task} invocation ({run.batch} items) takes {lambda_s:.0f} s: over its "
                f"{m.timeout_s[phase]} s timeout"
            )
    for kind, count in events.items():
        if count > 25_000:
            warnings.append(
                f"the {kind} execution would log ~{count:,.0f} history events: over Step "
                "Functions' 25,000 (its inline Maps' iterations are in its history)"
            )
    for phase, run in runs.items():
        if run.items and math.isinf(rate(phase)):
            warnings.append(f"no measured rate for {phase}: its CPU is counted as none")
    rows_per_reducer = size * m.rows_per_byte * g / r
    if rows_per_reducer > MOST_BUCKET_ROWS:
        warnings.append(
            f"{r} buckets: each reducer merges ~{rows_per_reducer:,.0f} groups' partial rows, "
            f"over the bucket rule's bound of {MOST_BUCKET_ROWS:,} rows a bucket"
        )
    reducer_gib = REDUCER_GIB + REDUCER_GIB_A_MILLION_GROUPS * rows_per_reducer / 1e6
    reduce_mb = memory_gb("task.Reduce") * 1024
    if reducer_gib * 1024 > reduce_mb:
        warnings.append(
            f"a reducer of ~{rows_per_reducer / 1e6:,.1f}M groups needs ~{reducer_gib:,.1f} GiB "
            f"by the peaks measured here: over its Lambda's {reduce_mb:,.0f} MB"
        )
    return Projection(
        file_bytes=size,
        chunks=n,
        buckets=r,
        stages=stages,
        task_s={p.split(".")[1]: s for p, s in item_s.items()},
        runs=runs,
        gb_s=gb_s,
        invocations=invocations,
        lambda_cost=lambda_cost,
        transitions=transitions,
        step_functions_cost=transitions * aws.TRANSITION + express,
        requests=requests(m, n, r, converted, runs, files * r, apart),
        s3_put=aws.S3_PUT,
        s3_get=aws.S3_GET,
        gathered=m.gathered,
        warnings=warnings,
    )


def with_distributed_maps(m: Measured) -> Measured:
    """The same run with the inline Maps as batched Distributed Maps, like the ingest's."""
    stages = {
        kind: {
            task: stage
            if stage.distributed
            else dataclasses.replace(
                stage,
                distributed=True,
                execution_type="STANDARD",
                batched=True,
                reads_items=True,
                writes_results=True,
            )
            for task, stage in found.items()
        }
        for kind, found in m.stages.items()
    }
    return dataclasses.replace(m, stages=stages)
