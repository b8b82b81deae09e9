"""Helpers the tests share: sample events, in-process calls, waiting on real state."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
from moto.server import ThreadedMotoServer
from sluice.catalog import CATALOG, PROJECT_ROOT
from sluice.local.lambda_runtime import LocalContext, load_handler

EVENTS = PROJECT_ROOT / "events"
T = TypeVar("T")


def reference_content_hash(body: bytes) -> str:
    """Dropbox's content hash, written out here independently of ``sluice``."""
    block = 4 * 1024 * 1024
    digests = [hashlib.sha256(body[at : at + block]).digest() for at in range(0, len(body), block)]
    return hashlib.sha256(b"".join(digests)).hexdigest()


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (e.g. 'api/create_dataset')."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(data)


def invoke(function: str, event: dict[str, Any]) -> Any:
    """Call a catalogued function's handler in-process, as the local Lambda hook does."""
    spec = CATALOG.function(function)
    return load_handler(spec)(
        event, LocalContext(spec, f"arn:aws:lambda:us-east-1:123456789012:function:{function}")
    )


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    owner: str | None = "11111111-2222-3333-4444-555555555555",
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event, from the sample, for ``method path`` as ``owner``."""
    event = load_event("api/get_dataset")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = event["requestContext"]["path"] = path
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["body"] = None if body is None else json.dumps(body)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if owner is None:
        event["requestContext"]["authorizer"] = None
    else:
        event["requestContext"]["authorizer"]["claims"]["sub"] = owner
    return event


def call_api(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    """(status, parsed JSON body) of the api function for one request."""
    response = invoke("api", api_event(method, path, body, **kwargs))
    text = response.get("body") or ""
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return response["statusCode"], parsed


def wait_for(
    probe: Callable[[], T | None],
    timeout_s: float = 60.0,
    what: str = "condition",
    every_s: float = 0.05,
) -> T:
    """Poll ``probe`` every ``every_s`` until it returns something other than None; fail
    after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def put_unnoticed(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    """Put an object with the bucket's notifications off: a file that lands as one already
    taken in (a job's, whose import is under way) without its notification running."""
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    notifications.pop("ResponseMetadata", None)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    try:
        answer: dict[str, Any] = s3.put_object(Bucket=bucket, Key=key, Body=body)
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=notifications
        )
    return answer


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)


def hold(
    monkeypatch: Any, module: Any, name: str, let_through: Callable[..., bool] = lambda *a: False
) -> threading.Event:
    """Make ``module.name`` wait for the returned event (unless ``let_through(*args)``), so a
    test can act while a real execution is provably still running that step."""
    gate = threading.Event()
    original = getattr(module, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        if not let_through(*args):
            gate.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return gate


@contextlib.contextmanager
def own_moto_server(service: str) -> Iterator[Any]:
    """A boto3 client of ``service`` on a moto server of its own, stopped afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield boto3.client(
            service,
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
    finally:
        server.stop()


@contextlib.contextmanager
def own_dynamodb_table(name: str) -> Iterator[Any]:
    """A DynamoDB client on a moto server of its own, with a table ``name`` keyed by
    the string ``pk``."""
    with own_moto_server("dynamodb") as client:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def run_command(args: list[str], env: dict[str, str], timeout_s: float = 240) -> None:
    """Run a command from the project's root, quietly; fail the test with the end of its
    stderr if it exits non-zero."""
    result = subprocess.run(
        args,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
