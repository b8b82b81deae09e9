"""Streaming whole S3 objects: reading one as a stream, writing one from blocks in parts."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
from boto3.s3.transfer import TransferConfig

from sluice import aws
from sluice.store.arrow_fs import s3_filesystem

PART_BYTES = 64 * 1024 * 1024
"""The size of each part of an object written from a stream (S3 takes 10,000 parts:
64 MiB parts carry objects up to 625 GiB)."""

READ_BYTES = 16 * 1024 * 1024
"""How much one ranged GET of a streamed read fetches."""


def open_stream(bucket: str, key: str) -> pa.NativeFile:
    """The object as a stream read front to back, ``READ_BYTES`` a GET."""
    raw = s3_filesystem().open_input_stream(f"{bucket}/{key}")
    return pa.BufferedInputStream(raw, READ_BYTES)


class _Counted(io.RawIOBase):
    """A readable over a stream that counts the bytes taken from it."""

    def __init__(self, stream: pa.NativeFile) -> None:
        self._stream = stream
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        block = self._stream.read(len(buffer))
        size = len(block)
        memoryview(buffer).cast("B")[:size] = block
        self.taken += size
        return size


def counted(stream: pa.NativeFile) -> tuple[pa.NativeFile, Callable[[], int]]:
    """``stream`` read through a count, and a function that tells how many of its bytes
    were read so far: a buffered stream (``open_stream``'s) cannot ``tell()`` ("only
    valid on seekable files"), and a reader of it, such as a decompressor, may want to
    say how far into the object it is. One Python call per block the reader asks for."""
    reader = _Counted(stream)
    return pa.PythonFile(reader, mode="r"), lambda: reader.taken


def open_file(bucket: str, key: str) -> pa.NativeFile:
    """The object as a seekable file (each read a ranged GET), for a zip's directory."""
    return s3_filesystem().open_input_file(f"{bucket}/{key}")


class _Blocks(io.RawIOBase):
    """A readable over an iterator of byte blocks, as boto3's transfer manager reads."""

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks: Iterator[bytes] = iter(blocks)
        self._held = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = None if size is None or size < 0 else size
        pieces, held = [self._held], len(self._held)
        while wanted is None or held < wanted:
            block = next(self._blocks, None)
            if block is None:
                break
            pieces.append(block)
            held += len(block)
        joined = b"".join(pieces)
        if wanted is None:
            self._held = b""
            return joined
        self._held = joined[wanted:]
        return joined[:wanted]


def put_blocks(
    bucket: str, key: str, blocks: Iterable[bytes], content_type: str, part_bytes: int = PART_BYTES
) -> tuple[int, str]:
    """Write the object ``key`` from ``blocks`` in parts of ``part_bytes`` (two in flight
    while the next is made); its size and ETag. An exception raised by ``blocks`` aborts
    the upload, leaving no object and no parts."""
    config = TransferConfig(
        multipart_threshold=part_bytes, multipart_chunksize=part_bytes, max_concurrency=2
    )
    s3 = aws.client("s3")
    s3.upload_fileobj(
        _Blocks(blocks), bucket, key, ExtraArgs={"ContentType": content_type}, Config=config
    )
    head = s3.head_object(Bucket=bucket, Key=key)
    return int(head["ContentLength"]), str(head["ETag"]).strip('"')
