"""Read a large request body into one buffer instead of in 64 KiB pieces.

moto's server reads every request body with werkzeug's ``LimitedStream.readall``, which
reads 64 KiB at a time into a new bytes object, appends each to a growing bytearray and
copies that into bytes at the end. A 53 MB upload (one reducer's output) spends ~85 ms
of CPU on it, a third of what moto spends storing the object, and the embedded AWS
shares its cores with the workers. When the request says its length, ``install()``
has the socket's buffered reader fill one bytes object of that length.

werkzeug is pinned exactly (``pyproject.toml``) because this replaces one of its methods.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from werkzeug.wsgi import LimitedStream

from sluice.local.patches.replace import replace_once, replaced

MIN_BYTES = 1024 * 1024
"""Bodies at least this long are read into one buffer; shorter ones as werkzeug does."""


def _in_one_read(readall: Callable[[LimitedStream], bytes]) -> Callable[[LimitedStream], bytes]:
    def read_whole(self: LimitedStream) -> bytes:
        remaining = self.limit - self._pos
        stream = self._stream
        # Without a Content-Length the limit is only a maximum: werkzeug's way then.
        if self._limit_is_max or remaining < MIN_BYTES or not isinstance(stream, io.BufferedReader):
            return readall(self)
        try:
            # A buffered reader fills the one bytes object it returns.
            data = stream.read(remaining)
        except (OSError, ValueError) as error:
            self.on_disconnect(error=error)  # raises ClientDisconnected
            return b""
        self._pos += len(data)
        if len(data) < remaining:
            self.on_disconnect()  # the client went away mid-body
        return data

    return read_whole


def install() -> None:
    """Patch werkzeug's body reading for long bodies. Safe to call more than once."""
    replace_once(LimitedStream, "readall", _in_one_read)


def installed() -> bool:
    """Whether ``install()`` has patched werkzeug in this process."""
    return replaced(LimitedStream, "readall")


__all__ = ["MIN_BYTES", "install", "installed"]
