"""Run the catalogue's Lambda handlers on this machine: in this process or in a pool of
worker processes.

moto's Lambda reaches these through the invoke hook (``sluice.local.patches.lambda_invoke``),
which hands every invocation to :func:`invoke`.

By default a handler runs in this process, on the invoking thread (tests rely on
this to hold or break a step). With a pool (:func:`worker_pool`, of ``processes`` > 0:
``sluice local`` and the benchmarks), every pipeline step runs in one of that many worker
processes, as Lambdas run in sandboxes of their own: steps no longer share one
interpreter's lock and heap, and at most one step per core runs at once, as a laptop has
no more to give. With an API pool as well (:func:`api_pool`: ``sluice local``), the
public API answers in worker processes of its own, at the server's priority, so that
answers never wait behind a scan, and concurrent requests are answered on every core
rather than under the server's one interpreter lock (beside moto and the gateway).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import traceback
import uuid
from types import ModuleType
from typing import Any

from sluice import aws
from sluice.catalog import CATALOG, Catalog, FunctionSpec
from sluice.local.worker_pool import (
    IDLE_TRIM_S,
    RENEW_IDLE_S,
    FairSlots,
    SandboxLost,
    TimedOut,
    WorkerPool,
    WorkerStart,
    start_worker,
)

_modules: dict[str, ModuleType] = {}
_modules_lock = threading.Lock()
# Without an API pool, the public API's handler runs in this process, on whichever thread
# the request came in on; a Lambda sandbox serves one request at a time, and the handler
# relies on it: Powertools' resolver keeps the current event and route in process-wide
# attributes, so two requests at once would each read the other's caller (a 404 for
# one's own dataset, or another user's data) and route. One request at a time here, as
# one sandbox, in the order they came.
_api_sandbox = FairSlots(1)


class LocalContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec, arn: str) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(spec: FunctionSpec) -> Any:
    """The handler function of ``spec``, imported once from its code folder."""
    with _modules_lock:
        module = _modules.get(spec.name)
        if module is None:
            loader = importlib.util.spec_from_file_location(
                f"sluice_fn_{spec.name}", spec.module_path
            )
            if loader is None or loader.loader is None:
                raise ImportError(f"cannot load {spec.module_path}")
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
            _modules[spec.name] = module
    return getattr(module, spec.function_attr)


def invoke_in_process(catalog: Catalog, name: str, arn: str, event: Any) -> tuple[str, bool, str]:
    """Call the catalogued function ``name``; moto's (payload, errored, logs) triple."""
    spec = catalog.function(name)
    if isinstance(event, str | bytes):
        event = json.loads(event or "{}")
    try:
        result = load_handler(spec)(event, LocalContext(spec, arn))
    except Exception as exc:
        trace = traceback.format_exc()
        error = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": trace.splitlines()[-20:],
        }
        return json.dumps(error), True, trace
    return json.dumps(result, default=str), False, ""


def invoke_catalogued(name: str, arn: str, event: Any) -> tuple[str, bool, str]:
    """:func:`invoke_in_process` on the project's catalogue: what a pool worker runs."""
    return invoke_in_process(CATALOG, name, arn, event)


def worker_pool(processes: int) -> WorkerPool:
    """The pipeline steps' sandboxes: processes forked from a server that imported the
    handlers and ran their code once (``worker_warmup``); each inherits this process's
    environment (the embedded AWS's endpoint and names), and has one core, as the pool
    has one worker per core."""
    start = WorkerStart(_start_step_worker, (_prefault_mib(processes),))
    # A worker renewed after a rest touches no heap ahead: the machine is idle, and the
    # call that wakes it may be a small one.
    rested = WorkerStart(_start_step_worker, (0,))
    return WorkerPool(
        processes, start, idle_trim_s=IDLE_TRIM_S, renew_idle_s=RENEW_IDLE_S, rested_start=rested
    )


def api_pool(processes: int) -> WorkerPool:
    """The public API's sandboxes: as API Gateway sends concurrent requests to as many
    Lambda sandboxes, each answering one at a time, requests here wait for a free worker
    in the order they came, and are answered in parallel across the cores."""
    return WorkerPool(
        processes,
        WorkerStart(_start_api_worker),
        idle_trim_s=IDLE_TRIM_S,
        renew_idle_s=RENEW_IDLE_S,
    )


PREFAULT_MIB = 768
"""How much heap a step worker touches at its start (sluice.heap.prefault): about what a
chunk scan's heap reaches, where the machine has room for it in every worker."""


WORKER_NICENESS = 5
"""How much lower than the server's a step worker's CPU priority is."""


def _prefault_mib(processes: int) -> int:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    return min(PREFAULT_MIB, physical // (4 * max(processes, 1)))


def _start_step_worker(prefault_mib: int) -> None:
    # Steps are batch work; the API and moto (which every step calls) answer people: on
    # a laptop with as many workers as cores, the steps otherwise took the cores from
    # under the API's reads. A scan's heap is touched now rather than page by page
    # during the first scan (2.5 s where later scans took 1.1).
    start_worker(WORKER_NICENESS, prefault_mib)
    # The clients every step uses, made now rather than in the first steps of an ingest
    # (on_upload and plan each spent 0.3 s of their 0.4 loading botocore's models), in
    # an environment that names the deployment (the local system's).
    _warm_clients()


def _start_api_worker() -> None:
    start_worker(0, 0)
    for spec in CATALOG.functions:
        if spec.public_api:
            load_handler(spec)
    _warm_clients()


def _warm_clients() -> None:
    table = os.environ.get("SLUICE_TABLE")
    if table:
        # Glue too where datasets get tables: every ingest's and table result's last step.
        glue = ("glue",) if os.environ.get("SLUICE_GLUE_DATABASE") else ()
        aws.warm(("s3", "stepfunctions", *glue), (table,))


_pool: WorkerPool | None = None
_api_pool: WorkerPool | None = None


def invoke(catalog: Catalog, name: str, arn: str, event: Any) -> tuple[str, bool, str]:
    """Run the catalogued function ``name`` where it belongs: the steps' pool or the API's,
    where one is in use; else this process."""
    spec = catalog.function(name)
    pool = _api_pool if spec.public_api else _pool
    if pool is not None:
        return _invoke_in_sandbox(pool, spec, arn, event)
    if spec.public_api:
        with _api_sandbox:
            return invoke_in_process(catalog, name, arn, event)
    return invoke_in_process(catalog, name, arn, event)


def _invoke_in_sandbox(
    pool: WorkerPool, spec: FunctionSpec, arn: str, event: Any
) -> tuple[str, bool, str]:
    # A sandbox lost or stopped at its timeout is what AWS reports as Lambda.Unknown
    # ("out-of-memory errors and function timeouts"), which every Task state of ours
    # retries a few times before its Catch records the failure.
    try:
        return pool.call(invoke_catalogued, spec.name, arn, event, timeout_s=spec.timeout_s)
    except SandboxLost as exc:
        message = f"the worker running {spec.name} exited before answering ({exc})"
    except TimedOut as exc:
        message = f"{spec.name}: {exc}"
    error = {"errorType": "Lambda.Unknown", "errorMessage": message}
    return json.dumps(error), True, ""


def use_pool(pool: WorkerPool | None, api: WorkerPool | None = None) -> None:
    """Run every function but the public API in ``pool`` from now on, and the public API
    in ``api`` (None: in this process)."""
    global _pool, _api_pool
    _pool, _api_pool = pool, api


__all__ = [
    "SandboxLost",
    "TimedOut",
    "WorkerPool",
    "api_pool",
    "invoke",
    "invoke_catalogued",
    "load_handler",
    "use_pool",
    "worker_pool",
]
