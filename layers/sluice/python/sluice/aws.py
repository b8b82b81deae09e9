"""boto3 clients, one per service per process, all made by one boto3 session.

Clients are thread-safe but creating them is not, and Step Functions Map workers
run in threads locally, so creation is guarded. The endpoint comes from boto3's own
AWS_ENDPOINT_URL, which the local runtime points at the embedded AWS. One session makes
them all: a session loads botocore's data (endpoints, partitions, retry rules) once for
its clients, where a session a client held each its own copy (a rested step worker kept
~35 MiB more live objects than a fresh one, mostly those).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()


@cache
def _client(service: str) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    if service == "s3":
        # Presigned POSTs must be SigV4: regions opened since 2014 refuse V2 signatures.
        # Bodies are neither signed nor checksummed unless an operation requires it: the
        # object's own digests (a dataset's SHA-256 blocks, S3's ETag) are the record, and
        # over HTTPS TLS already guards every byte in transit. Signing would SHA-256, and
        # botocore's default CRC32 would read again, every part, partial and output put
        # or got: the task's workers spent 6% of their CPU on CRC32 alone.
        # A reducer has up to 64 ranged GETs in flight (sluice.tasks.partials): botocore's
        # pool of 10 connections would open and drop the others on every request.
        config = config.merge(
            Config(
                max_pool_connections=64,
                signature_version="s3v4",
                s3={"payload_signing_enabled": False},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
        )
    return _session().client(service, config=config)


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def client(service: str) -> Any:
    """The shared boto3 client for ``service``."""
    with _lock:
        return _client(service)


def reset_clients() -> None:
    """Forget cached clients (after the endpoint or credentials change)."""
    with _lock:
        _client.cache_clear()
        _resource_table.cache_clear()
        _session.cache_clear()  # it keeps the credentials it resolved


@cache
def _resource_table(name: str) -> Any:
    return _session().resource("dynamodb").Table(name)


def resource_table(name: str) -> Any:
    """The shared DynamoDB Table resource called ``name``."""
    with _lock:
        return _resource_table(name)


def warm(services: tuple[str, ...], tables: tuple[str, ...] = ()) -> None:
    """Create these clients and Table resources now, as a Lambda's init phase would.

    Each loads its service's model from botocore's JSON files: ~0.15 s of CPU apiece,
    which a process's first call would otherwise pay (the ingest's first step did).
    """
    for service in services:
        client(service)
    for table in tables:
        resource_table(table)


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of the execution called ``name`` of a state machine."""
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
