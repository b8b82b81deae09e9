"""Running one benchmark worker in a subprocess of its own, so its peak memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def measure_worker(command: list[str]) -> dict[str, Any]:
    """The JSON a worker printed on its ``RESULT `` line, plus its peak RSS and wall time."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would be cumulative).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        errors.seek(0)
        error_text = errors.read()
    result: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    if not result:
        result = {"error": f"worker exited {process.returncode}: {error_text[-500:]}"}
    elif result.get("error") and error_text.strip():
        result["stderr_tail"] = error_text[-800:]
    # The worker's own high-water mark where it printed one: across execve Linux carries
    # the parent's peak into ru_maxrss, so a driver that had just written 1 GB inputs made
    # every peer's peak its own 637 MiB.
    result.setdefault("peak_rss_bytes", usage.ru_maxrss * 1024)  # Linux: KiB
    result["process_seconds"] = elapsed
    return result


def print_result(result: dict[str, Any]) -> None:
    """In a worker: ``result`` as its one ``RESULT {json}`` line, with its peak RSS unless
    it measured its peak itself: the larger of its own (``VmHWM``) and its ended
    children's (a local system's workers)."""
    import resource

    from sluice.heap import peak_rss_mb

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: KiB
    result.setdefault("peak_rss_bytes", max(int(peak_rss_mb() * 1024 * 1024), children))
    print("RESULT " + json.dumps(result), flush=True)


def recorded_moment(recorded: str | None) -> float:
    """The ``time.perf_counter()`` of the moment the system recorded ``recorded`` (an ISO
    timestamp on this machine's clock), not the later one when a poll noticed it; now,
    when nothing was recorded."""
    noticed = time.perf_counter()
    late = time.time() - datetime.fromisoformat(recorded).timestamp() if recorded else 0.0
    return noticed - max(0.0, late)
