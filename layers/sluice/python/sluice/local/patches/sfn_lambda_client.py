"""Step Functions' Lambda tasks reuse one client instead of making one per invocation.

moto's interpreter calls ``boto_client_for`` for every Lambda task it runs (a Plan, a
Finish, each Map child's batch): a new boto3 client (~2.3 ms of CPU: botocore copies its
event hooks and endpoint rules for each) on a new connection to the server, which starts
a thread for it. An operation's floor runs four or more of them. ``install()`` keeps the
client per region and endpoint, made as moto makes it (its credentials, no parameter
validation, no retries, its timeouts); botocore's clients are safe to share between
threads, and its pool keeps one connection per thread that calls at once.

moto is pinned exactly (``pyproject.toml``): this replaces a name its module imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from sluice.local.patches.replace import replace_once, replaced, restore
from sluice.local.patches.sfn_service_client import kept_client

POOL_CONNECTIONS = 64
"""Connections the shared client keeps: one per Map child invoking at the same time (a
Map's MaxConcurrency here is at most the workers'), where moto's per-call clients had one
each."""


def install() -> None:
    """Share Lambda tasks' clients. Safe to call more than once."""
    replace_once(lambda_eval_utils, "boto_client_for", _shared)


def uninstall() -> None:
    """moto's own client per call again (for tests)."""
    restore(lambda_eval_utils, "boto_client_for")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(lambda_eval_utils, "boto_client_for")


def _shared(boto_client_for: Callable[..., Any]) -> Callable[..., Any]:
    def shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's client ignores the state's credentials.
        def make(endpoint: str | None) -> Any:
            made = boto_client_for(region, service, state_credentials)
            # moto's client, with a pool for the calls made at once through it.
            config = made.meta.config.merge(Config(max_pool_connections=POOL_CONNECTIONS))
            credentials = made._request_signer._credentials
            return boto3.client(
                service_name=service,
                region_name=region,
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                config=config,
                **({} if endpoint is None else {"endpoint_url": made.meta.endpoint_url}),
            )

        return kept_client("lambda task", region, service, make)

    return shared_client


__all__ = ["POOL_CONNECTIONS", "install", "installed", "uninstall"]
