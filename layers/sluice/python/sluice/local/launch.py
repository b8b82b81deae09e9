"""Starting ``sluice local`` as a process of its own, as a user's terminal would: for the
end-to-end tests and the load scenario, which must meet the system over real HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO

from sluice.catalog import PROJECT_ROOT

READY_LINE = "ready; Ctrl-C stops"


@dataclass
class Launched:
    """A started ``sluice local``: its addresses and what it printed up to being ready."""

    process: subprocess.Popen[str]
    api: str
    aws: str
    output: str


class DidNotStart(Exception):
    """``sluice local`` exited, or printed no ready line in time; the message holds what it
    printed."""


def launch(
    args: list[str],
    *,
    stderr: IO[str] | int = subprocess.STDOUT,
    new_session: bool = False,
    within_s: float = 120.0,
) -> Launched:
    """``python -m sluice.cli local *args``, once it says it is ready. Its later output
    stays in ``process.stdout`` for the caller to read or drain. ``new_session`` gives it a
    process group of its own, as a terminal's job has (a Ctrl-C then reaches its workers)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sluice.cli", "local", *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=new_session,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if READY_LINE in line:
            break
    output = "".join(lines)
    api = re.search(r"API\s+(http://\S+)", output)
    aws = re.search(r"AWS\s+(http://\S+)", output)
    if not (api and aws and READY_LINE in output):
        process.kill()
        raise DidNotStart(f"sluice local did not start:\n{output}")
    return Launched(process, api.group(1), aws.group(1), output)
