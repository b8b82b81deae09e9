"""sluice.local.patches.s3_spool: large objects' files go to tmpfs while memory allows."""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from sluice.local.patches import s3_spool, s3_writes

from tests.unit.local.s3_server import own_bucket

GIB = 1024**3
LARGE = random.Random(7).randbytes(6 * 1024 * 1024)  # past moto's 5 MB in-memory limit


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[tuple[Any, str]]:
    s3_writes.install()
    with own_bucket() as (client, bucket):
        yield client, bucket


def _file_of(bucket: str, key: str) -> str:
    """Where the server keeps an object's bytes: its file's path (the server runs in
    this process; the file is unlinked, so its name ends in " (deleted)")."""
    stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[bucket].keys[key]
    return os.readlink(f"/proc/self/fd/{stored._value_buffer.fileno()}")


def test_an_object_goes_to_tmpfs_while_the_memory_after_it_stays_above_the_reserve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, str(tmp_path))
    total = 16 * GIB  # reserve: a quarter, 4 GiB
    room = 64 * GIB
    assert s3_spool.spool_folder(GIB, (total, 5 * GIB), room) == str(tmp_path)
    assert s3_spool.spool_folder(GIB + 1, (total, 5 * GIB), room) is None
    assert s3_spool.spool_folder(1) in (str(tmp_path), None)  # read from the machine


def test_an_object_goes_to_disk_when_the_tmpfs_folder_lacks_room_for_it_and_a_margin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, str(tmp_path))
    plenty = (64 * GIB, 64 * GIB)
    room = 64 * 1024**2 + s3_spool.FREE_MARGIN_BYTES  # a container's /dev/shm, say
    assert s3_spool.spool_folder(64 * 1024**2, plenty, room) == str(tmp_path)
    assert s3_spool.spool_folder(64 * 1024**2 + 1, plenty, room) is None


def test_a_copy_that_fills_the_tmpfs_goes_to_disk_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(s3_spool, "memory", lambda: (16 * GIB, 16 * GIB))
    real = s3_spool.spooled_file

    def full(max_size: int, size: int) -> Any:
        spooled = real(max_size, size)
        spooled._file.write = lambda data: (_ for _ in ()).throw(OSError(28, "No space left"))
        return spooled

    monkeypatch.setattr(s3_spool, "spooled_file", full)
    copy = s3_spool.spooled_copy(1024, LARGE)
    path = os.readlink(f"/proc/self/fd/{copy.fileno()}")
    assert not path.startswith(str(tmp_path))
    copy.seek(0)
    assert copy.read() == LARGE


def test_the_reserve_is_a_quarter_of_the_memory_and_at_least_2_gib() -> None:
    assert s3_spool.reserve_bytes(16 * GIB) == 4 * GIB
    assert s3_spool.reserve_bytes(4 * GIB) == 2 * GIB


def test_an_empty_spool_folder_setting_keeps_every_object_on_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, "")
    assert s3_spool.spool_folder(1, (64 * GIB, 64 * GIB)) is None


def test_memory_reads_total_and_available_bytes_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683588 kB\nMemFree: 1 kB\nMemAvailable:   17800000 kB\n")
    assert s3_spool.memory(str(meminfo)) == (24683588 * 1024, 17800000 * 1024)
    meminfo.write_text("MemTotal: 5 kB\n")
    assert s3_spool.memory(str(meminfo)) is None
    assert s3_spool.memory(str(tmp_path / "missing")) is None


def test_a_large_object_is_stored_in_the_spool_folder_with_its_bytes_and_etag(
    s3_bucket: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, bucket = s3_bucket
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(s3_spool, "memory", lambda: (16 * GIB, 16 * GIB))
    answer = client.put_object(Bucket=bucket, Key="in-memory", Body=LARGE)
    assert _file_of(bucket, "in-memory").startswith(str(tmp_path) + "/")
    assert answer["ETag"] == f'"{hashlib.md5(LARGE).hexdigest()}"'
    assert client.get_object(Bucket=bucket, Key="in-memory")["Body"].read() == LARGE
    ranged = client.get_object(Bucket=bucket, Key="in-memory", Range="bytes=100-199")
    assert ranged["Body"].read() == LARGE[100:200]


def test_a_large_object_goes_to_disk_when_memory_is_short(
    s3_bucket: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, bucket = s3_bucket
    monkeypatch.setenv(s3_spool.SPOOL_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(s3_spool, "memory", lambda: (16 * GIB, 4 * GIB))
    client.put_object(Bucket=bucket, Key="on-disk", Body=LARGE)
    assert _file_of(bucket, "on-disk").startswith(tempfile.gettempdir() + "/")
    assert not _file_of(bucket, "on-disk").startswith(str(tmp_path))
    assert client.get_object(Bucket=bucket, Key="on-disk")["Body"].read() == LARGE
