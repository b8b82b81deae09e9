"""source_format: telling compressed files, encodings and binaries by their first bytes,
and transcoding text block by block."""

from __future__ import annotations

import bz2
import gzip

import pytest
from sluice.csv.ranges import CsvError
from sluice.csv.source_format import (
    check_text,
    compression_of,
    encoding_of,
    looks_like,
    read_head,
    transcoded,
)


@pytest.mark.parametrize(
    ("head", "compression"),
    [
        (gzip.compress(b"a\n", mtime=0), "gzip"),  # mtime=0: the same test id every run
        (bz2.compress(b"a\n"), "bz2"),
        (bz2.compress(b""), "bz2"),
        (b"\x28\xb5\x2f\xfd\x00", "zstd"),
        (b"PK\x03\x04rest", "zip"),
        (b"BZh,name\n", None),  # a header that starts like bzip2's magic
        (b"id,name\n", None),
    ],
)
def test_compression_is_told_by_its_magic_number(head: bytes, compression: str | None) -> None:
    assert compression_of(head) == compression


def test_a_bom_says_the_encoding_whatever_is_declared() -> None:
    assert encoding_of(b"\xff\xfei\x00", None) == "utf-16"
    assert encoding_of(b"\xfe\xff\x00i", "latin-1") == "utf-16"
    assert encoding_of(b"\xef\xbb\xbfid", "cp1252") is None
    assert encoding_of(b"id", "cp1252") == "cp1252"
    assert encoding_of(b"id", "utf8") is None
    assert encoding_of(b"id", None) is None


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"%PDF-1.5", "a PDF document (starts with %PDF)"),
        (b"PAR1\x00", "a Parquet file (starts with PAR1)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office 97-2003 document"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"\xfd7zXZ\x00\x00", "an xz-compressed file"),
        (b"a,b\n1,\x002", "binary data (a NUL byte at byte 6)"),
        ("id,name\n".encode("utf-16-le"), "UTF-16 (little-endian) text without a byte-order"),
        ("id,name\n".encode("utf-16-be"), "UTF-16 (big-endian) text without a byte-order"),
    ],
)
def test_what_a_binary_looks_like(head: bytes, what: str) -> None:
    assert (looks_like(head) or "").startswith(what)


def test_text_looks_like_nothing_else() -> None:
    assert looks_like(b"id,name\n1,Zo\xc3\xab\n") is None
    assert looks_like("id\n".encode("utf-16-le"), wide=True) is None


def test_check_text_names_the_file_and_lets_utf16_through() -> None:
    with pytest.raises(CsvError, match=r"^the gzip file's content is not CSV text: it looks like"):
        check_text(b"%PDF", None, "the gzip file's content")
    check_text("id\n".encode("utf-16"), "utf-16")
    with pytest.raises(CsvError, match="binary data"):
        check_text(b"a\x00b", "cp1252")
    with pytest.raises(CsvError, match="binary data"):
        check_text(b"id,name\n1,\x002,3\n", "cp1252")


def test_transcoding_splits_characters_across_blocks() -> None:
    text = "id,name\nZoë,Ærø €\n" * 3
    body = text.encode("utf-16")
    blocks = [body[i : i + 3] for i in range(0, len(body), 3)]
    assert b"".join(transcoded(blocks, "utf-16")) == text.encode("utf-8")
    assert b"".join(transcoded([text.encode("cp1252")], "cp1252")) == text.encode("utf-8")


def test_a_byte_the_encoding_lacks_fails_naming_its_offset() -> None:
    with pytest.raises(CsvError, match=r"not valid cp1252 \(byte 5 of"):
        list(transcoded([b"ab", b"cde\x81"], "cp1252"))
    with pytest.raises(CsvError, match="not valid utf-16"):
        list(transcoded([b"\xff\xfea\x00b"], "utf-16"))


def test_read_head_gives_the_head_and_every_block_again() -> None:
    head, blocks = read_head(iter([b"abc", b"def", b"ghi"]), 4)
    assert head == b"abcd"
    assert b"".join(blocks) == b"abcdefghi"
    head, blocks = read_head(iter([]), 4)
    assert (head, list(blocks)) == (b"", [])
