"""The client of the S3 calls Step Functions makes itself (a Distributed Map's
ItemReader and ResultWriter): moto's, retried as the service's own are."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port

SERVICE_RETRIES = {"mode": "standard", "max_attempts": 5}
"""The S3 reads and writes Step Functions makes itself (ItemReader, ResultWriter) are
retried by the service when S3 throttles, as an SDK's are; moto's client for them has
no retries, so one 503 SlowDown failed the whole Map."""


def service_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client for a call the service makes itself: moto's (``boto_client_for``: its
    endpoint and test credentials) with :data:`SERVICE_RETRIES`."""
    endpoint = (
        {}
        if botocore_stubber.enabled
        else {"endpoint_url": f"http://localhost:{moto_server_port()}"}
    )
    return boto3.client(
        service_name=service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(parameter_validation=False, retries=SERVICE_RETRIES),
        **endpoint,
    )


__all__ = ["SERVICE_RETRIES", "service_client"]
