"""What an upload in parts has sent so far, kept on disk so that an interrupted upload
(a dropped connection, Ctrl-C, a closed laptop) resumes where it stopped.

One JSON file per file being uploaded, in ``uploads/`` of the config folder, named by a
hash of the API and the file's absolute path; it holds the dataset, the upload id and
its presigned part URLs, when they expire, and the ETag of every part S3 took. The file
must have the same size and modification time to resume; otherwise the upload starts
afresh. URLs that expired (the API presigns them for an hour) are presigned again for
the parts still missing, as long as the upload is open.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sluice.client.settings import config_dir

# Do not resume with URLs about to expire: a part sent with one would fail half-way.
EXPIRY_MARGIN_S = 120


@dataclass
class PartsUpload:
    """One upload in parts of one file, as far as it got."""

    api_url: str
    file: str
    bytes: int
    mtime_ns: int
    dataset_id: str
    upload_id: str
    part_bytes: int
    expires_at: float
    parts: list[dict[str, Any]]
    done: dict[str, str] = field(default_factory=dict)
    """Part number (as text: JSON's keys) -> the ETag S3 answered."""

    @property
    def fresh(self) -> bool:
        return time.time() < self.expires_at - EXPIRY_MARGIN_S

    def matches(self, path: Path) -> bool:
        """Whether ``path`` is still the file this upload was sending."""
        stat = path.stat()
        return (stat.st_size, stat.st_mtime_ns) == (self.bytes, self.mtime_ns)

    def missing(self) -> list[dict[str, Any]]:
        """The parts S3 has not taken yet."""
        return [part for part in self.parts if str(part["number"]) not in self.done]

    def completed(self) -> list[dict[str, Any]]:
        """``[{number, etag}]`` in ascending order, as completing wants them."""
        return [
            {"number": int(n), "etag": e}
            for n, e in sorted(self.done.items(), key=lambda x: int(x[0]))
        ]


class ResumeStore:
    """The :class:`PartsUpload` of each file being uploaded."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or config_dir() / "uploads"
        self._lock = threading.Lock()

    def _path(self, api_url: str, file: Path) -> Path:
        name = hashlib.sha256(f"{api_url}\n{file.resolve()}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.json"

    def load(self, api_url: str, file: Path) -> PartsUpload | None:
        try:
            data = json.loads(self._path(api_url, file).read_text())
            return PartsUpload(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def save(self, state: PartsUpload) -> None:
        """Written whole and renamed, so that a crash mid-write leaves the last good copy;
        0600: the part URLs let anyone holding them write the dataset's file."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self._path(state.api_url, Path(state.file))
            partial = path.with_suffix(".tmp")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(asdict(state), out)
            partial.replace(path)

    def forget(self, state: PartsUpload) -> None:
        self._path(state.api_url, Path(state.file)).unlink(missing_ok=True)
