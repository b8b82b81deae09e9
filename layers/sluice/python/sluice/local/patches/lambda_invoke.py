"""Run Lambda invocations here instead of in moto's Docker containers.

moto normally starts a container per invocation; ``install()`` replaces
``LambdaFunction._invoke_lambda`` so that every path that reaches a function (Invoke,
Step Functions tasks, S3 notifications) calls the handler the catalogue names, where
:mod:`sluice.local.lambda_runtime` runs it: in this process, or in its worker pool.

Which deployed function is which catalogue entry is only known once the local system
has provisioned them, after the patches are installed: :func:`route` says it, and may
say it again (a new system, a new pool). Until then moto's own invocation runs.

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import LambdaFunction

from sluice.catalog import Catalog
from sluice.local import lambda_runtime
from sluice.local.patches.replace import replace_once, replaced

_Invocation = tuple[str, bool, str]
"""moto's (payload, errored, logs) triple."""


@dataclass(frozen=True)
class _Routes:
    catalog: Catalog
    function_names: Mapping[str, str]


_routes: _Routes | None = None


def _through_the_catalogue(
    invoke_lambda: Callable[[LambdaFunction, Any], _Invocation],
) -> Callable[[LambdaFunction, Any], _Invocation]:
    def invoke(self: LambdaFunction, event: Any = None) -> _Invocation:
        routes = _routes
        if routes is None:
            return invoke_lambda(self, event)
        name = routes.function_names.get(self.function_name)
        if name is None:
            message = f"function {self.function_name} is not in the sluice catalogue"
            return json.dumps({"errorMessage": message, "errorType": "ResourceNotFound"}), True, ""
        # Looked up at each call, so that a wrapper of lambda_runtime.invoke (the
        # benchmarks' timing) sees every invocation.
        return lambda_runtime.invoke(routes.catalog, name, self.function_arn, event)

    return invoke


def install() -> None:
    """Hook moto's Lambda invocation (moto's own until :func:`route`). Safe to call more
    than once."""
    replace_once(LambdaFunction, "_invoke_lambda", _through_the_catalogue)


def route(
    catalog: Catalog,
    function_names: Mapping[str, str],
    pool: lambda_runtime.WorkerPool | None = None,
    api_pool: lambda_runtime.WorkerPool | None = None,
) -> None:
    """Route invocations of moto functions to the catalogue's handlers (installing the
    hook if it is not yet).

    ``function_names`` maps each deployed (moto) function name to its catalogue name;
    with ``pool``, every function but the public API runs there, and with ``api_pool``
    the public API.
    """
    global _routes
    install()
    lambda_runtime.use_pool(pool, api_pool)
    _routes = _Routes(catalog, dict(function_names))


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(LambdaFunction, "_invoke_lambda")


__all__ = ["install", "installed", "route"]
