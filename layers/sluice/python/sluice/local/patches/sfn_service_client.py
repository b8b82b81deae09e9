"""The client of the S3 calls Step Functions makes itself (a Distributed Map's
ItemReader and ResultWriter): moto's, retried as the service's own are, and kept per
region and endpoint (a boto3 client costs ~2.3 ms of CPU to make, and each Map made two
or more for every operation: 12% of the embedded AWS's busy time in a histogram)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port

SERVICE_RETRIES = {"mode": "standard", "max_attempts": 5}
"""The S3 reads and writes Step Functions makes itself (ItemReader, ResultWriter) are
retried by the service when S3 throttles, as an SDK's are; moto's client for them has
no retries, so one 503 SlowDown failed the whole Map."""


_lock = threading.Lock()
_clients: dict[tuple[str, str, str, str | None], Any] = {}


def kept_client(kind: str, region: str, service: str, make: Callable[[str | None], Any]) -> Any:
    """The client ``make(endpoint)`` returns for this kind of call, region, service and
    moto's endpoint (None while moto's decorators intercept botocore), made once: a
    boto3 client costs ~2.3 ms of CPU to make, and botocore's are safe to share between
    threads."""
    endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
    key = (kind, region, service, endpoint)
    with _lock:  # boto3's default session is not safe to make clients from at once
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make(endpoint)
        return client


def service_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client for a call the service makes itself: moto's (``boto_client_for``: its
    endpoint and test credentials) with :data:`SERVICE_RETRIES`, kept (:func:`kept_client`)."""

    def make(endpoint: str | None) -> Any:
        return boto3.client(
            service_name=service,
            region_name=region,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",
            config=Config(parameter_validation=False, retries=SERVICE_RETRIES),
            **({} if endpoint is None else {"endpoint_url": endpoint}),
        )

    return kept_client("service", region, service, make)


__all__ = ["SERVICE_RETRIES", "kept_client", "service_client"]
