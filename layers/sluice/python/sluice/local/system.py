"""`sluice local`: the whole system on one machine.

moto's server is the AWS, patched (sluice.local.patches); Lambda handlers run in this
process or its worker pool (lambda_runtime);
Step Functions executions run our ASL files on moto's interpreter; a local API
gateway checks JWTs like the Cognito authorizer and invokes the api function.
All state lives in memory and is gone when the process stops.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from sluice import aws
from sluice.auth.jwt_check import CognitoJwtVerifier
from sluice.catalog import CATALOG, PROJECT_ROOT, Catalog
from sluice.local import lambda_runtime, patches
from sluice.local.gateway import LocalApiGateway
from sluice.local.patches import lambda_invoke
from sluice.local.provision import PREFIX, REGION, Deployment, create_user, provision

DEMO_USER = "demo"
DEMO_PASSWORD = "sluice-demo-1"
SAMPLE_CSV = PROJECT_ROOT / "samples" / "sales.csv"


@dataclass
class LocalOptions:
    port: int = 3000
    aws_port: int = 0  # 0: any free port
    chunk_bytes: int | None = None
    max_upload_bytes: int | None = None
    demo: bool = True
    lambda_processes: int = 0  # 0: handlers run in this process (see lambda_runtime)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalSystem:
    """The embedded AWS, provisioned from the catalogue, with the API in front."""

    def __init__(self, options: LocalOptions, catalog: Catalog = CATALOG) -> None:
        self.options = options
        self.catalog = catalog
        self.aws_port = options.aws_port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.aws_port}"
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self.deployment: Deployment | None = None
        self.gateway: LocalApiGateway | None = None
        self._pool: lambda_runtime.WorkerPool | None = None

    def start(self) -> LocalSystem:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        self._set_process_environment()
        patches.install_all()
        self._moto.start()
        # Step Functions executions really run (moto's ASL interpreter).
        requests.post(
            f"{self.endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        self.deployment = provision(self.catalog, self.endpoint)
        os.environ.update(self.deployment.environment(self.catalog))
        aws.reset_clients()
        if self.options.lambda_processes > 0:
            # After the environment is complete: the workers inherit it.
            self._pool = lambda_runtime.worker_pool(self.options.lambda_processes)
        lambda_invoke.route(
            self.catalog,
            {f"{PREFIX}-{spec.name}": spec.name for spec in self.catalog.functions},
            self._pool,
        )
        verifier = CognitoJwtVerifier(
            self.deployment.issuer,
            self.deployment.user_pool_client_id,
            jwks_url=self.deployment.jwks_url,
            # As API Gateway's Cognito authorizer without OAuth scopes: ID tokens only.
            token_uses=frozenset({"id"}),
        )
        self.gateway = LocalApiGateway(
            invoke=self._invoke_api, verifier=verifier, port=self.options.port
        ).start()
        if self.options.demo:
            create_user(self.deployment, DEMO_USER, DEMO_PASSWORD)
        return self

    def _set_process_environment(self) -> None:
        os.environ.update(
            {
                "MOTO_PORT": str(self.aws_port),  # moto's ASL interpreter calls services here
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        if self.options.chunk_bytes:
            os.environ["SLUICE_CHUNK_BYTES"] = str(self.options.chunk_bytes)
        if self.options.lambda_processes > 1:
            os.environ["SLUICE_WORKERS"] = str(self.options.lambda_processes)
        if self.options.max_upload_bytes:
            os.environ["SLUICE_MAX_UPLOAD_BYTES"] = str(self.options.max_upload_bytes)

    def _invoke_api(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.deployment is not None
        result = aws.client("lambda").invoke(
            FunctionName=self.deployment.functions["api"], Payload=json.dumps(event).encode()
        )
        payload: dict[str, Any] = json.loads(result["Payload"].read())
        if result.get("FunctionError"):
            raise RuntimeError(payload.get("errorMessage", "the api function failed"))
        return payload

    @property
    def api_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def upload_sample(self, owner_username: str = DEMO_USER, csv_path: Path = SAMPLE_CSV) -> str:
        """Create a dataset for the demo user from a sample CSV, through the real API and upload."""
        api = self.api_url
        tokens = requests.post(
            f"{api}/auth/token",
            json={"username": owner_username, "password": DEMO_PASSWORD},
            timeout=30,
        ).json()
        headers = {"Authorization": f"Bearer {tokens['id_token']}"}
        created = requests.post(
            f"{api}/datasets",
            json={"name": csv_path.stem, "path": "samples", "description": "Sample data"},
            headers=headers,
            timeout=30,
        ).json()
        upload = created["upload"]
        with csv_path.open("rb") as body:
            requests.post(
                upload["url"],
                data=upload["fields"],
                files={"file": (csv_path.name, body)},
                timeout=60,
            ).raise_for_status()
        return str(created["dataset"]["id"])

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._moto.stop()

    def client(self, service: str) -> Any:
        """A boto3 client on the embedded AWS (for tests and tools)."""
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)
