"""Make moto's S3 read and write large objects without needless copies, and its
server route requests without listing its own package each time.

moto keeps each object's bytes in a ``SpooledTemporaryFile`` (a file on disk once it
is over ~5 MiB) and answers every GET with ``FakeKey.value``, which reads the whole
file into memory; a ranged GET then slices that copy. Sixteen chunk scans of a 1 GiB
upload each read the whole GiB to send 64 MiB. Storing a large object first fills an
in-memory buffer with all of it and then copies that to the file, and completing a
multipart upload joins every part in memory three times over before storing it.

``install()`` changes five things and keeps every answer byte-identical (moto's own
``_handle_range_header`` still decides status, Content-Range, Content-Length, which
headers to drop and which ranges are unsatisfiable; ETags and checksums are moto's):

- a ranged GET hands moto a lazy view of the object; moto's slicing of that view
  seeks and reads only the requested bytes of the key's file, under the key's lock
  (through the server, a range of 16 MiB or more is streamed in blocks, as a whole
  object is: one 64 MiB bytes object per GET faulted in 16,000 fresh pages);
- a GET of a whole object of 16 MiB or more through the server streams the file in
  blocks instead of reading it whole (only with the WSGI server, where a body may be
  an iterable);
- storing a value larger than the in-memory limit writes it straight to the file;
- completing a multipart upload copies the parts into the new object's file block by
  block and computes a full-object checksum incrementally, instead of joining them
  in memory three times (moto's own code still runs for a CRC32C or CRC64NVME
  full-object checksum when the optional library moto would use for it is installed);
- the list of moto's service modules, which the server builds from a directory listing
  and ~150 ``isdir`` calls for every request it routes, is listed once and kept.

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import binascii
import codecs
import hashlib
import importlib.util
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from moto import backends
from moto.core.compat import HAS_CRT
from moto.s3 import models as s3_models
from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
from moto.s3.models import FakeKey, FakeMultipart, MultipartChecksumBuilder
from moto.s3.responses import S3Response
from moto.settings import get_s3_default_key_buffer_size
from moto.utilities.utils import md5_hash

BLOCK_BYTES = 8 * 1024 * 1024
"""Block size for streaming an object to a client and for copying parts."""

STREAM_MIN_BYTES = 16 * 1024 * 1024
"""Whole objects at least this large are streamed; smaller ones are sent as bytes."""

_MARK = "__sluice_moto_patch__"
_install_lock = threading.Lock()
_originals: dict[str, Any] = {}


def install() -> None:
    """Patch moto's S3 for large objects. Safe to call more than once."""
    with _install_lock:
        if getattr(S3Response.get_object, _MARK, False):
            return
        original_get_object = S3Response.get_object
        original_range = S3Response._handle_range_header
        original_value: property = vars(FakeKey)["value"]
        original_complete = FakeMultipart.complete
        original_modules = backends.list_of_moto_modules
        _originals.update(
            list_of_moto_modules=original_modules,
            get_object=original_get_object,
            _handle_range_header=original_range,
            value=original_value,
            complete=original_complete,
        )

        def get_object(self: S3Response) -> Any:
            lazy = _lazy_body_wanted(self)
            if lazy is None:
                return original_get_object(self)
            # get_object ends in ``return 200, headers, key.value``: hand it a key whose
            # value is a lazy view, for this request only (an S3Response is per request).
            get_key = self._get_key
            streams = bool(self.normalized_request.from_wsgi_server)

            def lazy_get_key(*args: Any, **kwargs: Any) -> tuple[Any, bool]:
                key, not_modified = get_key(*args, **kwargs)
                return _LazyValueKey(key, lazy, streams), not_modified

            self._get_key = lazy_get_key  # type: ignore[method-assign]
            try:
                return original_get_object(self)
            finally:
                del self._get_key

        def handle_range_header(
            self: S3Response, request: Any, response_headers: dict[str, Any], response_content: Any
        ) -> Any:
            status, headers, content = original_range(
                self, request, response_headers, response_content
            )
            if isinstance(content, ObjectBytes):
                # moto fell back to the whole object (several ranges, an unparsable one).
                content = content.read_all()
            return status, headers, content

        def set_value(self: FakeKey, new_value: Any) -> None:
            if isinstance(new_value, PartsValue):
                self._value_buffer.close()
                self._value_buffer = new_value.file
                self.contentsize = len(new_value)
                return
            if (
                isinstance(new_value, bytes | bytearray | memoryview)
                and len(new_value) > self._max_buffer_size
            ):
                # SpooledTemporaryFile.write would copy it all into memory first and
                # then roll the copy over to disk; go to disk at once.
                self._value_buffer.seek(0)
                self._value_buffer.truncate()
                self._value_buffer.rollover()
                self._value_buffer.write(new_value)
                self.contentsize = len(new_value)
                if self._etag is None:
                    # moto would read the file back from disk for it; the bytes are here.
                    self._etag = md5_hash(new_value).hexdigest()
                return
            assert original_value.fset is not None
            original_value.fset(self, new_value)

        def complete(
            self: FakeMultipart, body: Iterator[tuple[int, str]]
        ) -> tuple[Any, str, tuple[str, str, int] | None]:
            builder = MultipartChecksumBuilder(
                self.metadata.get("x-amz-checksum-algorithm"),
                self.metadata.get("x-amz-checksum-type"),
            )
            if builder.checksum_type != "COMPOSITE" and not _incremental_checksum_exact(
                builder.checksum_algorithm
            ):
                return original_complete(self, body)
            return _complete_by_parts(self, body, builder)

        modules = tuple(original_modules())  # moto's package does not change while it runs

        def list_of_moto_modules() -> tuple[str, ...]:
            return modules

        for function in (get_object, handle_range_header, set_value, complete):
            setattr(function, _MARK, True)
        backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
        S3Response.get_object = get_object  # type: ignore[method-assign]
        S3Response._handle_range_header = handle_range_header  # type: ignore[method-assign]
        FakeKey.value = original_value.setter(set_value)  # type: ignore[assignment]
        FakeMultipart.complete = complete  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    with _install_lock:
        if not _originals:
            return
        S3Response.get_object = _originals["get_object"]  # type: ignore[method-assign]
        S3Response._handle_range_header = _originals["_handle_range_header"]  # type: ignore[method-assign]
        FakeKey.value = _originals["value"]  # type: ignore[method-assign]
        FakeMultipart.complete = _originals["complete"]  # type: ignore[method-assign]
        backends.list_of_moto_modules = _originals["list_of_moto_modules"]
        _originals.clear()


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return bool(getattr(S3Response.get_object, _MARK, False))


# --- reads ---------------------------------------------------------------------------------


def _lazy_body_wanted(response: S3Response) -> str | None:
    """Which lazy body this GET may get: "range", "stream", or None for moto's own.

    Mirrors the checks around moto's ``get_object``: ``key_response`` hands the body
    to ``_handle_range_header`` when the status is 200 and a non-empty Range header
    was sent; a ``partNumber`` GET answers 206 itself with the whole value.
    """
    if response.method != "GET" or response._get_int_param("partNumber"):
        return None
    request = response.normalized_request
    if "range" in request.headers and request.headers["range"] != "":
        return "range"
    if request.from_wsgi_server:
        return "stream"
    return None


def _key_lock(key: FakeKey) -> AbstractContextManager[Any]:
    lock = getattr(key, "lock", None)
    return lock if lock is not None else nullcontext()


def read_key_range(key: FakeKey, start: int, length: int) -> bytes:
    """``length`` bytes of ``key``'s value from ``start``, without reading the rest."""
    if length <= 0:
        return b""
    with _key_lock(key):
        buffer = key._value_buffer
        buffer.seek(start)
        data: bytes = buffer.read(length)
    return data


def _key_blocks(key: FakeKey) -> Iterator[bytes]:
    size = int(key.size)
    for start in range(0, size, BLOCK_BYTES):
        yield read_key_range(key, start, min(BLOCK_BYTES, size - start))


def _stream_blocks(key: FakeKey, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The key's bytes [start, start + length) in blocks (to its end when ``length`` is
    None), still readable if the key is replaced meanwhile.

    moto closes an object's file as soon as a PUT replaces it or it is deleted, while a
    streamed response may still be reading it: read through a duplicate descriptor of
    the file (positioned reads, so nothing else's file position moves).
    """
    with _key_lock(key):
        buffer = key._value_buffer
        end = int(key.size) if length is None else start + length
        if not getattr(buffer, "_rolled", False):  # still in memory: small, read as bytes
            fd = None
            data = read_key_range(key, start, end - start)
        else:
            buffer.flush()
            fd = os.dup(buffer.fileno())
    if fd is None:
        if data:
            yield data
        return
    try:
        position = start
        while position < end:
            block = os.pread(fd, min(BLOCK_BYTES, end - position), position)
            if not block:
                raise OSError(f"object file ended at {position} of {end} bytes")
            position += len(block)
            yield block
    finally:
        os.close(fd)


class RangeBlocks:
    """A range of a stored object as a WSGI body: its length, and its bytes in blocks.

    Sent whole, a 64 MiB range would first be read into one new 64 MiB bytes object, whose
    pages (more than glibc serves from its heap) are faulted in afresh for every GET.
    """

    __slots__ = ("_key", "_length", "_start")

    def __init__(self, key: FakeKey, start: int, length: int) -> None:
        self._key, self._start, self._length = key, start, length

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __iter__(self) -> Iterator[bytes]:
        return _stream_blocks(self._key, self._start, self._length)


class ObjectBytes:
    """A stored object's bytes, read on demand: ``len()``, slicing and iteration.

    moto's ``_handle_range_header`` only takes ``len()`` of the body and slices it;
    iterating streams the whole object in blocks (a WSGI response body), from the
    object as it was when the stream started. With ``streams`` (a WSGI server, where a
    body may be an iterable) a slice of at least ``STREAM_MIN_BYTES`` is a
    :class:`RangeBlocks`, streamed too.
    """

    __slots__ = ("_key", "_size", "_streams")

    def __init__(self, key: FakeKey, streams: bool = False) -> None:
        self._key = key
        self._size = int(key.size)
        self._streams = streams

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __getitem__(self, item: slice) -> bytes | RangeBlocks:
        if not isinstance(item, slice):
            raise TypeError("ObjectBytes supports slices only")
        start, stop, step = item.indices(self._size)
        if step != 1:
            return self.read_all()[item]
        if self._streams and stop - start >= STREAM_MIN_BYTES:
            return RangeBlocks(self._key, start, stop - start)
        return read_key_range(self._key, start, stop - start)

    def __iter__(self) -> Iterator[bytes]:
        return _stream_blocks(self._key)

    def read_all(self) -> bytes:
        value: bytes = self._key.value
        return value


class _LazyValueKey:
    """A FakeKey whose ``value`` is an ObjectBytes view; everything else is the key's."""

    def __init__(self, key: FakeKey, mode: str, streams: bool = False) -> None:
        self._sluice_key = key
        self._sluice_mode = mode
        self._sluice_streams = streams

    @property
    def value(self) -> Any:
        key = self._sluice_key
        if self._sluice_mode == "stream" and key.size < STREAM_MIN_BYTES:
            return key.value
        return ObjectBytes(key, streams=self._sluice_streams)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sluice_key, name)


# --- writes --------------------------------------------------------------------------------


class PartsValue:
    """A completed multipart upload's value: its parts joined in a file of their own.

    moto disposes of the parts as soon as ``complete`` returns, so they are copied
    (block by block) here; storing the value then adopts this file as the object's.
    """

    def __init__(self, parts: list[FakeKey], checksum: _IncrementalChecksum | None) -> None:
        self._size = sum(int(part.size) for part in parts)
        limit = get_s3_default_key_buffer_size()
        # The file outlives this call: it becomes the stored object's buffer.
        self.file: Any = tempfile.SpooledTemporaryFile(limit)  # noqa: SIM115
        if self._size > limit:
            self.file.rollover()
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


__all__ = [
    "ObjectBytes",
    "PartsValue",
    "install",
    "installed",
    "read_key_range",
    "uninstall",
]
