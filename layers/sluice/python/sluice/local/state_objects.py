"""S3 objects of ``sluice local``'s saved state: each object of the catalogued buckets in
a file of its own under the state folder's ``objects/``, written once (its name derives
from the bucket, key, ETag, time and size), beside the key's other attributes, pickled;
a restore rebuilds the keys as moto holds them, without an S3 event, so nothing is
ingested twice."""

from __future__ import annotations

import hashlib
import pickle
import tempfile
import threading
from pathlib import Path
from typing import cast

from moto.s3.models import FakeKey
from moto.settings import get_s3_default_key_buffer_size

from sluice.local.patches.s3_reads import BLOCK_BYTES, read_key_range
from sluice.local.state_folder import replacing, unpickle

# Attributes of an S3 key that are not its metadata: its bytes, and what holds them.
_KEY_RUNTIME = frozenset({"_value_buffer", "lock", "value", "multipart"})


def object_name(bucket: str, key: FakeKey, etag: str) -> str:
    """The name of the file that holds ``key``'s bytes: one per bucket, key and version."""
    identity = f"{bucket}\0{key.name}\0{etag}\0{key.last_modified.isoformat()}\0{key.size}"
    return hashlib.sha256(identity.encode()).hexdigest()


def key_attributes(key: FakeKey) -> bytes:
    """Everything of ``key`` but its bytes, pickled."""
    state = {name: value for name, value in vars(key).items() if name not in _KEY_RUNTIME}
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def write_key(key: FakeKey, path: Path) -> None:
    """Write ``key``'s bytes to ``path`` block by block (a temporary file, then renamed)."""
    size = int(key.size)
    with replacing(path) as out:
        for start in range(0, size, BLOCK_BYTES):
            out.write(read_key_range(key, start, min(BLOCK_BYTES, size - start)))


def restore_key(attributes: bytes, source: Path) -> FakeKey:
    """A key with ``attributes`` and the bytes of ``source``, as moto would hold it."""
    key = cast(FakeKey, FakeKey.__new__(FakeKey))
    vars(key).update(unpickle(attributes))
    key.multipart = None
    key.lock = threading.Lock()
    size = source.stat().st_size
    limit = getattr(key, "_max_buffer_size", None) or get_s3_default_key_buffer_size()
    buffer = tempfile.SpooledTemporaryFile(limit)  # noqa: SIM115 - the key's own file
    if size > limit:
        buffer.rollover()
    with source.open("rb") as data:
        while block := data.read(BLOCK_BYTES):
            buffer.write(block)
    key._value_buffer = buffer
    key.contentsize = size
    return key


__all__ = ["key_attributes", "object_name", "restore_key", "write_key"]
