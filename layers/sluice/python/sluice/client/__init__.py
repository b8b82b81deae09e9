"""``sluice.client``: the HTTP API from Python scripts and notebooks, and what the
``sluice`` command is built on.

HTTP only (``requests``): files go straight to S3 by the presigned POST or the presigned
part URLs the API hands out, so neither boto3 nor AWS credentials are needed. The Lambda
code never imports this package (an import-linter contract), and the Lambda layer does
not ship it.

    from sluice.client import Client
    client = Client.sign_in("http://127.0.0.1:3000", "demo", "sluice-demo-1")
    dataset = client.uploads.upload("plays.csv", name="plays")
    client.datasets.rows(dataset["id"], start=0, num=10)
"""

from sluice.client.auth import Tokens, TokenStore
from sluice.client.client import Client
from sluice.client.errors import ApiError, ClientError, IngestFailed, TaskFailed
from sluice.client.uploads import UploadOptions

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "IngestFailed",
    "TaskFailed",
    "TokenStore",
    "Tokens",
    "UploadOptions",
]
