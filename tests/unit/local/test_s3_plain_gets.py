"""sluice.local.patches.s3_plain_gets: a plain object GET is answered before Flask, byte
for byte as moto answers it, and every other request still goes to moto."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterator
from typing import Any

import pyarrow.fs as pafs
import pytest
from moto.s3.responses import S3Response
from sluice.local.patches import keep_alive, s3_plain_gets, s3_reads

from tests.unit.local.s3_server import own_bucket

SIZE = 6_000_000  # past moto's 5 MB in-memory limit: a file, as a part is
DATA = random.Random(20261207).randbytes(SIZE)
SMALL = b'{"edges": [0, 1]}'
MIDDLE = DATA[:1_000_000]  # under moto's 5 MB: kept in memory, yet sent in blocks
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64
)
SDK = {
    "Authorization": AUTH,
    "x-amz-date": "20261207T040000Z",
    "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "User-Agent": "aws-sdk-cpp/1.11",
    "amz-sdk-invocation-id": "5f1a4c1e-0b1d-4c1e-8f1a-4c1e0b1d4c1e",
    "amz-sdk-request": "attempt=1",
    "Accept": "*/*",
}
ARROW = {  # what Arrow's S3 client adds to a GET
    "Content-Type": "application/xml",
    "x-amz-api-version": "2006-03-01",
    "x-amz-checksum-mode": "enabled",
}
RANDOM = re.compile(rb"(?im)^(date|x-amzn-requestid|x-amz-request-id|x-amz-id-2): [^\r\n]*")
ERROR_IDS = re.compile(rb"<(RequestId|HostId)>[^<]*</")

# Requests answered before Flask: (path's key, extra headers).
PLAIN: list[tuple[str, dict[str, str]]] = [
    ("data/big.bin", {"Range": "bytes=0-0"}),
    ("data/big.bin", {"Range": "bytes=1000-200999"}),
    ("data/big.bin", {"Range": f"bytes={SIZE - 10}-{SIZE + 100}"}),  # clipped at the end
    ("data/big.bin", {"Range": "bytes=-10"}),
    ("data/big.bin", {"Range": "bytes=5000000-"}),
    ("data/big.bin", {"Range": "bytes=10-5"}),  # last before first: the whole object
    ("data/big.bin", {"Range": "bytes=-"}),  # neither end: the whole object
    ("data/big.bin", {}),
    ("data/big.bin", {"x-amz-checksum-mode": "ENABLED"}),
    ("data/big.bin", {"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-99"}),
    ("data/big.bin", {"x-amz-checksum-mode": "ENABLED", "Range": f"bytes=0-{SIZE - 1}"}),
    ("data/typed.json", {}),
    ("data/middle.bin", {}),
    ("data/middle.bin", {"Range": "bytes=100-400099"}),
    ("data/typed.json", {"Range": "bytes=2-5"}),
    ("data/meta.txt", {"Accept-Encoding": "identity"}),
    ("data/meta.txt", {"Range": "bytes=0-3"}),
    ("data/big.bin", ARROW | {"Range": "bytes=4096-8191"}),
    ("data/big.bin", ARROW | {"Range": f"bytes=0-{SIZE - 1}"}),
]

# Requests moto answers itself: (path's key and query, extra headers).
MOTO: list[tuple[str, dict[str, str]]] = [
    ("data/big.bin", {"Range": f"bytes={SIZE}-"}),  # unsatisfiable: moto's error
    ("data/big.bin", {"Range": "bytes=0-1,5-6"}),  # several ranges
    ("data/missing.bin", {}),
    ("data/big.bin?partNumber=1", {}),
    ("data/big.bin?response-content-type=text/plain", {}),
    ("data/big.bin", {"If-None-Match": "*"}),
    ("data/big.bin", {"Origin": "https://example.com"}),
    ("data/with%20space.txt", {}),
]


def _raw(port: int, target: str, headers: dict[str, str], method: str = "GET") -> bytes:
    """The server's answer, every byte of it, to one request on a connection of its own."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunks = []
        while chunk := conn.recv(1 << 20):
            chunks.append(chunk)
    answer = b"".join(chunks)
    # The ids and the date differ between any two answers.
    return ERROR_IDS.sub(rb"<\1></", RANDOM.sub(rb"\1: -", answer))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Any, str, int]]:
    """Objects of three kinds in a bucket of their own: (client, bucket, port)."""
    s3_reads.install()
    keep_alive.install()
    with own_bucket() as (client, bucket):
        client.put_object(Bucket=bucket, Key="data/big.bin", Body=DATA, ChecksumAlgorithm="SHA256")
        client.put_object(
            Bucket=bucket, Key="data/typed.json", Body=SMALL, ContentType="application/json"
        )
        client.put_object(Bucket=bucket, Key="data/middle.bin", Body=MIDDLE)
        client.put_object(
            Bucket=bucket,
            Key="data/meta.txt",
            Body=b"some text",
            Metadata={"owner": "u1", "run": "7"},
            ContentEncoding="identity",
            CacheControl="no-cache",
        )
        client.put_object(Bucket=bucket, Key="data/with space.txt", Body=b"spaced")
        port = int(client.meta.endpoint_url.rsplit(":", 1)[1])
        try:
            yield client, bucket, port
        finally:
            s3_plain_gets.install()


def _answers(server: tuple[Any, str, int], cases: list[tuple[str, dict[str, str]]]) -> list[bytes]:
    _, bucket, port = server
    return [_raw(port, f"/{bucket}/{key}", {**SDK, **extra}) for key, extra in cases]


def test_install_is_idempotent() -> None:
    s3_plain_gets.install()
    s3_plain_gets.install()
    assert s3_plain_gets.installed()


def test_plain_gets_answer_byte_for_byte_as_moto(server: tuple[Any, str, int]) -> None:
    s3_plain_gets.uninstall()
    try:
        before = _answers(server, PLAIN + MOTO)
    finally:
        s3_plain_gets.install()
    after = _answers(server, PLAIN + MOTO)
    for (key, extra), old, new in zip(PLAIN + MOTO, before, after, strict=True):
        assert new == old, f"{key} {extra}"
    assert before[1].startswith(b"HTTP/1.1 206 ")
    assert DATA[1000:201000] in before[1]


def test_only_plain_gets_skip_moto(
    server: tuple[Any, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_plain_gets.install()
    dispatched: list[str] = []
    key_response = S3Response.key_response

    def counting(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        dispatched.append(full_url)
        return key_response(self, request, full_url, headers)

    monkeypatch.setattr(S3Response, "key_response", counting)
    _answers(server, PLAIN)
    assert dispatched == []
    _answers(server, MOTO)
    assert len(dispatched) == len(MOTO)


def test_the_sdks_reads_take_the_plain_path(
    server: tuple[Any, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's and Arrow's GETs, signed as they sign them, are plain GETs."""
    s3_plain_gets.install()
    client, bucket, port = server
    answered: list[bool] = []
    plain_get = s3_plain_gets.plain_get

    def noting(environ: dict[str, Any]) -> Any:
        response = plain_get(environ)
        if environ["REQUEST_METHOD"] == "GET":  # Arrow's HEAD goes to moto
            answered.append(response is not None)
        return response

    monkeypatch.setattr(s3_plain_gets, "plain_get", noting)
    body = client.get_object(Bucket=bucket, Key="data/big.bin", Range="bytes=7-99")["Body"]
    assert body.read() == DATA[7:100]
    assert client.get_object(Bucket=bucket, Key="data/typed.json")["Body"].read() == SMALL
    arrow = pafs.S3FileSystem(
        endpoint_override=f"127.0.0.1:{port}",
        scheme="http",
        region="us-east-1",
        access_key="test",
        secret_key="test",
    )
    with arrow.open_input_file(f"{bucket}/data/big.bin") as opened:  # a HEAD, then GETs
        assert opened.read_at(1000, 5000) == DATA[5000:6000]
    assert answered == [True, True, True]


def test_a_bucket_with_a_policy_goes_to_moto(server: tuple[Any, str, int]) -> None:
    """moto checks a bucket's policy on every GET; here nothing would."""
    client, bucket, port = server
    s3_plain_gets.install()
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", '
        f'"Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/data/typed.json"}}]}}'
    )
    client.put_bucket_policy(Bucket=bucket, Policy=policy)
    try:
        answer = _raw(port, f"/{bucket}/data/typed.json", SDK)
    finally:
        client.delete_bucket_policy(Bucket=bucket)
    assert answer.startswith(b"HTTP/1.1 403 ")


def test_a_range_of_an_object_in_a_file_is_sent_from_the_file(
    server: tuple[Any, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_plain_gets.install()
    sent: list[int] = []
    sendfile = keep_alive.os.sendfile

    def counting(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        done = sendfile(out_fd, in_fd, offset, count)
        sent.append(done)
        return done

    monkeypatch.setattr(keep_alive.os, "sendfile", counting)
    first, last = 1_000_000, 1_000_000 + s3_plain_gets.SENT_FROM_FILE_BYTES
    [answer] = _answers(server, [("data/big.bin", {"Range": f"bytes={first}-{last - 1}"})])
    assert answer.startswith(b"HTTP/1.1 206 ")
    assert answer.endswith(b"\r\n\r\n" + DATA[first:last])
    assert sum(sent) == last - first  # every byte of the body by sendfile


def test_a_short_range_is_still_sent_as_bytes(
    server: tuple[Any, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_plain_gets.install()
    sent: list[tuple[int, ...]] = []

    def noting(*args: int) -> int:
        sent.append(args)
        raise AssertionError("sendfile for a short range")

    monkeypatch.setattr(keep_alive.os, "sendfile", noting)
    last = s3_plain_gets.SENT_FROM_FILE_BYTES - 2
    [answer] = _answers(server, [("data/big.bin", {"Range": f"bytes=0-{last}"})])
    assert answer.endswith(b"\r\n\r\n" + DATA[: last + 1])
    assert sent == []
