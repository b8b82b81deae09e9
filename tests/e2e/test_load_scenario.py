"""The load scenario (bench/load) runs: a few users for a few seconds against a
`sluice local` it starts, every request answered. Timings are never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sluice.catalog import PROJECT_ROOT

# The scenario runs in a subprocess: locust patches the standard library for gevent at
# its import, which this process must not see.


def test_the_load_scenario_runs_with_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    command = [sys.executable, "-m", "bench.load.run", "--seconds", "5", "--warmup", "1"]
    command += ["--readers", "2"]
    command += ["--uploaders", "1", "--taskers", "1", "--json", str(out)]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {row["route"]: row for row in json.loads(out.read_text())}
    assert rows["all"]["errors"] == 0
    assert rows["GET /datasets/{id}"]["requests"] > 0
    assert rows["GET /datasets/{id}/rows"]["requests"] > 0
