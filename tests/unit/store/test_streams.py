"""streams.counted: how far a reader of a buffered (unseekable) stream has read."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest
from sluice.store import streams


def buffered(body: bytes) -> pa.NativeFile:
    """As ``open_stream`` gives an object: a buffered stream, which cannot tell()."""
    return pa.BufferedInputStream(pa.input_stream(pa.py_buffer(body)), 1024)


def test_a_buffered_stream_cannot_tell_its_position() -> None:
    with pytest.raises(OSError, match="only valid on seekable files"):
        buffered(b"abc").tell()


def test_counted_tells_how_much_of_the_stream_a_decompressor_read() -> None:
    text = b"id,name\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(50_000))
    packed = gzip.compress(text, compresslevel=1)
    raw, position = streams.counted(buffered(packed))
    stream = pa.CompressedInputStream(raw, "gzip")
    assert position() == 0
    first = stream.read(1000)
    assert first == text[:1000]
    assert 0 < position() <= len(packed)
    rest = stream.read()
    assert first + rest == text
    assert position() == len(packed)


def test_counted_reads_a_plain_stream_in_blocks() -> None:
    body = bytes(range(256)) * 100
    stream, position = streams.counted(buffered(body))
    assert stream.read(10) == body[:10]
    assert position() == 10
    blocks = [body[:10]]
    while block := stream.read(4096):
        blocks.append(block)
    assert b"".join(blocks) == body
    assert position() == len(body)
