"""Make moto's S3 store large objects, and complete multipart uploads, without needless
copies in memory.

Storing a large object in moto first fills an in-memory buffer with all of it and then
copies that to the object's file, and completing a multipart upload joins every part in
memory three times over before storing it: a 5 GiB upload held 15 GiB at once.

``install()`` changes two things and keeps every answer byte-identical (ETags and
checksums are moto's):

- storing a value larger than the in-memory limit writes it straight to the file (in
  tmpfs while the machine's memory allows: ``s3_spool``), and a POST's file, already
  in such a file (``s3_post_file``), becomes the object's file;
- completing a multipart upload copies the parts into the new object's file block by
  block and computes a full-object checksum incrementally, instead of joining them
  in memory three times (moto's own code still runs for a CRC32C or CRC64NVME
  full-object checksum when the optional library moto would use for it is installed).

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import binascii
import codecs
import hashlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.compat import HAS_CRT
from moto.s3 import models as s3_models
from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
from moto.s3.models import FakeKey, FakeMultipart, MultipartChecksumBuilder
from moto.settings import get_s3_default_key_buffer_size
from moto.utilities.utils import md5_hash

from sluice.local.patches.replace import replace_once, replaced, restore
from sluice.local.patches.s3_post_file import PostedFile
from sluice.local.patches.s3_reads import BLOCK_BYTES, read_key_range
from sluice.local.patches.s3_spool import spooled_copy, spooled_file

_Completed = tuple[Any, str, tuple[str, str, int] | None]
"""What ``FakeMultipart.complete`` answers: the value, the ETag and the checksum."""


def install() -> None:
    """Patch moto's S3 writes of large objects. Safe to call more than once."""
    # The value setter first: only it knows what to do with a completed upload's PartsValue.
    replace_once(FakeKey, "value", _large_values_to_disk)
    replace_once(FakeMultipart, "complete", _complete_part_by_part)


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    restore(FakeMultipart, "complete")
    restore(FakeKey, "value")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(FakeKey, "value") and replaced(FakeMultipart, "complete")


def _large_values_to_disk(value: property) -> property:
    def set_value(self: FakeKey, new_value: Any) -> None:
        if isinstance(new_value, PartsValue | PostedFile):
            # A file of the object's own (sluice.local.patches.s3_spool): adopted whole.
            self._value_buffer.close()
            self._value_buffer = new_value.file
            self.contentsize = len(new_value)
            return
        if (
            isinstance(new_value, bytes | bytearray | memoryview)
            and len(new_value) > self._max_buffer_size
        ):
            # SpooledTemporaryFile.write would copy it all into memory first and
            # then roll the copy over to disk; go to file at once (tmpfs if memory
            # allows: s3_spool).
            self._value_buffer.close()
            self._value_buffer = spooled_copy(self._max_buffer_size, new_value)
            self.contentsize = len(new_value)
            if self._etag is None:
                # moto would read the file back from disk for it; the bytes are here.
                self._etag = md5_hash(new_value).hexdigest()
            return
        assert value.fset is not None
        value.fset(self, new_value)

    return value.setter(set_value)


def _complete_part_by_part(
    complete: Callable[[FakeMultipart, Iterator[tuple[int, str]]], _Completed],
) -> Callable[[FakeMultipart, Iterator[tuple[int, str]]], _Completed]:
    def complete_by_parts(self: FakeMultipart, body: Iterator[tuple[int, str]]) -> _Completed:
        builder = MultipartChecksumBuilder(
            self.metadata.get("x-amz-checksum-algorithm"),
            self.metadata.get("x-amz-checksum-type"),
        )
        if builder.checksum_type != "COMPOSITE" and not _incremental_checksum_exact(
            builder.checksum_algorithm
        ):
            return complete(self, body)
        return _complete_by_parts(self, body, builder)

    return complete_by_parts


def _key_blocks(key: FakeKey) -> Iterator[bytes]:
    size = int(key.size)
    for start in range(0, size, BLOCK_BYTES):
        yield read_key_range(key, start, min(BLOCK_BYTES, size - start))


class PartsValue:
    """A completed multipart upload's value: its parts joined in a file of their own.

    moto disposes of the parts as soon as ``complete`` returns, so they are copied
    (block by block) here; storing the value then adopts this file as the object's.
    """

    def __init__(self, parts: list[FakeKey], checksum: _IncrementalChecksum | None) -> None:
        self._size = sum(int(part.size) for part in parts)
        # The file outlives this call: it becomes the stored object's buffer.
        self.file: Any = spooled_file(get_s3_default_key_buffer_size(), self._size)
        for part in parts:
            for block in _key_blocks(part):
                self.file.write(block)
                if checksum is not None:
                    checksum.update(block)

    def __len__(self) -> int:
        return self._size


class _IncrementalChecksum:
    """moto's ``compute_checksum(whole, algorithm)`` (base64), fed a block at a time.

    Only for the algorithms where that is exact (``_incremental_checksum_exact``): CRC32
    (and CRC32C / CRC64NVME, which moto computes as CRC32 when their optional libraries
    are missing), SHA1, and SHA256 for any other name, as ``compute_checksum`` does.
    """

    def __init__(self, algorithm: str) -> None:
        self._crc: int | None = None
        self._hash: Any = None
        if algorithm in ("CRC32", "CRC32C", "CRC64NVME"):
            self._crc = 0
        elif algorithm == "SHA1":
            self._hash = hashlib.sha1(usedforsecurity=False)
        else:
            self._hash = hashlib.sha256(usedforsecurity=False)

    def update(self, block: bytes) -> None:
        if self._crc is not None:
            self._crc = binascii.crc32(block, self._crc)
        else:
            self._hash.update(block)

    def base64(self) -> str:
        crc = self._crc
        digest = crc.to_bytes(4, "big") if crc is not None else self._hash.digest()
        return binascii.b2a_base64(digest, newline=False).decode()


def _incremental_checksum_exact(algorithm: str) -> bool:
    """Whether ``_IncrementalChecksum`` gives exactly what ``compute_checksum`` would."""
    if algorithm == "CRC32C":
        return importlib.util.find_spec("crc32c") is None  # moto falls back to CRC32
    if algorithm == "CRC64NVME":
        return not HAS_CRT  # moto falls back to CRC32
    return True


def _complete_by_parts(
    multipart: FakeMultipart, body: Iterator[tuple[int, str]], builder: MultipartChecksumBuilder
) -> tuple[PartsValue, str, tuple[str, str, int] | None]:
    """``FakeMultipart.complete`` without joining the parts: the same checks, ETag and checksum."""
    decode_hex = codecs.getdecoder("hex_codec")
    md5s = bytearray()
    parts: list[FakeKey] = []
    last: FakeKey | None = None
    for part_number, etag in body:
        part = multipart.parts.get(part_number)
        part_etag = None
        if part is not None:
            part_etag = part.etag.replace('"', "")
            etag = etag.replace('"', "")
        if part is None or part_etag != etag:
            raise InvalidPart()
        if last is not None and last.contentsize < s3_models.S3_UPLOAD_PART_MIN_SIZE:
            raise EntityTooSmall()
        md5s.extend(decode_hex(part_etag)[0])  # type: ignore[arg-type]
        parts.append(part)
        last = part
    if not parts:
        raise MalformedXML
    full_etag = md5_hash()
    full_etag.update(bytes(md5s))
    etag = f"{full_etag.hexdigest()}-{len(parts)}"
    if builder.checksum_type == "COMPOSITE":
        for part in parts:
            builder.addPart(part.value)  # one part at a time, as moto does
        return PartsValue(parts, None), etag, builder.build()
    whole = _IncrementalChecksum(builder.checksum_algorithm)
    value = PartsValue(parts, whole)  # the checksum is computed as the parts are copied
    return value, etag, (builder.checksum_type, whole.base64(), 1)


__all__ = ["PartsValue", "install", "installed", "uninstall"]
