"""bench/aggregate/projection.py: the AWS projection follows the formula it prints."""

from __future__ import annotations

import math

import pytest

from bench.aggregate.projection import (
    MB,
    Assumptions,
    Measured,
    Phase,
    project,
    render,
    running_at_once,
)

CHUNK = 64 * 1024 * 1024


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


MEASURED = Measured(
    file_bytes=10**9,
    chunk_bytes=CHUNK,
    cores=2,
    phases={
        "ingest.ScanChunk": phase("ingest.ScanChunk", 50.0),
        "task.Partial": phase("task.Partial", 80.0),
        "task.Reduce": phase("task.Reduce", 40.0),
    },
    typed_ratio=0.25,
    group_ratio=1.0,
    output_ratio=1.0,
    rows_per_byte=0.019,
    transitions={"ingest": 24, "task": 38},
    events={"ingest": 200, "task": 300},
    chunks=15,
    buckets=19,
)


def test_tasks_that_overlap_count_each_other_as_running_at_once() -> None:
    spans = [{"scheduled": 0.0, "succeeded": 2.0}, {"scheduled": 1.0, "succeeded": 3.0}]
    assert running_at_once(spans) == [1.5, 1.5]


def test_the_scan_stage_is_its_waves_of_cpu_and_s3_time_plus_a_cold_start() -> None:
    a = Assumptions()
    projected = project(MEASURED, 100e9, a, concurrency=1000)
    chunks = math.ceil(100e9 / CHUNK)
    s3 = a.s3_mb_s * MB
    one_scan = CHUNK / (50.0 * MB) + (CHUNK + CHUNK * 0.25) / s3
    expected = math.ceil(chunks / 1000) * one_scan + a.cold_start_s
    assert projected.chunks == chunks
    assert projected.stages["ingest: scan (and hash)"] == pytest.approx(expected)


def test_a_partial_waits_one_round_trip_for_its_one_buckets_file() -> None:
    a = Assumptions()
    projected = project(MEASURED, 100e9, a, concurrency=1000)
    s3 = a.s3_mb_s * MB
    cpu_and_bytes = CHUNK / (80.0 * MB) + (CHUNK * 0.25 + CHUNK * 0.25) / s3
    assert projected.task_s["partial"] == pytest.approx(cpu_and_bytes + a.request_s)


def test_a_reducer_waits_two_round_trips_per_64_parts() -> None:
    a = Assumptions()
    projected = project(MEASURED, 100e9, a, concurrency=1000)
    s3 = a.s3_mb_s * MB
    bucket_csv = 100e9 / projected.buckets
    cpu_and_bytes = bucket_csv / (40.0 * MB) + (bucket_csv * 0.25 + bucket_csv) / s3
    latency = 2 * math.ceil(projected.chunks / 64) * a.request_s
    assert projected.task_s["reduce"] == pytest.approx(cpu_and_bytes + latency)


def test_the_shuffle_puts_one_file_a_part_and_gets_two_ranges_a_part_and_bucket() -> None:
    projected = project(MEASURED, 100e9, Assumptions(), concurrency=1000)
    n, r = projected.chunks, projected.buckets
    assert (n, r) == (1491, 256)
    assert projected.s3_requests == {"PUT": 3 * n + n + r, "GET": 4 * n + 2 * n * r}


def test_an_inline_map_of_forty_at_once_scans_in_more_waves() -> None:
    a = Assumptions()
    chunks = math.ceil(100e9 / CHUNK)
    wide = project(MEASURED, 100e9, a, concurrency=1000).stages["ingest: scan (and hash)"]
    inline = project(MEASURED, 100e9, a, concurrency=40).stages["ingest: scan (and hash)"]
    waves = math.ceil(chunks / 40) / math.ceil(chunks / 1000)
    assert (inline - a.cold_start_s) / (wide - a.cold_start_s) == pytest.approx(waves)


def test_the_rendering_states_the_cost_per_gb_against_its_target() -> None:
    a = Assumptions()
    projected = project(MEASURED, 100e9, a, concurrency=1000)
    per_gb = projected.cost / 100
    text = render(MEASURED, a, [1e9, 100e9], 30.0, 0.005)
    verdict = "meets" if per_gb <= 0.005 else "misses"
    assert f"  => ${per_gb:.4f} per GB: {verdict} the $0.005 per GB target" in text.splitlines()
    assert f"S3 {projected.s3_requests['PUT']:,.0f} PUT" in text
