"""bench/aggregate: the AWS projection follows the formula it prints, with AWS's documented
Distributed Map and Lambda limits, and counts the S3 requests the steps make."""

from __future__ import annotations

import dataclasses
import json
import math
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest

from bench.aggregate import aws, forecast
from bench.aggregate.aws import MapStage, map_stages, run_stage, step_between
from bench.aggregate.forecast import Assumptions, project, requests
from bench.aggregate.history import map_run_spans, per_part
from bench.aggregate.projection import (
    MB,
    Measured,
    Phase,
    cpu_scaled,
    function_settings,
    running_at_once,
)
from bench.aggregate.projection_report import render

CHUNK = 64 * 1024 * 1024
N_100GB = math.ceil(100e9 / CHUNK)  # 1,491 parts
R_100GB = 256  # sluice's bucket_count at 100 GB of this file: the most there may be


def phase(name: str, rate_mb_s: float, tasks: int = 1) -> Phase:
    """A phase whose one worker handles ``rate_mb_s`` MB of CSV a second."""
    return Phase(
        name=name,
        tasks=tasks,
        busy_s=1.0,
        alone_s=1.0,
        span_s=1.0,
        running=1.0,
        csv_bytes=rate_mb_s * MB,
    )


def distributed(task: str, kind: str = "STANDARD") -> MapStage:
    return MapStage(
        name=f"{task}s",
        task=task,
        distributed=True,
        execution_type=kind,
        batched=True,
        child_states=1,
        reads_items=True,
        writes_results=True,
    )


def inline(task: str) -> MapStage:
    return MapStage(
        name=f"{task}s",
        task=task,
        distributed=False,
        execution_type="",
        batched=False,
        child_states=1,
    )


MEASURED = Measured(
    file_bytes=10**9,
    chunk_bytes=CHUNK,
    cores=2,
    phases={
        "ingest.ScanChunk": phase("ingest.ScanChunk", 50.0, tasks=15),
        "task.Partial": phase("task.Partial", 80.0, tasks=15),
        "task.Reduce": phase("task.Reduce", 40.0, tasks=19),
    },
    typed_ratio=0.25,
    group_ratio=1.0,
    output_ratio=1.0,
    rows_per_byte=0.019,
    transitions={"ingest": 24, "task": 38},
    events={"ingest": 200, "task": 300},
    chunks=15,
    buckets=19,
    memory_mb={"ingest.ScanChunk": 3008, "task.Partial": 3008, "task.Reduce": 3008},
    stages={
        "ingest": {
            "ScanChunk": distributed("ScanChunk"),
            "ConvertChunk": distributed("ConvertChunk"),
        },
        "task": {"Partial": inline("Partial"), "Reduce": inline("Reduce")},
    },
    architecture="arm64",
)
A = Assumptions()
S3 = A.s3_mb_s * MB
# A scan: its range's GET, then its part's PUT and its group's statistics and evidence
# (GET, PUT): a group is one 64 MiB chunk.
T_SCAN = CHUNK / (50.0 * MB) + (CHUNK + CHUNK * 0.25) / S3 + 4 * A.request_s
# A partial: its part's GET and its buckets' PUT (a 16 MiB part is a group alone).
T_PARTIAL = CHUNK / (80.0 * MB) + (CHUNK * 0.25 + CHUNK * 0.25) / S3 + 2 * A.request_s


def test_tasks_that_overlap_count_each_other_as_running_at_once() -> None:
    spans = [{"scheduled": 0.0, "succeeded": 2.0}, {"scheduled": 1.0, "succeeded": 3.0}]
    assert running_at_once(spans) == [1.5, 1.5]


def test_standard_children_start_at_a_hundred_a_second_two_chunks_each() -> None:
    projected = project(MEASURED, 100e9, A)
    run = projected.runs["ingest.ScanChunk"]
    children = math.ceil(N_100GB / 2)  # sluice's batch_size(1,491, 1,000) = 2
    child = 2 * T_SCAN + A.child_overhead_s
    assert (run.batch, run.children, run.concurrency) == (2, children, 1000)
    assert run.start_s == pytest.approx(children / 100)
    assert projected.stages["ingest: scan (and hash)"] == pytest.approx(
        children / 100 + child + A.cold_start_s
    )


def test_express_children_start_at_a_thousand_a_second() -> None:
    stage = distributed("ScanChunk", "EXPRESS")
    run = run_stage(stage, 1491, 2.0, 2, 1000, 1000, 0.1)
    assert run.start_s == pytest.approx(746 / 1000)
    assert run.wall_s == pytest.approx(746 / 1000 + 2 * 2.0 + 0.1)


def test_an_inline_map_runs_forty_at_once_in_waves() -> None:
    projected = project(MEASURED, 100e9, A)
    run = projected.runs["task.Partial"]
    assert (run.children, run.concurrency, run.start_s) == (N_100GB, 40, 0.0)
    assert run.wall_s == pytest.approx(math.ceil(N_100GB / 40) * T_PARTIAL)


def test_lambda_adds_a_thousand_environments_at_once_then_a_hundred_a_second() -> None:
    run = run_stage(distributed("Partial", "EXPRESS"), 5000, 1.0, 1, 5000, 5000, 0.0)
    assert run.concurrency == 5000
    assert run.start_s == pytest.approx((5000 - 1000) / 100)
    assert run.wall_s == pytest.approx(40.0 + 1.0)


def test_max_concurrency_is_held_to_the_account_and_to_ten_thousand() -> None:
    stage = distributed("ScanChunk")
    assert stage.concurrency(1000, 1000) == 1000
    assert stage.concurrency(20_000, 50_000) == 10_000
    assert stage.concurrency(5000, 1000) == 1000
    assert inline("Partial").concurrency(1000, 1000) == 40


def test_without_a_gather_step_each_reducer_gets_two_ranges_a_part() -> None:
    projected = project(MEASURED, 100e9, A)
    n, r = projected.chunks, projected.buckets
    assert (n, r) == (N_100GB, R_100GB)
    files = math.ceil(100e9 / r / (64 * 1024 * 1024))  # output files a bucket
    assert projected.requests["task: reduce"] == {"PUT": files * r, "GET": 2 * n * r}
    assert "task: gather" not in projected.requests


def test_with_a_gather_step_the_shuffle_gets_parts_times_buckets_plus_parts() -> None:
    gathered = dataclasses.replace(MEASURED, gather="task.Gather")
    projected = project(gathered, 100e9, A)
    n, r = projected.chunks, projected.buckets
    shuffle = projected.requests["task: reduce"]["GET"] + projected.requests["task: gather"]["GET"]
    # the shuffle's GETs, and the gather's 2 of the partials' results (manifest and file)
    assert shuffle == n * r + n + 2
    assert projected.requests["task: gather"]["PUT"] == 1


def test_the_scan_step_counts_its_requests_per_chunk_and_its_map_runs() -> None:
    projected = project(MEASURED, 100e9, A)
    children = math.ceil(N_100GB / 2)
    # A group of 64 MiB chunks is one chunk: 3 PUTs a chunk (part, statistics, evidence)
    # + the ResultWriter's 2; 2 GETs a chunk (range, evidence) + the header and the
    # evidence once a child + the ItemReader's list
    assert projected.requests["ingest: scan"] == {
        "PUT": 3 * N_100GB + 2,
        "GET": 2 * N_100GB + 2 * children + 1,
    }
    # Decide reads each group's statistics: here a chunk's
    assert projected.requests["ingest: reconcile + decide"]["GET"] == 2 + N_100GB


def test_small_chunks_store_their_statistics_and_evidence_once_a_group() -> None:
    small = dataclasses.replace(MEASURED, chunk_bytes=1024 * 1024)
    projected = project(small, 1e9, A)
    n, run = projected.chunks, projected.runs["ingest.ScanChunk"]
    assert (run.batch, run.children) == (1, n)  # 954 chunks, 1,000 at once: one a child
    many = project(small, 100e9, A)
    run = many.runs["ingest.ScanChunk"]
    # 95,368 chunks of 1 MiB: 64 a child (most_per_batch), 16 a group (16 MiB)
    assert (run.batch, run.children) == (64, math.ceil(many.chunks / 64))
    full, last = divmod(many.chunks, 64)  # the last child's 8 chunks are one group
    groups = full * 4 + math.ceil(last / 16)
    assert many.requests["ingest: scan"] == {
        "PUT": many.chunks + 2 * groups + 2,
        "GET": many.chunks + groups + 2 * run.children + 1,
    }


def test_a_standard_child_costs_its_start_and_its_state_an_express_child_its_start() -> None:
    run = run_stage(distributed("ScanChunk"), 10, 1.0, 1, 1000, 1000, 0.0)
    assert aws.stage_transitions(distributed("ScanChunk"), run) == 10 * 2
    assert aws.stage_transitions(distributed("ScanChunk", "EXPRESS"), run) == 10
    assert aws.stage_transitions(inline("Partial"), run) == 10


def test_an_express_child_pays_a_request_and_64_mb_for_its_duration_in_100_ms_steps() -> None:
    stage = distributed("ScanChunk", "EXPRESS")
    run = run_stage(stage, 3, 1.23, 1, 1000, 1000, 0.0)
    assert aws.express_cost(stage, run) == pytest.approx(
        3 * (1e-6 + 1.3 * (64 / 1024) * 0.00001667)
    )


def test_lambda_is_priced_as_arm64_because_the_cdk_deploys_arm64() -> None:
    arm = project(MEASURED, 100e9, A)
    x86 = project(dataclasses.replace(MEASURED, architecture="x86_64"), 100e9, A)
    requests = arm.invocations * aws.LAMBDA_REQUEST
    assert (arm.lambda_cost - requests) / (x86.lambda_cost - requests) == pytest.approx(
        0.0000133334 / 0.0000166667
    )


def test_the_cost_is_its_four_components() -> None:
    projected = project(MEASURED, 100e9, A)
    costs = projected.costs
    assert set(costs) == {"Lambda", "S3 GET", "S3 PUT", "Step Functions"}
    assert costs["S3 GET"] == pytest.approx(projected.request_total("GET") * 0.0004 / 1000)
    assert costs["S3 PUT"] == pytest.approx(projected.request_total("PUT") * 0.005 / 1000)
    assert projected.cost == pytest.approx(sum(costs.values()))


def test_map_stages_read_mode_children_and_batching_from_the_asl() -> None:
    definition = {
        "States": {
            "Scans": {
                "Type": "Map",
                "ItemReader": {},
                "ItemBatcher": {},
                "ResultWriter": {},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Scan",
                    "States": {"Scan": {"Type": "Task"}},
                },
                "Next": "Gather",
            },
            "Gather": {"Type": "Task", "Next": "Reduces"},
            "Reduces": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Reduce", "States": {"Reduce": {"Type": "Task"}}},
                "End": True,
            },
        }
    }
    stages = map_stages(definition)
    assert stages["Scan"] == MapStage("Scans", "Scan", True, "EXPRESS", True, 1, True, True)
    assert stages["Reduce"] == MapStage("Reduces", "Reduce", False, "", False, 1, False, False)
    assert step_between(definition, "Scans", "Reduces") == "Gather"
    assert step_between(definition, "Gather", "Reduces") is None


def test_a_distributed_maps_children_are_read_back_from_its_results_one_span_an_item() -> None:
    arn = "arn:aws:states:us-east-1:1:mapRun:ingest/ScanChunks:run1"
    events = [
        {"id": 1, "type": "MapStateEntered", "stateEnteredEventDetails": {"name": "ScanChunks"}},
        {"id": 2, "type": "MapStateStarted", "previousEventId": 1},
        {
            "id": 3,
            "type": "MapRunStarted",
            "previousEventId": 2,
            "mapRunStartedEventDetails": {"mapRunArn": arn},
        },
        {
            "id": 4,
            "type": "MapStateExited",
            "previousEventId": 3,
            "stateExitedEventDetails": {
                "name": "ScanChunks",
                "output": json.dumps(
                    {
                        "scanned": {
                            "MapRunArn": arn,
                            "ResultWriterDetails": {"Bucket": "b", "Key": "m.json"},
                        }
                    }
                ),
            },
        },
    ]
    child = {
        "Input": json.dumps({"Items": [{"index": 0}, {"index": 1}], "BatchInput": {}}),
        "Output": json.dumps(
            [
                {"start": 0, "end": 100, "part": {"key": "p0"}},
                {"start": 100, "end": 300, "part": {"key": "p1"}},
            ]
        ),
        "StartDate": "2026-12-06T10:00:00+00:00",
        "StopDate": "2026-12-06T10:00:04+00:00",
    }
    stored = {
        ("b", "m.json"): {"ResultFiles": {"SUCCEEDED": [{"Key": "SUCCEEDED_0.json"}]}},
        ("b", "SUCCEEDED_0.json"): [child],
    }
    spans = map_run_spans(
        "ingest", events, {"ScanChunks": "ScanChunk"}, lambda b, k: stored[(b, k)]
    )
    start = 1796551200.0  # 2026-12-06T10:00:00Z
    assert spans == [
        {
            "phase": "ingest.ScanChunk",
            "scheduled": start,
            "succeeded": start + 2,
            "csv_bytes": 100,
            "key": "p0",
        },
        {
            "phase": "ingest.ScanChunk",
            "scheduled": start + 2,
            "succeeded": start + 4,
            "csv_bytes": 200,
            "key": "p1",
        },
    ]


def test_the_rendering_prints_each_component_at_100_gb_and_1_tb_against_the_target() -> None:
    projected = {size: project(MEASURED, size, A) for size in (100e9, 1e12)}
    text = render(MEASURED, A, [1e9, 100e9], 30.0, 0.005).splitlines()
    per_gb = projected[100e9].cost / 100
    verdict = "meets" if per_gb <= 0.005 else "misses"
    assert f"  => ${per_gb:.4f} per GB: {verdict} the $0.005 per GB target" in text
    for size, p in projected.items():
        c = p.costs
        line = next(t for t in text if t.startswith("  cost: ") and f"${p.cost:,.2f} =" in t)
        assert f"Lambda ${c['Lambda']:,.3f}" in line
        assert f"S3 GET ${c['S3 GET']:,.3f}" in line
        assert f"S3 PUT ${c['S3 PUT']:,.3f}" in line
        assert f"Step Functions ${c['Step Functions']:,.3f}" in line
        assert f"{size / 1e9:g} GB, stage by stage ({p.chunks:,} parts" in "\n".join(text)


def test_an_express_child_longer_than_five_minutes_is_a_stated_limit() -> None:
    express = dataclasses.replace(
        MEASURED,
        stages={
            **MEASURED.stages,
            "task": {
                "Partial": distributed("Partial", "EXPRESS"),
                "Reduce": distributed("Reduce", "EXPRESS"),
            },
        },
    )
    # A reducer at 1 MB/s: 256 buckets of ~390 MB of CSV each.
    slow = {**MEASURED.phases, "task.Reduce": phase("task.Reduce", 1.0, tasks=19)}
    projected = project(dataclasses.replace(express, phases=slow), 100e9, A)
    reduce = projected.runs["task.Reduce"]
    assert reduce.child_s > 300
    assert f"a Reduce child takes {reduce.child_s:.0f} s: over an EXPRESS execution's 5 min" in (
        projected.warnings
    )


class CountingStore:
    """The data bucket in memory, counting the shuffle code's GETs and PUTs."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.gets = 0
        self.puts = 0

    def put_bytes(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.puts += 1
        self.objects[key] = bytes(body)

    def read_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        self.gets += 1
        return self.objects[key][start:end]

    def concurrently(self, work: Any, items: Any, threads: int) -> list[Any]:
        return [work(item) for item in items]


def shuffle_store(monkeypatch: pytest.MonkeyPatch, parts: int, buckets: int) -> CountingStore:
    """``parts`` buckets files of ``buckets`` non-empty buckets, written by the code."""
    from sluice.tasks import partials

    store = CountingStore()
    monkeypatch.setattr(partials, "objects", store)
    monkeypatch.setattr(partials, "settings", lambda: SimpleNamespace(data_bucket="data"))
    for part in range(parts):
        tables = [pa.table({"k": [part * buckets + b]}) for b in range(buckets)]
        partials.write_buckets(f"p{part}", tables)
    return store


def model_requests(m: Measured, parts: int, buckets: int) -> dict[str, dict[str, float]]:
    scans = run_stage(m.stages["ingest"]["ScanChunk"], parts, 1.0, 1, 1000, 1000, 0.0)
    partials = run_stage(m.stages["task"]["Partial"], parts, 1.0, 1, 1000, 1000, 0.0)
    runs = {"ingest.ScanChunk": scans, "task.Partial": partials}
    return requests(m, parts, buckets, 0, runs, buckets)


def test_the_modelled_shuffle_requests_are_what_the_gathered_code_makes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sluice.tasks.partials import read_indexes, read_slices

    store = shuffle_store(monkeypatch, parts=3, buckets=4)
    keys = ["p0", "p1", "p2"]
    index = read_indexes(keys, 4)  # Gather
    for bucket in range(4):  # each reducer, its slice of each part
        read_slices(
            [(k, int(index[i][bucket]), int(index[i][bucket + 1])) for i, k in enumerate(keys)]
        )
    # MEASURED's task Maps are inline: no ItemReader or ResultWriter requests in these steps
    model = model_requests(dataclasses.replace(MEASURED, gather="task.Gather"), 3, 4)
    results = 2  # Gather also reads the partials' results (manifest and file)
    assert store.puts == model["task: partial"]["PUT"] == 3
    assert store.gets == model["task: reduce"]["GET"] + model["task: gather"]["GET"] - results
    assert store.gets == 3 * 4 + 3


def test_the_modelled_shuffle_requests_are_what_the_two_get_code_makes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sluice.tasks.partials import read_bucket

    store = shuffle_store(monkeypatch, parts=3, buckets=4)
    for bucket in range(4):
        read_bucket(["p0", "p1", "p2"], bucket)
    assert store.gets == model_requests(MEASURED, 3, 4)["task: reduce"]["GET"] == 2 * 3 * 4


def test_a_higher_bucket_cap_is_the_same_rule_with_more_buckets_and_more_gets() -> None:
    capped = project(MEASURED, 100e9, A)
    wider = project(MEASURED, 100e9, dataclasses.replace(A, max_buckets=1024))
    rows, typed = 100e9 * 0.019, 100e9 * 0.25
    wanted = max(math.ceil(typed / (48 * 1024 * 1024)), math.ceil(rows / 2_000_000))
    assert (capped.buckets, wider.buckets) == (256, min(wanted, 1024)) == (256, 950)
    assert wider.requests["task: reduce"]["GET"] == 2 * wider.chunks * 950


def test_past_256_buckets_of_8m_rows_the_buckets_grow_so_a_reducer_fits_its_lambda() -> None:
    at_1tb = project(MEASURED, 1e12, A)
    rows = 1e12 * MEASURED.rows_per_byte
    assert at_1tb.buckets == math.ceil(rows / 8_000_000) == 2_375
    assert not any("needs ~" in w or "buckets:" in w for w in at_1tb.warnings)


def test_a_fan_out_phase_without_a_measured_rate_is_a_stated_limit() -> None:
    unmeasured = dataclasses.replace(
        MEASURED, phases={k: v for k, v in MEASURED.phases.items() if k != "ingest.ScanChunk"}
    )
    warnings = project(unmeasured, 100e9, A).warnings
    assert "no measured rate for ingest.ScanChunk: its CPU is counted as none" in warnings
    assert not any("no measured rate" in w for w in project(MEASURED, 100e9, A).warnings)


def test_the_fan_out_phases_are_scaled_to_the_cpu_the_workers_used() -> None:
    phases = {
        "ingest.Plan": phase("ingest.Plan", 1.0),  # alone 1 s: serial, kept as measured
        "ingest.ScanChunk": dataclasses.replace(phase("ingest.ScanChunk", 10.0), alone_s=9.0),
        "task.Partial": phase("task.Partial", 80.0),
    }
    factor = cpu_scaled(phases, "ingest", cpu_s=2.5)
    assert factor == 2.5 / (1.0 + 9.0)
    assert phases["ingest.ScanChunk"].alone_s == pytest.approx(9.0 * 0.25)
    assert phases["ingest.ScanChunk"].one_worker_rate == pytest.approx(10.0 * MB / 2.25)
    assert (phases["ingest.Plan"].alone_s, phases["task.Partial"].alone_s) == (1.0, 1.0)


def test_cpu_seconds_never_make_a_phase_slower_than_measured() -> None:
    phases = {"task.Reduce": phase("task.Reduce", 40.0)}
    assert cpu_scaled(phases, "task", cpu_s=5.0) == 1.0
    assert cpu_scaled(phases, "task", cpu_s=0.0) == 1.0
    assert phases["task.Reduce"].alone_s == 1.0


def test_each_phase_is_priced_at_the_catalogues_memory_and_held_to_its_timeout() -> None:
    memory, timeout = function_settings()
    phases = ("ingest.ScanChunk", "ingest.ConvertChunk", "task.Partial", "task.Reduce")
    assert {p: memory[p] for p in phases} == {
        "ingest.ScanChunk": 1769,
        "ingest.ConvertChunk": 1769,
        "task.Partial": 1769,
        "task.Reduce": 3008,
    }
    assert {p: timeout[p] for p in phases} == {
        "ingest.ScanChunk": 90,
        "ingest.ConvertChunk": 90,
        "task.Partial": 90,
        "task.Reduce": 90,
    }


def test_a_reducer_needing_more_memory_than_its_lambda_is_a_stated_limit() -> None:
    groups = 100e9 * MEASURED.rows_per_byte * MEASURED.group_ratio / R_100GB
    needs = forecast.REDUCER_GIB + forecast.REDUCER_GIB_A_MILLION_GROUPS * groups / 1e6
    small = dataclasses.replace(MEASURED, memory_mb={**MEASURED.memory_mb, "task.Reduce": 1024})
    assert 1024 < needs * 1024 < 3008
    assert not any("needs ~" in w for w in project(MEASURED, 100e9, A).warnings)
    assert (
        f"a reducer of ~{groups / 1e6:,.1f}M groups needs ~{needs:,.1f} GiB by the peaks "
        "measured here: over its Lambda's 1,024 MB"
    ) in project(small, 100e9, A).warnings


def test_past_9090_parts_gather_puts_each_buckets_ranges_apart_for_its_reducer() -> None:
    gathered = dataclasses.replace(MEASURED, gather="task.Gather")
    at_100gb, at_1tb = project(gathered, 100e9, A), project(gathered, 1e12, A)
    assert at_100gb.requests["task: gather"]["PUT"] == 1
    assert at_1tb.requests["task: gather"]["PUT"] == 1 + at_1tb.buckets
    assert at_1tb.requests["task: reduce"]["GET"] == (at_1tb.chunks + 1) * at_1tb.buckets


def test_a_partial_childs_parts_share_a_buckets_file_so_the_reducers_gets_are_files_x_r() -> None:
    tasks = {"Partial": distributed("Partial", "EXPRESS"), "Reduce": distributed("Reduce")}
    shared = dataclasses.replace(
        MEASURED, gather="task.Gather", stages={**MEASURED.stages, "task": tasks}
    )
    projected = project(shared, 100e9, A)
    files = math.ceil(N_100GB / 2)  # children of 2 parts of 16 MiB: one file each
    assert projected.runs["task.Partial"].batch == 2
    assert projected.requests["task: partial"]["PUT"] == files + 2
    assert projected.requests["task: reduce"]["GET"] == files * R_100GB + 1


def test_a_partial_file_of_several_parts_shares_its_rows_and_groups_among_their_spans() -> None:
    items = [{"index": 3}, {"index": 5}, {"index": 4}]
    outputs = [
        {"part": 3, "parts": [3, 4], "rows": 10, "groups": 6},
        {"part": 5, "parts": [5], "rows": 7, "groups": 7},
    ]
    assert [(o["rows"], o["groups"]) for o in per_part(items, outputs)] == [
        (5.0, 3.0),
        (7.0, 7.0),
        (5.0, 3.0),
    ]
