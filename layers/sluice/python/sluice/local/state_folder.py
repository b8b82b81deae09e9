"""The state folder of ``sluice local --state-dir DIR``: ``snapshot.pickle``, which names
everything saved, and ``objects/``, a file per saved S3 object; held by one process at a
time.

The snapshot is written to a temporary file and renamed, so a crash leaves the previous
snapshot whole, and object files no snapshot names are then removed. What goes into it is
:mod:`sluice.local.state`'s to say.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import moto

SNAPSHOT = "snapshot.pickle"
OBJECTS = "objects"
LOCK = "lock"
FORMAT = 1


class StateError(Exception):
    """The state folder cannot be used (held by another process, or from another moto)."""


@dataclass
class Snapshot:
    """One saved state, as ``snapshot.pickle`` holds it."""

    cognito: bytes
    tables: dict[str, bytes]
    # bucket -> key -> (object file name, the key's pickled attributes)
    objects: dict[str, dict[str, tuple[str, bytes]]]
    aws_port: int = 0
    glue: dict[str, bytes] = field(default_factory=dict)  # database -> its tables, pickled
    saved_at: float = field(default_factory=time.time)
    moto_version: str = moto.__version__
    format: int = FORMAT

    def same_content(self, other: Snapshot | None) -> bool:
        return (
            other is not None
            and self.cognito == other.cognito
            and self.tables == other.tables
            and self.objects == other.objects
            and self.aws_port == other.aws_port
            and self.glue == other.glue
        )


class StateDir:
    """A state folder, held by this process (an exclusive lock) until :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        (self.path / OBJECTS).mkdir(parents=True, exist_ok=True)
        self._lock: BinaryIO | None = (self.path / LOCK).open("wb")
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise StateError(f"{self.path} is in use by another sluice local") from None

    @property
    def snapshot_path(self) -> Path:
        return self.path / SNAPSHOT

    @property
    def fresh(self) -> bool:
        """Whether nothing was ever saved here."""
        return not self.snapshot_path.exists()

    def object_path(self, name: str) -> Path:
        return self.path / OBJECTS / name

    def load(self) -> Snapshot | None:
        """The saved snapshot, or None where there is none."""
        if self.fresh:
            return None
        with self.snapshot_path.open("rb") as source:
            snapshot = unpickle(source.read())
        if not isinstance(snapshot, Snapshot) or snapshot.format != FORMAT:
            raise StateError(f"{self.snapshot_path} is not a snapshot this version can read")
        if snapshot.moto_version != moto.__version__:
            raise StateError(
                f"{self.snapshot_path} was saved with moto {snapshot.moto_version}, this is "
                f"moto {moto.__version__}; start with another --state-dir (or --ephemeral)"
            )
        return snapshot

    def write(self, snapshot: Snapshot) -> None:
        """Replace the snapshot at once (temporary file, then rename), then remove the
        object files it no longer names."""
        data = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        _write_atomically(self.snapshot_path, data)
        named = {name for keys in snapshot.objects.values() for name, _ in keys.values()}
        for path in (self.path / OBJECTS).iterdir():
            if path.name not in named:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


def unpickle(data: bytes) -> Any:
    """Only ever what :mod:`sluice.local.state` pickled into the state folder, which a user
    names and owns (as its moto's memory, which it stands for): never data from elsewhere."""
    return pickle.loads(data)  # nosec B301


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path`` to write, which replaces ``path`` at once (a
    rename) once written whole, and is removed where writing it failed."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as out:
            yield out
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _write_atomically(path: Path, data: bytes) -> None:
    with replacing(path) as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


__all__ = [
    "FORMAT",
    "OBJECTS",
    "SNAPSHOT",
    "Snapshot",
    "StateDir",
    "StateError",
    "replacing",
    "unpickle",
]
