"""The AWS projection as text: the measured rates, the formula, the assumptions, AWS's
limits it applies, and per size the wall, each component's cost and what would lower it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from bench.aggregate import aws
from bench.aggregate.forecast import (
    Assumptions,
    Projection,
    project,
    with_distributed_maps,
)
from bench.aggregate.projection import FAN_OUT, MB, MIB, PER_BUCKET, Measured, table

DETAILED = (100e9, 1e12)
"""The sizes shown stage by stage (issue 23: 100 GB and 1 TB), besides the target's."""


def _rate(value: float) -> str:
    return "-" if math.isinf(value) else f"{value / MB:.1f}"


def render_phases(m: Measured) -> list[str]:
    """Per phase: tasks, their mean and span, how many ran at once, the rates."""
    order = ["ingest.Plan", "ingest.ScanChunk", "ingest.Reconcile"]
    order += ["ingest.RescanChunk", "ingest.Decide", "ingest.ConvertChunk", "ingest.Finish"]
    order += ["task.Plan", "task.Partial", m.gather, "task.Reduce", "task.Finish"]
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


def _stages_text(m: Measured) -> list[str]:
    lines = []
    for kind, stages in m.stages.items():
        for stage in stages.values():
            how = (
                f"Distributed, {stage.execution_type} children"
                + (", ItemBatcher" if stage.batched else "")
                if stage.distributed
                else "inline (40 at once)"
            )
            lines.append(f"    {kind}.{stage.name} -> {stage.task}: {how}")
    return lines


def formula(m: Measured, a: Assumptions) -> list[str]:
    from sluice.tasks.partials import READ_THREADS

    shuffle = "1" if m.gathered else "2"
    per_part = "F R + 2 + F (gather; + R where the ranges are apart)" if m.gathered else "2 F R"
    return [
        "Formula (S = CSV bytes, C = chunk bytes, r_x = one worker's measured rate, s3, lat):",
        "  n = ceil(S / C) parts;  R = sluice's bucket_count(rows, S k) buckets (at most 256"
        " while a bucket holds at most 8M rows; past that ceil(rows / 8M))",
        "  q = max(1, 16 MiB // C) chunks a scan group (statistics, evidence, progress once);"
        " p = max(1, 128 MiB // C k) parts a partial file (F = files of p of a child's b)",
        "  one item: t_scan = C / r_scan + (C + C k) / s3 + (1 + 3 / q) lat;"
        " t_convert = C / r_convert + (C + C k) / s3 + lat",
        "            t_partial = C / r_partial + (C k + C k g) / s3 + (1 + F / n) lat"
        " (its GET, a share F / n of its file's PUT of all R buckets)",
        f"            t_reduce = (S/R) / r_reduce + (S/R)(k g + o) / s3 + {shuffle} ceil(F / "
        f"{READ_THREADS}) lat + f lat  (F = partial files, f = output files a bucket;"
        " + lat for its ranges where n > 9,090: they are apart)",
        "  a Map stage of I items, b a child (ItemBatcher: sluice's batch_size(I, c, most),"
        " most = 8 of 64 MiB, up to 64 smaller; partials: 512 MiB of parts, at most 64;"
        " reduces: 1):",
        "    K = ceil(I / b) children, c = min(MaxConcurrency, 10,000, account concurrency);"
        " inline Map: c = 40",
        "    child = b t_item + overhead;  start = max(K / dispatch,"
        " max(0, min(K, c) - 1,000) / 100 per s)",
        "    stage = max(start + child, ceil(K / c) child) + cold",
        "  wall = plan + scan stage + reconcile + decide (ceil(G / 64) lat, G = scan groups)"
        " + convert stage"
        " (n v items) + finish",
        "       + plan' + partial stage"
        + (
            " + gather (ceil(F / 64) lat + F (8 R + 24) / s3, + ceil(R / 64) lat where the"
            " ranges are apart)"
            if m.gathered
            else ""
        )
        + " + reduce stage (R items) + finish'",
        "  cost = Lambda (GB-s x $/GB-s + invocations x $0.20/1M) + S3 GETs + S3 PUTs"
        " + Step Functions",
        "    GB-s = sum over phases of items x t_item x memory; invocations = children + steps",
        "    Step Functions = transitions x $0.025/1k (the parents' states as measured; a"
        " Distributed Map's children: 1 each + a STANDARD child's states; an inline Map's"
        " iterations: their states) + EXPRESS children's $1/1M and 64 MB x duration",
        "    S3 PUTs = 2 + (n + 2G) + 4 + n v + 1 + F + f R (+ 1 gather, + R where the ranges"
        " are apart) + 2 a Distributed Map",
        f"    S3 GETs = 1 + (n + G + 2 K_scan) + (2 + G) + n v + 2 + 1 + n + {per_part}"
        " (+ 2 finish) + 1 a Distributed Map",
    ]


def assumptions(m: Measured, a: Assumptions) -> list[str]:
    from sluice.catalog import MAP_CONCURRENCY

    arch = a.architecture or m.architecture
    catalogue = ", ".join(
        f"{phase.split('.')[1]} {m.memory_mb[phase]}"
        for phase in ("ingest.ScanChunk", "ingest.ConvertChunk", "task.Partial", "task.Reduce")
        if phase in m.memory_mb
    )
    memory = f"{a.memory_mb} MB" if a.memory_mb else f"the catalogue's ({catalogue} MB)"
    return [
        "Assumptions (each AWS figure's page is cited in bench/aggregate/aws.py):",
        f"  - AWS: account Lambda concurrency {a.lambdas:,} (default); a function adds 1,000 "
        "environments at once, then 100 a second; a Distributed Map runs at most 10,000 "
        "children at once and starts STANDARD children at up to 100 a second, EXPRESS at "
        "1,000; an inline Map runs 40 iterations at once; an EXPRESS execution at most 5 min",
        f"  - sluice: MaxConcurrency {a.max_concurrency or MAP_CONCURRENCY:,} (catalogue), the "
        f"Map stages as the ASL defines them, fan-out memory {memory}, {arch} Lambdas "
        f"(${aws.LAMBDA_GB_S[arch]}/GB-s)",
        *_stages_text(m),
        "  - rates: one core's, measured here (x86_64; Graviton's speed per core is taken as "
        "equal): a 1769 MB Lambda's one vCPU, not divided further by a 3008 MB one's ~1.7; "
        "scaled to the workers' CPU seconds, so a task's S3 waits are the model's, not moto's",
        f"  - S3: {a.s3_mb_s:g} MB/s per Lambda each way, {a.request_s * 1000:g} ms a small "
        "request (where the run measured no CPU seconds, its rates include moto's S3 too)",
        f"  - a child execution's own overhead {a.child_overhead_s:g} s (AWS does not "
        f"document one); {a.cold_start_s:g} s per fan-out stage for the Map Run's start and "
        "cold starts",
        "  - serial steps take their measured local time (only decide's GETs are scaled); "
        f"output files of at most {a.output_file_bytes / MIB:g} MiB; no chunk scanned again",
        "  - prices (us-east-1): Lambda $0.20/1M requests; Step Functions $0.025/1k "
        "transitions, EXPRESS $1/1M + $0.00001667/GB-s; S3 $0.005/1k PUT, $0.0004/1k GET; "
        "DynamoDB, CloudWatch, data transfer and the upload left out",
    ]


def _costs(p: Projection) -> str:
    gb = p.file_bytes / 1e9
    return ", ".join(f"{name} ${v:,.3f} ({v / p.cost:.0%})" for name, v in p.costs.items()) + (
        f"; total ${p.cost:,.2f} = ${p.cost / gb:.4f} per GB"
    )


def detail(p: Projection) -> list[str]:
    """One size stage by stage: the Map runs, the requests, the cost per component."""
    out = [f"{p.file_bytes / 1e9:g} GB, stage by stage ({p.chunks:,} parts, {p.buckets} buckets):"]
    out += [f"  {stage:<28}{seconds:9.1f} s" for stage, seconds in p.stages.items()]
    out.append(f"  {'wall':<28}{p.wall_s:9.1f} s")
    for phase, run in p.runs.items():
        if run.items:
            out.append(
                f"  {phase}: {run.items:,} items, {run.children:,} children of {run.batch}, "
                f"{run.concurrency:,} at once, all started after {run.start_s:.1f} s, "
                f"a child {run.child_s:.1f} s"
            )
    out.append(
        "  S3 requests: "
        + "; ".join(
            f"{step} {r['PUT']:,.0f} PUT / {r['GET']:,.0f} GET" for step, r in p.requests.items()
        )
    )
    out.append(
        f"  {p.invocations:,} invocations, {p.transitions:,.0f} transitions, "
        f"{p.request_total('PUT'):,.0f} PUTs, {p.request_total('GET'):,.0f} GETs"
    )
    out.append(f"  cost: {_costs(p)}")
    return out


def levers(m: Measured, size: float, a: Assumptions, base: Projection) -> list[str]:
    """What the design would need to cost less or finish sooner, each with its projection."""
    gb = size / 1e9
    options: list[tuple[str, Measured, Assumptions]] = []
    note = ""
    if any(not s.distributed for stages in m.stages.values() for s in stages.values()):
        options.append(
            ("the inline Maps as batched Distributed Maps (ASL)", with_distributed_maps(m), a)
        )
        m = with_distributed_maps(m)
        note = "; the rows after the first keep the first's Distributed Maps"
    options.append(
        (
            "chunks of 128 MiB at 3008 MB (a scan of two peaks at 1.4 GiB: over 1769 MB's margin)",
            dataclasses.replace(m, chunk_bytes=2 * m.chunk_bytes),
            dataclasses.replace(a, memory_mb=3008),
        )
    )
    options.append(
        (
            "buckets up to 1,024, not 256 (MAX_BUCKETS): shorter reducers, more GETs"
            " (past 8.2 billion rows the same as now)",
            m,
            dataclasses.replace(a, max_buckets=1024),
        )
    )
    if m.architecture != "arm64":
        arm = dataclasses.replace(a, architecture="arm64")
        options.append(("arm64 Lambdas (CDK and layer build)", m, arm))
    rows = [["if", "wall s", "$ / GB", "Lambda $", "S3 GET $", "S3 PUT $", "SFN $"]]
    for name, changed, assumed in options:
        p = project(changed, size, assumed)
        c = p.costs
        rows.append(
            [
                name,
                f"{p.wall_s:,.1f}",
                f"{p.cost / gb:.4f}",
                f"{c['Lambda']:.2f}",
                f"{c['S3 GET']:.2f}",
                f"{c['S3 PUT']:.2f}",
                f"{c['Step Functions']:.2f}",
            ]
        )
    return [
        f"What would lower it at {gb:g} GB, each alone (now {base.wall_s:,.1f} s, "
        f"${base.cost / gb:.4f} per GB{note}):",
        *table(rows),
    ]


def render(
    m: Measured,
    a: Assumptions,
    sizes: Sequence[float],
    target_s: float,
    target_per_gb: float | None = None,
) -> str:
    """The per-phase rates, the formula, the assumptions and the projected wall and cost
    per size; the target size (the last of ``sizes``) and 1 TB stage by stage, against
    ``target_s`` seconds and, when given, ``target_per_gb`` dollars a GB."""
    out = [
        "AWS projection from our measured per-chunk throughput",
        "",
        f"Step Functions history of this run, the Distributed Maps' children from their "
        f"ResultWriter results (cores here: {m.cores}; chunk {m.chunk_bytes / MIB:g} MiB; "
        "MB = 1e6 bytes of the input CSV):",
        *render_phases(m),
        "  MB/s/task: CSV MB a task handled / its duration, sharing the cores with every task",
        f"  running at once. 1 worker: with a core of its own (x min(1, {m.cores} cores / "
        "running at once)), then scaled to the CPU the workers used (other processes on the",
        "  machine slow the durations, not the CPU seconds): "
        + "; ".join(
            f"{kind} {m.cpu_s.get(kind, 0):.1f} CPU s, x {m.cpu_scale.get(kind, 1.0):.2f}"
            for kind in ("ingest", "task")
        )
        + " (each fan-out phase's share apportioned by its measured time).",
        f"  measured: v = chunks converted again / chunks = {m.converted_share:.2f}, "
        f"k = typed Parquet / CSV bytes = {m.typed_ratio:.3f}, g = groups Partial "
        f"writes per row read = {m.group_ratio:.3f}, o = output / CSV bytes = "
        f"{m.output_ratio:.3f}, {m.rows_per_byte * 1e6:,.0f} rows per MB;",
        f"  the parents' states entered: ingest {m.transitions.get('ingest', 0)}, task "
        f"{m.transitions.get('task', 0)} ({m.chunks} chunks, {m.buckets} buckets); the "
        f"shuffle's indexes {'gathered by ' + m.gather if m.gathered else 'read by each reducer'}.",
        "",
        *formula(m, a),
        "",
        *assumptions(m, a),
        "",
    ]
    rows = [["CSV size", "parts", "buckets", "wall", "Lambda $", "S3 GET $", "S3 PUT $"]]
    rows[0] += ["SFN $", "$ / GB"]
    projected: dict[float, Projection] = {}
    for size in dict.fromkeys([*sizes, *DETAILED]):
        p = projected[size] = project(m, size, a)
        c = p.costs
        rows.append(
            [
                f"{size / 1e9:g} GB",
                f"{p.chunks:,}",
                str(p.buckets),
                f"{p.wall_s:,.1f} s",
                f"{c['Lambda']:.4f}",
                f"{c['S3 GET']:.4f}",
                f"{c['S3 PUT']:.4f}",
                f"{c['Step Functions']:.4f}",
                f"{p.cost / (size / 1e9):.4f}",
            ]
        )
    out += table(rows)
    target = projected[sizes[-1]]
    for size in dict.fromkeys([sizes[-1], *DETAILED]):
        out += ["", *detail(projected[size])]
    gb = target.file_bytes / 1e9
    verdict = "meets" if target.wall_s <= target_s else "misses"
    out += ["", f"  => {target.wall_s:,.1f} s: {verdict} the {target_s:g} s target for {gb:g} GB"]
    if target_per_gb is not None:
        per_gb = target.cost / gb
        verdict = "meets" if per_gb <= target_per_gb else "misses"
        out.append(f"  => ${per_gb:.4f} per GB: {verdict} the ${target_per_gb:g} per GB target")
    for size in dict.fromkeys([sizes[-1], *DETAILED]):
        out += ["", *levers(m, size, a, projected[size])]
    for size in dict.fromkeys([sizes[-1], *DETAILED]):
        warnings = projected[size].warnings or ["none of the checked limits is reached"]
        out += ["", f"Limits at {size / 1e9:g} GB:"] + [f"  - {w}" for w in warnings]
    return "\n".join(out)
