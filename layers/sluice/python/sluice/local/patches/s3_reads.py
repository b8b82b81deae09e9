"""Make moto's S3 answer a GET without reading the whole object into memory.

moto keeps each object's bytes in a ``SpooledTemporaryFile`` (a file on disk once it
is over ~5 MiB) and answers every GET with ``FakeKey.value``, which reads the whole
file into memory; a ranged GET then slices that copy. Sixteen chunk scans of a 1 GiB
upload each read the whole GiB to send 64 MiB.

``install()`` changes two things and keeps every answer byte-identical (moto's own
``_handle_range_header`` still decides status, Content-Range, Content-Length, which
headers to drop and which ranges are unsatisfiable; ETags are moto's):

- a ranged GET hands moto a lazy view of the object; moto's slicing of that view
  seeks and reads only the requested bytes of the key's file, under the key's lock
  (through the server, a range of 16 MiB or more is streamed in blocks, as a whole
  object is: one 64 MiB bytes object per GET faulted in 16,000 fresh pages);
- a GET of a whole object of 16 MiB or more through the server streams the file in
  blocks instead of reading it whole (only with the WSGI server, where a body may be
  an iterable).

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from moto.s3.models import FakeKey
from moto.s3.responses import S3Response

from sluice.local.patches.replace import replace_once, replaced, restore

BLOCK_BYTES = 8 * 1024 * 1024
"""Block size for streaming an object to a client (and for copying parts, s3_writes)."""

STREAM_MIN_BYTES = 16 * 1024 * 1024
"""Whole objects at least this large are streamed; smaller ones are sent as bytes."""

_PATCHED = ("_handle_range_header", "get_object")
"""In the order installed: a lazy body is never handed to moto's own range handling."""


def install() -> None:
    """Patch moto's S3 GETs for large objects. Safe to call more than once."""
    replace_once(S3Response, "_handle_range_header", _whole_when_moto_falls_back)
    replace_once(S3Response, "get_object", _lazy_bodies)


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    for name in reversed(_PATCHED):
        restore(S3Response, name)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return all(replaced(S3Response, name) for name in _PATCHED)


def _lazy_bodies(get_object: Callable[[S3Response], Any]) -> Callable[[S3Response], Any]:
    def lazy_get_object(self: S3Response) -> Any:
        lazy = _lazy_body_wanted(self)
        if lazy is None:
            return get_object(self)
        # get_object ends in ``return 200, headers, key.value``: hand it a key whose
        # value is a lazy view, for this request only (an S3Response is per request).
        get_key = self._get_key
        streams = bool(self.normalized_request.from_wsgi_server)

        def lazy_get_key(*args: Any, **kwargs: Any) -> tuple[Any, bool]:
            key, not_modified = get_key(*args, **kwargs)
            return _LazyValueKey(key, lazy, streams), not_modified

        self._get_key = lazy_get_key  # type: ignore[method-assign]
        try:
            return get_object(self)
        finally:
            del self._get_key

    return lazy_get_object


def _whole_when_moto_falls_back(handle_range_header: Callable[..., Any]) -> Callable[..., Any]:
    def handle(
        self: S3Response, request: Any, response_headers: dict[str, Any], response_content: Any
    ) -> Any:
        status, headers, content = handle_range_header(
            self, request, response_headers, response_content
        )
        if isinstance(content, ObjectBytes):
            # moto fell back to the whole object (several ranges, an unparsable one).
            content = content.read_all()
        return status, headers, content

    return handle


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
        return _read_locked(key, start, length)


def _read_locked(key: FakeKey, start: int, length: int) -> bytes:
    """:func:`read_key_range` for a caller that holds the key's lock (not reentrant)."""
    buffer = key._value_buffer
    buffer.seek(start)
    data: bytes = buffer.read(length)
    return data


def _duplicate_file(key: FakeKey) -> int | None:
    """A duplicate descriptor of the file holding ``key``'s bytes (which outlives moto's
    closing it on a replace or delete), or None while they are in memory. The caller
    holds the key's lock."""
    buffer = key._value_buffer
    if not getattr(buffer, "_rolled", False):
        return None
    buffer.flush()
    return os.dup(buffer.fileno())


def _stream_blocks(key: FakeKey, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The key's bytes [start, start + length) in blocks (to its end when ``length`` is
    None), still readable if the key is replaced meanwhile.

    moto closes an object's file as soon as a PUT replaces it or it is deleted, while a
    streamed response may still be reading it: read through a duplicate descriptor of
    the file (positioned reads, so nothing else's file position moves).
    """
    with _key_lock(key):
        end = int(key.size) if length is None else start + length
        fd = _duplicate_file(key)
        if fd is None:  # still in memory: small, read as bytes
            data = _read_locked(key, start, end - start) if end > start else b""
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

    def file_range(self) -> tuple[int, int, int] | None:
        """(a duplicate descriptor of the object's file, start, length), for a server to
        send the range from the file itself (``sendfile``), still readable if the key is
        replaced meanwhile; None while the object is in memory. The caller closes it."""
        with _key_lock(self._key):
            fd = _duplicate_file(self._key)
        return None if fd is None else (fd, self._start, self._length)


class ObjectBytes:
    """A stored object's bytes, read on demand: ``len()``, slicing and iteration.

    moto's ``_handle_range_header`` only takes ``len()`` of the body and slices it;
    iterating streams the whole object in blocks (a WSGI response body), from the
    object as it was when the stream started. With ``streams`` (a WSGI server, where a
    body may be an iterable) a slice of at least ``STREAM_MIN_BYTES`` is a
    :class:`RangeBlocks`, streamed too.
    """

    __slots__ = ("_key", "_size", "_stream_min", "_streams")

    def __init__(
        self, key: FakeKey, streams: bool = False, stream_min: int = STREAM_MIN_BYTES
    ) -> None:
        self._key = key
        self._size = int(key.size)
        self._streams = streams
        self._stream_min = stream_min

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
        if self._streams and stop - start >= self._stream_min:
            return RangeBlocks(self._key, start, stop - start)
        return read_key_range(self._key, start, stop - start)

    def __iter__(self) -> Iterator[bytes]:
        return _stream_blocks(self._key)

    def file_range(self) -> tuple[int, int, int] | None:
        """The whole object as :meth:`RangeBlocks.file_range` gives a range of it."""
        return RangeBlocks(self._key, 0, self._size).file_range()

    def read_all(self) -> bytes:
        value: bytes = self._key.value
        return value


def lazy_value(
    key: FakeKey, mode: str, streams: bool = False, stream_min: int = STREAM_MIN_BYTES
) -> Any:
    """The body moto's ``get_object`` sends for ``key`` with this patch: for a ranged GET
    ("range") an :class:`ObjectBytes` view, for a whole one ("stream") its bytes, or a
    view streamed in blocks when it is ``stream_min`` bytes or more (``streams``: through
    the WSGI server)."""
    return _LazyValueKey(key, mode, streams, stream_min).value


class _LazyValueKey:
    """A FakeKey whose ``value`` is an ObjectBytes view; everything else is the key's."""

    def __init__(
        self, key: FakeKey, mode: str, streams: bool = False, stream_min: int = STREAM_MIN_BYTES
    ) -> None:
        self._sluice_key = key
        self._sluice_mode = mode
        self._sluice_streams = streams
        self._sluice_stream_min = stream_min

    @property
    def value(self) -> Any:
        key = self._sluice_key
        if self._sluice_mode == "stream" and key.size < self._sluice_stream_min:
            return key.value
        return ObjectBytes(key, streams=self._sluice_streams, stream_min=self._sluice_stream_min)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sluice_key, name)


__all__ = [
    "BLOCK_BYTES",
    "STREAM_MIN_BYTES",
    "ObjectBytes",
    "RangeBlocks",
    "install",
    "installed",
    "lazy_value",
    "read_key_range",
    "uninstall",
]
