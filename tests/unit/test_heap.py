"""sluice.heap: step processes keep the memory they free for their next call."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
from sluice import heap
from sluice.catalog import CATALOG


def test_the_environment_names_glibcs_variables_with_the_settings_values() -> None:
    assert heap.environment() == {
        "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),
        "MALLOC_TRIM_THRESHOLD_": str(1024 * 1024 * 1024),
        "MALLOC_TOP_PAD_": str(64 * 1024 * 1024),
        "MIMALLOC_PURGE_DELAY": "3600000",
    }


def test_every_pipeline_step_starts_with_the_heap_settings() -> None:
    # The API, the upload notifications, the training's Prepare (checks) and the
    # TensorFlow functions (graphs, model files and rows to predict, in TensorFlow's own
    # allocator) and the Glue backfill (a footer a dataset) hold no table data: they keep
    # glibc's defaults.
    light = {
        "catalog_backfill",
        "api",
        "on_upload",
        "on_model_upload",
        "networks",
        "networks_import",
        "train_prepare",
        "training_predict",
    }
    for spec in CATALOG.functions:
        given = {k: ref.name for k, ref in spec.environment.items() if k in heap.environment()}
        assert given == ({} if spec.name in light else heap.environment()), spec.name


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_running_process_takes_the_settings_on_glibc() -> None:
    assert heap.keep_freed_memory() is True


_RESIDENT_AFTER_PREFAULT = """
import os
from sluice import heap

def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

heap.keep_freed_memory()
before = resident_mib()
heap.prefault(256)
print(resident_mib() - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_prefaulted_memory_stays_resident_once_freed_for_the_next_step_to_reuse() -> None:
    grown = subprocess.run(
        [sys.executable, "-c", _RESIDENT_AFTER_PREFAULT], capture_output=True, text=True, check=True
    )
    assert int(grown.stdout) >= 256


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")
def test_a_started_processs_peak_rss_is_its_own_not_its_parents() -> None:
    import numpy as np

    held = np.ones(64 * heap.MIB)  # 512 MiB touched here, in the parent
    child = subprocess.run(
        [sys.executable, "-c", "from sluice import heap; print(heap.peak_rss_mb())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(child.stdout) < 200 < heap.peak_rss_mb()
    del held


_RESIDENT_AFTER_ARROW_RELEASES = """
import os
import time
import pyarrow as pa

def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

before = resident_mib()
buffer = pa.allocate_buffer(256 << 20)
memoryview(buffer).cast("B")[:] = bytes(256 << 20)
del buffer
time.sleep(0.05)  # past mimalloc's default purge delay (10 ms)
for size in range(200):  # a step's further allocations, where mimalloc purges what is due
    pa.allocate_buffer((size % 7 + 1) << 20)
kept = resident_mib() - before
pa.default_memory_pool().release_unused()  # what an idle local worker calls
print(pa.default_memory_pool().backend_name, kept, resident_mib() - before)
"""


def _resident_after_arrow_releases(environment: dict[str, str]) -> tuple[int, int]:
    """The MiB a freed 256 MiB Arrow buffer leaves resident through later allocations,
    then after ``release_unused``."""
    kept = subprocess.run(
        [sys.executable, "-c", _RESIDENT_AFTER_ARROW_RELEASES],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **environment},
    )
    backend, through_allocations, after_release = kept.stdout.split()
    if backend != "mimalloc":
        pytest.skip(f"Arrow's pool here is {backend}, not mimalloc")
    return int(through_allocations), int(after_release)


@pytest.mark.skipif(sys.platform != "linux", reason="statm is Linux's")
def test_arrows_freed_memory_stays_resident_with_the_environment_for_the_next_step() -> None:
    kept, _ = _resident_after_arrow_releases(heap.environment())
    assert kept >= 256


@pytest.mark.skipif(sys.platform != "linux", reason="statm is Linux's")
def test_arrows_freed_memory_goes_back_when_released_with_the_environment() -> None:
    _, after_release = _resident_after_arrow_releases(heap.environment())
    assert after_release < 16


@pytest.mark.skipif(sys.platform != "linux", reason="statm is Linux's")
def test_without_the_environment_arrow_gives_freed_memory_back_during_a_step() -> None:
    defaults = {name: "" for name in heap.ARROW_ENVIRONMENT}
    kept, _ = _resident_after_arrow_releases(defaults)
    assert kept < 16
