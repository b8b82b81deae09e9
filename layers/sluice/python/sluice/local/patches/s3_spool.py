"""Where the embedded S3 keeps a large object's bytes: in a tmpfs folder (memory) while
the machine has memory to spare, else in the temporary folder on disk, as moto does.

moto keeps every object past 5 MB (``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE``) in a temporary
file. On this project's machines (ext4 on a virtual disk) writing such a file cost 3.4 s
of system CPU a GB and ~9 s of wall (500 MB of 50 MB files: 1.7 s of CPU, 4.5 s), against
0.46 s a GB to tmpfs, the same as copying the bytes in memory: a task's shuffle and
output (1.55 GB for the 1 GB BMAT file) cost the embedded S3 more to store than to
receive and hash. Nothing of S3's behaviour changes: the same bytes, ETags and checksums,
only where the server's file lies.

A tmpfs file's pages are memory that nothing can reclaim (these machines have no swap),
so a file goes there only while the memory available after it stays above
:func:`reserve_bytes` (a quarter of the machine's memory, at least 2 GiB): a large
upload or a long run fills the tmpfs up to that point and then spills to disk, as
before. The files are anonymous (unlinked at creation, as ``tempfile`` makes them): the
kernel frees them when the object is deleted or the server's process ends, however it
ends. ``SLUICE_S3_SPOOL_DIR`` names another folder, or, empty, turns this off.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

GIB = 1024**3
SPOOL_DIR_ENV = "SLUICE_S3_SPOOL_DIR"
# Only a folder for tempfile's own files (created exclusively, unlinked at once), never
# a fixed name in it: what B108 warns of cannot happen here.
DEFAULT_TMPFS = "/dev/shm"  # nosec B108
RESERVE_SHARE = 0.25
"""The share of the machine's memory that stays available: past it, objects go to disk."""
RESERVE_MIN_BYTES = 2 * GIB
FREE_MARGIN_BYTES = 256 * 1024**2
"""Room the tmpfs folder keeps besides an object: for the objects stored at the same time."""


def tmpfs_folder() -> str | None:
    """The folder for objects in memory: ``SLUICE_S3_SPOOL_DIR`` when set (empty: none),
    else /dev/shm where it is a writable folder (Linux); None: the disk only."""
    folder = os.environ.get(SPOOL_DIR_ENV, DEFAULT_TMPFS)
    if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
        return folder
    return None


def memory(meminfo: str = "/proc/meminfo") -> tuple[int, int] | None:
    """The machine's memory and what is available now, in bytes (None where unknown)."""
    try:
        text = Path(meminfo).read_text()
    except OSError:
        return None
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * 1024  # /proc/meminfo counts kB
    if "MemTotal" not in fields or "MemAvailable" not in fields:
        return None
    return fields["MemTotal"], fields["MemAvailable"]


def reserve_bytes(total: int) -> int:
    """The memory that must stay available after an object goes to tmpfs."""
    return max(RESERVE_MIN_BYTES, int(total * RESERVE_SHARE))


def spool_folder(
    size: int, found: tuple[int, int] | None = None, free: int | None = None
) -> str | None:
    """Where an object of ``size`` bytes is kept: the tmpfs folder while the memory
    available after it stays above the reserve and the folder has room for it and
    FREE_MARGIN_BYTES more (a container's /dev/shm may hold only 64 MB), else None (the
    temporary folder on disk). ``found``: (total, available) bytes, and ``free``: the
    folder's free bytes, read from the machine when not given."""
    folder = tmpfs_folder()
    if folder is None:
        return None
    found = found if found is not None else memory()
    if found is None:
        return None
    total, available = found
    if free is None:
        free = shutil.disk_usage(folder).free
    if free - size < FREE_MARGIN_BYTES:
        return None
    return folder if available - size >= reserve_bytes(total) else None


def spooled_file(max_size: int, size: int) -> Any:
    """A ``SpooledTemporaryFile`` for an object of ``size`` bytes, as moto makes one (in
    memory up to ``max_size``), already on file when ``size`` is past it, in
    :func:`spool_folder`'s folder."""
    folder = spool_folder(size) if size > max_size else None
    # The file outlives this call: it becomes the stored object's buffer.
    spooled: Any = tempfile.SpooledTemporaryFile(max_size, dir=folder)  # noqa: SIM115
    if size > max_size:
        spooled.rollover()
    return spooled


def spooled_copy(max_size: int, data: bytes | bytearray | memoryview) -> Any:
    """:func:`spooled_file` holding ``data``; on disk when the tmpfs filled up between
    the check and the write (another object stored at the same time)."""
    spooled = spooled_file(max_size, len(data))
    try:
        spooled.write(data)
    except OSError:  # ENOSPC on the tmpfs: the disk, as moto would
        spooled.close()
        spooled = tempfile.SpooledTemporaryFile(max_size)  # noqa: SIM115
        spooled.rollover()
        spooled.write(data)
    return spooled


__all__ = [
    "memory",
    "reserve_bytes",
    "spool_folder",
    "spooled_copy",
    "spooled_file",
    "tmpfs_folder",
]
