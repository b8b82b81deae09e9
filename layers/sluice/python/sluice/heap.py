"""How a step's process keeps the memory it frees: for the next call, not for the OS.

glibc gives freed memory back at once: it trims the top of its heap and unmaps every
block over its (moving) threshold. numpy's temporaries, a few MB per column, then fault
in fresh pages on every call, and in a Firecracker VM (a Lambda's, or this machine's) a
page fault costs as much as the arithmetic on it: a partial's key hash took 0.32 s, of
which 0.19 s went to faulting pages that the previous call had just given back. Kept,
the heap stays at the process's peak, which a Lambda's memory size caps anyway. Arrow's
own pool (mimalloc) is told the same (``ARROW_ENVIRONMENT``).
"""

from __future__ import annotations

import ctypes
import ctypes.util

MIB = 1024 * 1024

SETTINGS = {
    # Blocks up to 32 MiB (glibc's most) come from the heap, not from fresh mappings.
    "MMAP_THRESHOLD": (-3, 32 * MIB),
    # Free memory at the heap's top goes back to the OS only past 1 GiB.
    "TRIM_THRESHOLD": (-1, 1024 * MIB),
    # The heap grows 64 MiB at a time.
    "TOP_PAD": (-2, 64 * MIB),
}
"""glibc's mallopt parameters (number, value), also read as MALLOC_<NAME>_ at start."""

ARROW_ENVIRONMENT = {"MIMALLOC_PURGE_DELAY": "3600000"}
"""Arrow's memory pool (mimalloc, in pyarrow's wheels) keeps what it frees too. mimalloc
gives an allocation past its large-object size (a few MiB: a bucket's column of texts,
a part's decoded column) a segment of its own, and purges freed segments back to the OS
10 ms later, so the next such array faults its pages in again: 64 MiB allocated and
freed 30 times cost 0.26 s of system CPU, 0.02 s with purging off. An hour's delay keeps
them through any step, as -1 (never) did, yet lets ``release_unused`` give them back
(with -1 it gives back nothing): the local pool's idle workers do
(sluice.local.worker_pool). mimalloc reads this when a process starts; it has no call to
set it later."""


def environment() -> dict[str, str]:
    """The settings as the environment variables glibc and Arrow's mimalloc read when a
    process starts."""
    glibc = {f"MALLOC_{name}_": str(value) for name, (_, value) in SETTINGS.items()}
    return {**glibc, **ARROW_ENVIRONMENT}


def keep_freed_memory() -> bool:
    """Apply the settings to this running process; False where the C library is not glibc."""
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    libc = ctypes.CDLL(path)
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return all(libc.mallopt(number, value) == 1 for number, value in SETTINGS.values())


_PREFAULT_BLOCK = 16 * MIB  # under MMAP_THRESHOLD: from the heap, which keeps it when freed


def prefault(mib: int) -> None:
    """Grow this process's heaps by ``mib`` MiB, half numpy's (glibc's) and half Arrow's
    memory pool, and touch every page once; then free it all, to be kept for reuse.

    A page touched for the first time costs a fault (in a Firecracker VM, ~2 µs): a local
    worker's first 60 MiB scan took 2.5 s where its next took 1.1, and with 768 MiB
    touched at its start, 1.1 too. Call it with ``keep_freed_memory`` in force.
    """
    import numpy as np  # here: the catalogue reads this module's settings without them
    import pyarrow as pa

    held: list[object] = []
    try:
        for _ in range(mib // 32):
            held.append(np.ones(_PREFAULT_BLOCK // 8))
            buffer = pa.allocate_buffer(_PREFAULT_BLOCK)
            np.frombuffer(buffer, dtype=np.uint8)[:] = 1
            held.append(buffer)
    except MemoryError:
        pass  # a head start, not a need: the steps fault in what they use
    finally:
        held.clear()


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB: Linux's ``VmHWM``, the high-water
    mark of its own address space. Not ``getrusage``'s ``ru_maxrss``: across ``execve``
    Linux carries the parent's peak into it, so a trainer that ``sluice local`` started
    reported the local system's 1.5 GB as its own. ``ru_maxrss`` only where there is no
    /proc (macOS: bytes)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024
