"""Bytes to and from presigned S3 URLs, reporting progress as they go."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import requests

from sluice.client.errors import ClientError

OnBytes = Callable[[int], None]
"""Told of each block of bytes sent or received (a negative count takes back bytes of a
request that failed and will be sent again)."""

BLOCK = 256 * 1024
TIMEOUT_S = 300.0


def _ignore(_: int) -> None:
    return None


class CountingReader(io.BytesIO):
    """A body that tells ``on_bytes`` of each block as ``requests`` reads it to send, so
    that a bar follows the bytes on the wire rather than jumping when a request ends."""

    def __init__(self, data: bytes, on_bytes: OnBytes) -> None:
        super().__init__(data)
        self.on_bytes = on_bytes
        self.sent = 0

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(BLOCK if size is None or size < 0 else min(size, BLOCK))
        self.sent += len(block)
        self.on_bytes(len(block))
        return block


def download(url: str, target: Path, on_bytes: OnBytes = _ignore) -> int:
    """Stream ``url`` into ``target`` (written to a .part file, renamed when whole); its
    size."""
    partial = target.with_name(target.name + ".part")
    written = 0
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as answer:
            if answer.status_code != 200:
                raise ClientError(f"download of {target.name} failed: HTTP {answer.status_code}")
            with partial.open("wb") as out:
                for block in answer.iter_content(BLOCK):
                    out.write(block)
                    written += len(block)
                    on_bytes(len(block))
    except requests.RequestException as error:
        raise ClientError(f"download of {target.name} failed: {error}") from error
    partial.replace(target)
    return written
