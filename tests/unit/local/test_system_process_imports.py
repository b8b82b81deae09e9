"""The local system's own process (the embedded AWS, the gateway, the pools' dispatch)
holds no Arrow, numpy or pandas: the steps and the API run in worker processes, and those
libraries cost the process ~60 MiB it never uses."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pyarrow", "numpy", "pandas")

STARTED = """
import sys
from sluice.local.system import LocalOptions, LocalSystem

if __name__ == "__main__":
    system = LocalSystem(LocalOptions(port=0, demo=True, lambda_processes=1)).start()
    try:
        print(sorted(name for name in {heavy} if name in sys.modules))
    finally:
        system.stop()
"""


def test_importing_the_local_system_loads_no_arrow_numpy_or_pandas() -> None:
    probe = (
        f"import sys, sluice.local.system; print(sorted(n for n in {HEAVY} if n in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_a_started_local_system_with_worker_pools_holds_no_arrow_numpy_or_pandas() -> None:
    script = STARTED.format(heavy=HEAVY)
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert found.strip().splitlines()[-1] == "[]"
