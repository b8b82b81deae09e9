"""`sluice local`: the whole system on one machine.

moto's server is the AWS, patched (sluice.local.patches); Lambda handlers run in this
process or its worker pool (lambda_runtime);
Step Functions executions run our ASL files on moto's interpreter; a local API
gateway checks JWTs like the Cognito authorizer and invokes the api function.
State lives in memory; with ``LocalOptions.state_dir`` it is saved there as it changes
and restored at the next start (sluice.local.state).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from sluice import aws
from sluice.auth.jwt_check import CognitoJwtVerifier
from sluice.catalog import CATALOG, CATALOG_BACKFILL, PROJECT_ROOT, Catalog
from sluice.local import lambda_runtime, long_lived, patches, state
from sluice.local.gateway import LocalApiGateway, TokenVerifier
from sluice.local.patches import ecs_tasks, lambda_invoke
from sluice.local.provision import (
    ACCOUNT,
    PREFIX,
    REGION,
    Deployment,
    create_user,
    provision,
)
from sluice.local.quiet_trim import QuietTrim
from sluice.local.worker_pool import share_one_malloc_arena

logger = logging.getLogger(__name__)

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
    # Worker processes for the public API; None: as many as lambda_processes.
    api_processes: int | None = None
    state_dir: Path | None = None  # None: state lives in memory only (sluice.local.state)
    snapshot_seconds: float = state.INTERVAL_S
    stop_grace_s: float = 2.0  # how long a stop waits for busy workers before killing them


class _PoolVerifier:
    """The authorizer's check, once the user pool is known (the gateway listens before)."""

    def __init__(self) -> None:
        self.inner: TokenVerifier | None = None

    def verify(self, token: str) -> Mapping[str, str]:
        assert self.inner is not None, "the gateway answers no route before it is ready"
        return self.inner.verify(token)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        # As moto's server binds (a port the last run left in TIME_WAIT is free for it).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class LocalSystem:
    """The embedded AWS, provisioned from the catalogue, with the API in front."""

    def __init__(self, options: LocalOptions, catalog: Catalog = CATALOG) -> None:
        self.options = options
        self.catalog = catalog
        self.state = state.StateDir(options.state_dir) if options.state_dir else None
        self._saved = self.state.load() if self.state is not None else None
        self.fresh = self._saved is None  # False: restored from the state folder
        # The last run's port where it is free, so presigned URLs issued before still work.
        saved_port = self._saved.aws_port if self._saved is not None else 0
        self.aws_port = (
            options.aws_port or (saved_port if saved_port and _port_free(saved_port) else 0)
        ) or free_port()
        self.endpoint = f"http://127.0.0.1:{self.aws_port}"
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self.deployment: Deployment | None = None
        self.gateway: LocalApiGateway | None = None
        self._verifier = _PoolVerifier()
        self._snapshotter: state.Snapshotter | None = None
        self._pool: lambda_runtime.WorkerPool | None = None
        self._api_pool: lambda_runtime.WorkerPool | None = None
        # Freed memory back once the process is quiet after work, as the idle workers do.
        self._quiet_trim = QuietTrim()

    def start(self) -> LocalSystem:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        # Before moto's and the gateway's threads start: the quiet trim then gives back
        # what they free whole (worker_pool.MALLOC_ARENAS).
        share_one_malloc_arena()
        self._set_process_environment()
        patches.install_all()
        # The API's port first: every route answers 503 (GET /health too) until all is ready.
        self.gateway = LocalApiGateway(
            invoke=self._invoke_api, verifier=self._verifier, port=self.options.port, ready=False
        ).start()
        self._moto.start()
        # Step Functions executions really run (moto's ASL interpreter).
        requests.post(
            f"{self.endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        self.deployment = provision(self.catalog, self.endpoint)
        if self._saved is not None:
            self._restore(self._saved)
            self._saved = None
        os.environ.update(self.deployment.environment(self.catalog))
        aws.reset_clients()
        # After the environment is complete: the workers inherit it.
        if self.options.lambda_processes > 0:
            self._pool = lambda_runtime.worker_pool(self.options.lambda_processes)
        api_processes = self.options.api_processes
        if api_processes is None:
            api_processes = self.options.lambda_processes
        if api_processes > 0:
            self._api_pool = lambda_runtime.api_pool(api_processes)
        lambda_invoke.route(
            self.catalog,
            {f"{PREFIX}-{spec.name}": spec.name for spec in self.catalog.functions},
            self._pool,
            self._api_pool,
        )
        self._verifier.inner = CognitoJwtVerifier(
            self.deployment.issuer,
            self.deployment.user_pool_client_id,
            jwks_url=self.deployment.jwks_url,
            # As API Gateway's Cognito authorizer without OAuth scopes: ID tokens only.
            token_uses=frozenset({"id"}),
        )
        if self.options.demo:
            self._create_demo_user()
        if not self.fresh:
            self._backfill_query_tables()
        if self.state is not None:
            self._snapshotter = state.Snapshotter(
                self.state, self._state_scope(), self.aws_port, self.options.snapshot_seconds
            )
            self._snapshotter.save()
            self._snapshotter.start()
        self._quiet_trim.start()
        long_lived.freeze()
        self.gateway.mark_ready()
        return self

    def _state_scope(self) -> state.Scope:
        assert self.deployment is not None
        return state.Scope(
            tables=tuple(self.deployment.tables.values()),
            buckets=tuple(self.deployment.buckets.values()),
            glue_databases=tuple(self.deployment.glue_databases.values()),
            account=ACCOUNT,
            region=REGION,
        )

    def _restore(self, saved: state.Snapshot) -> None:
        """Put the saved state into the AWS just provisioned; its user pool replaces the new one."""
        assert self.deployment is not None and self.state is not None
        scope = self._state_scope()
        interrupted = state.restore(self.state, saved, scope)
        pool = self.catalog.user_pool
        self.deployment.user_pool_id, self.deployment.user_pool_client_id = state.user_pool_ids(
            scope, f"{PREFIX}-{pool.name}", pool.client_name
        )
        if interrupted:
            logger.warning("%d interrupted dataset(s) or task(s) marked failed", interrupted)

    def _backfill_query_tables(self) -> None:
        """What an upgraded deployment's operator does once: a Glue table for every ready
        dataset the restored state holds without one (saved before the catalogue, or
        refused by Glue), by the catalogued function itself."""
        answer = aws.client("lambda").invoke(
            FunctionName=f"{PREFIX}-{CATALOG_BACKFILL}", Payload=b"{}"
        )
        done = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            logger.warning("Glue tables not backfilled: %s", done.get("errorMessage"))
        elif done["registered"] or done["refused"]:
            logger.warning(
                "Glue tables backfilled: %d registered, %d refused by Glue",
                len(done["registered"]),
                len(done["refused"]),
            )

    def _create_demo_user(self) -> None:
        assert self.deployment is not None
        try:
            create_user(self.deployment, DEMO_USER, DEMO_PASSWORD)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "UsernameExistsException":  # restored
                raise

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
        """Call the api function as API Gateway's integration does: straight to the
        catalogued handler (where moto's Invoke would have routed it), the event and
        answer as JSON, without a round trip through moto's Lambda API (an HTTP request,
        its Flask dispatch and a thread in moto: 4 ms of a GET's 19 ms of CPU)."""
        assert self.deployment is not None
        arn = self.deployment.functions["api"]
        text, errored, _ = lambda_runtime.invoke(self.catalog, "api", arn, json.dumps(event))
        payload: dict[str, Any] = json.loads(text)
        if errored:
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
        self._quiet_trim.stop()
        if self.gateway is not None:
            self.gateway.stop()
        if self._snapshotter is not None:
            self._snapshotter.stop()  # the last save: what the stop found
            self._snapshotter = None
        for pool in (self._pool, self._api_pool):
            if pool is not None:
                pool.stop(self.options.stop_grace_s)
        ecs_tasks.stop_all(self.options.stop_grace_s)  # training tasks are local processes
        self._moto.stop()
        if self.state is not None:
            self.state.close()
        long_lived.thaw()

    def at_rest(self, within_s: float) -> bool:
        """Wait up to ``within_s`` (each) for every worker to have given back the memory
        its last call left (``WorkerPool.at_rest``), then for this process to have done
        the same (``QuietTrim.settled``); whether they have. For benchmarks measuring an
        operation's own peak memory."""
        pools = [pool for pool in (self._pool, self._api_pool) if pool is not None]
        workers = all(pool.at_rest(within_s) for pool in pools)
        return workers and self._quiet_trim.settled(within_s)

    def client(self, service: str) -> Any:
        """A boto3 client on the embedded AWS (for tests and tools)."""
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)
