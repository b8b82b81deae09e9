"""Make moto's S3 read and write large objects without needless copies.

moto keeps each object's bytes in a ``SpooledTemporaryFile`` (a file on disk once
it is over ~5 MiB) and answers every GET with ``FakeKey.value``, which reads the
whole file into memory; a ranged GET then slices that copy. Sixteen chunk scans of
a 1 GiB upload each read the whole GiB to send 64 MiB. Storing a large object
first fills an in-memory buffer with all of it and then copies that to the file.

``install()`` changes three things, keeping every response byte-identical (moto's
own ``_handle_range_header`` still decides status, Content-Range, Content-Length,
which headers to drop and which ranges are unsatisfiable):

- a ranged GET hands moto a lazy view of the object; moto's slicing of that view
  seeks and reads only the requested bytes of the key's file, under the key's lock;
- a GET of a whole object through the server streams the file in blocks instead
  of reading it whole (only with the WSGI server, where a body may be an iterable);
- storing a value larger than the in-memory limit writes it straight to the file.

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from moto.s3.models import FakeKey
from moto.s3.responses import S3Response

STREAM_BLOCK_BYTES = 8 * 1024 * 1024
"""Block size for streaming a whole object to a client."""

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
        _originals.update(
            get_object=original_get_object,
            _handle_range_header=original_range,
            value=original_value,
        )

        def get_object(self: S3Response) -> Any:
            lazy = _lazy_body_wanted(self)
            if lazy is None:
                return original_get_object(self)
            # get_object ends in ``return 200, headers, key.value``: hand it a key whose
            # value is a lazy view, for this request only (an S3Response is per request).
            get_key = self._get_key

            def lazy_get_key(*args: Any, **kwargs: Any) -> tuple[Any, bool]:
                key, not_modified = get_key(*args, **kwargs)
                return _LazyValueKey(key, lazy), not_modified

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

        def set_value(self: FakeKey, new_value: bytes) -> None:
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
                return
            assert original_value.fset is not None
            original_value.fset(self, new_value)

        for function in (get_object, handle_range_header, set_value):
            setattr(function, _MARK, True)
        S3Response.get_object = get_object  # type: ignore[method-assign]
        S3Response._handle_range_header = handle_range_header  # type: ignore[method-assign]
        FakeKey.value = original_value.setter(set_value)  # type: ignore[assignment]


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    with _install_lock:
        if not _originals:
            return
        S3Response.get_object = _originals["get_object"]  # type: ignore[method-assign]
        S3Response._handle_range_header = _originals["_handle_range_header"]  # type: ignore[method-assign]
        FakeKey.value = _originals["value"]  # type: ignore[method-assign]
        _originals.clear()


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return bool(getattr(S3Response.get_object, _MARK, False))


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


class ObjectBytes:
    """A stored object's bytes, read on demand: ``len()``, slicing and iteration.

    moto's ``_handle_range_header`` only takes ``len()`` of the body and slices it;
    iterating streams the whole object in blocks (a WSGI response body).
    """

    __slots__ = ("_key", "_size")

    def __init__(self, key: FakeKey) -> None:
        self._key = key
        self._size = int(key.size)

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __getitem__(self, item: slice) -> bytes:
        if not isinstance(item, slice):
            raise TypeError("ObjectBytes supports slices only")
        start, stop, step = item.indices(self._size)
        if step != 1:
            return self.read_all()[item]
        return read_key_range(self._key, start, stop - start)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, self._size, STREAM_BLOCK_BYTES):
            yield read_key_range(self._key, start, min(STREAM_BLOCK_BYTES, self._size - start))

    def read_all(self) -> bytes:
        value: bytes = self._key.value
        return value


class _LazyValueKey:
    """A FakeKey whose ``value`` is an ObjectBytes view; everything else is the key's."""

    def __init__(self, key: FakeKey, mode: str) -> None:
        self._sluice_key = key
        self._sluice_mode = mode

    @property
    def value(self) -> Any:
        key = self._sluice_key
        if self._sluice_mode == "stream" and key.size < STREAM_MIN_BYTES:
            return key.value
        return ObjectBytes(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sluice_key, name)
