"""What an upload is, told by its first bytes, and turning it into UTF-8 CSV text.

An upload may be compressed (gzip, bzip2, zstd, or a zip archive of one file), told by
its magic number whatever it was called; its text may be UTF-16 with a byte-order mark,
or in an encoding the dataset's settings declare. ``ingest.prepare_step`` streams such a
file through these functions into a UTF-8 copy that the rest of the pipeline reads.
A file that looks like something else (a PDF, a workbook, an image, binary data) is
refused with a reason that says what it looks like.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from typing import Literal

from sluice.csv.ranges import CsvError

SNIFF_BYTES = 64 * 1024
"""How much of the head (after decompression) is looked at to tell what a file is."""

Compression = Literal["gzip", "bz2", "zstd", "zip"]

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")

_BZ2 = re.compile(rb"BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")

COMPRESSION_NAMES: dict[Compression, str] = {
    "gzip": "gzip",
    "bz2": "bzip2",
    "zstd": "zstd",
    "zip": "zip",
}

# Formats told by their first bytes: (magic, what the file looks like).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document (starts with %PDF)"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a Microsoft Office 97-2003 document (an Excel .xls or Word .doc file)",
    ),
    (b"PAR1", "a Parquet file (starts with PAR1)"),
    (b"ARROW1", "an Arrow IPC file (starts with ARROW1)"),
    (b"ORC", "an ORC file (starts with ORC)"),
    (b"Obj\x01", "an Avro file (starts with Obj)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (not supported: use gzip, bzip2, zstd or zip)"),
    (b"Rar!\x1a\x07", "a RAR archive (not supported: use gzip, bzip2, zstd or zip)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (not supported: use gzip, bzip2, zstd or zip)"),
    (b"\x04\x22\x4d\x18", "an LZ4-compressed file (not supported: use gzip, bzip2, zstd or zip)"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"PK\x05\x06", "an empty zip archive"),
)


def compression_of(head: bytes) -> Compression | None:
    """The compression the first bytes of a file announce, or None."""
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if _BZ2.match(head):
        return "bz2"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def looks_like(head: bytes, wide: bool = False) -> str | None:
    """What the head of a file looks like when it is not CSV text, in words; None when it
    may be text. ``wide``: the text is in an encoding of several bytes a character
    (UTF-16), whose NUL bytes are no sign of binary data. Compressed files are not
    described here (``compression_of`` tells them)."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[257:262] == b"ustar":
        return "a tar archive (not supported: use gzip, bzip2, zstd or zip)"
    nul = head.find(b"\x00")
    if nul != -1 and not wide:
        even, odd = head[0:4096:2], head[1:4096:2]
        if len(odd) < 4:  # too little to tell UTF-16 by
            odd = even = b""
        if head.startswith(_UTF32_BOMS):
            return "UTF-32 text (not supported: save the file as UTF-8)"
        if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "UTF-16 (little-endian) text without a byte-order mark: declare utf-16-le"
        if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "UTF-16 (big-endian) text without a byte-order mark: declare utf-16-be"
        return f"binary data (a NUL byte at byte {nul})"
    return None


def encoding_of(head: bytes, declared: str | None) -> str | None:
    """The encoding to transcode the text from, None when it is UTF-8 already.

    A byte-order mark says what the text is, whatever the settings declare: UTF-16's
    is transcoded (the mark dropped), UTF-8's kept (the header reader skips it). Without
    one, a declared encoding other than UTF-8 is transcoded."""
    if head.startswith(_UTF32_BOMS):
        return None  # refused by looks_like: its NUL bytes
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    if head.startswith(UTF8_BOM) or declared is None:
        return None
    if codecs.lookup(declared).name == "utf-8":
        return None
    return declared


def check_text(head: bytes, encoding: str | None, what: str = "the file") -> None:
    """Raise :class:`CsvError` saying what the file looks like unless its head may be text
    (UTF-16's NUL bytes are text; a byte a declared encoding lacks fails in the decoder)."""
    wide = encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    looks = looks_like(head, wide)
    if looks is not None:
        raise CsvError(f"{what} is not CSV text: it looks like {looks}")


def transcoded(blocks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """The text of ``blocks`` (in ``encoding``) as UTF-8, block by block; a byte the
    encoding has no character for fails, naming the encoding and the byte's offset."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    for block in blocks:
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:
            raise _not_in(encoding, offset + exc.start) from exc
        offset += len(block)
        if text:
            yield text.encode("utf-8")
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_in(encoding, offset - len(exc.object) + exc.start) from exc
    if tail:
        yield tail.encode("utf-8")


def _not_in(encoding: str, byte: int) -> CsvError:
    return CsvError(
        f"the text is not valid {encoding} (byte {byte} of the file's text): "
        "declare the file's encoding in the dataset's settings, or save it as UTF-8"
    )


def read_head(blocks: Iterator[bytes], size: int = SNIFF_BYTES) -> tuple[bytes, Iterator[bytes]]:
    """The first ``size`` bytes (or all, if fewer) of ``blocks``, and every block again."""
    taken: list[bytes] = []
    held = 0
    for block in blocks:
        taken.append(block)
        held += len(block)
        if held >= size:
            break
    head = b"".join(taken)

    def again() -> Iterator[bytes]:
        if head:
            yield head
        yield from blocks

    return head[:size], again()
