"""`python -m events.regenerate` records the committed sample events, the same bytes on
every run.

Each run is a subprocess with its own embedded AWS (the command's own, as a developer
runs it), writing under a temporary --out rather than over events/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sluice.catalog import PROJECT_ROOT

from tests.support import run_command

EVENTS = PROJECT_ROOT / "events"


def regenerate(out: Path, *options: str) -> dict[str, bytes]:
    """Run the command into ``out`` and return what it wrote, by path under ``out``."""
    # The session's embedded AWS exported its endpoint and settings into this process;
    # the command must start from a developer's plain environment instead.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "AWS_", "MOTO_"))}
    run_command([sys.executable, "-m", "events.regenerate", "--out", str(out), *options], env)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.json"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Two full runs of the command, each into its own empty folder."""
    return (
        regenerate(tmp_path_factory.mktemp("first")),
        regenerate(tmp_path_factory.mktemp("second")),
    )


def test_regenerating_twice_writes_byte_identical_files(
    runs: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    first, second = runs
    assert first == second


def test_regenerating_writes_every_recorded_group(
    runs: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    assert sorted(runs[0]) == [
        "ingest/convert_chunk.json",
        "ingest/decide.json",
        "ingest/finish.json",
        "ingest/plan.json",
        "ingest/prepare.json",
        "ingest/reconcile.json",
        "ingest/scan_chunk.json",
        "on_upload/object_created.json",
        "operations/bucket.json",
        "operations/finish.json",
        "operations/part.json",
        "operations/plan.json",
        "tasks/finish.json",
        "tasks/gather.json",
        "tasks/partial.json",
        "tasks/plan.json",
        "tasks/reduce.json",
    ]


def test_committed_sample_events_are_what_regenerating_writes(
    runs: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    stale = [name for name, body in runs[0].items() if (EVENTS / name).read_bytes() != body]
    assert stale == [], "run `python -m events.regenerate` and commit events/"


def test_only_writes_the_named_group(tmp_path: Path) -> None:
    # on_upload alone needs no run, which keeps this one quick.
    assert sorted(regenerate(tmp_path, "--only", "on_upload")) == ["on_upload/object_created.json"]
