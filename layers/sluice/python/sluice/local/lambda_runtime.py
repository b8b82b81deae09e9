"""Run the catalogue's Lambda handlers on this machine: in this process or in a pool of
worker processes.

moto's Lambda reaches these through the invoke hook (``sluice.local.patches.lambda_invoke``),
which hands every invocation to :func:`invoke`.

By default a handler runs in this process, on the invoking thread (tests rely on
this to hold or break a step). With a pool (:func:`worker_pool`, of ``processes`` > 0:
``sluice local`` and the benchmarks), every pipeline step runs in one of that many worker
processes, as Lambdas run in sandboxes of their own: steps no longer share one
interpreter's lock and heap, and at most one step per core runs at once, as a laptop has
no more to give. The API function stays in this process, so answers never wait behind a
scan.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import threading
import time
import traceback
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor
from types import ModuleType
from typing import Any

import pyarrow as pa

from sluice import aws, heap
from sluice.catalog import CATALOG, Catalog, FunctionSpec

_modules: dict[str, ModuleType] = {}
_modules_lock = threading.Lock()


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


def worker_pool(processes: int) -> Executor:
    """Processes forked from a server that imported the handlers and ran their code once
    (``worker_warmup``); each inherits this process's environment (the embedded AWS's
    endpoint and names), and has one core, as the pool has one worker per core."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sluice.local.lambda_runtime", "sluice.local.worker_warmup"])
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=context,
        initializer=_start_worker,
        initargs=(_prefault_mib(processes),),
    )
    # Start every worker now: the pool would start each at its first call, in an ingest,
    # which would then wait for its prefault.
    for _ in range(processes):
        pool.submit(int)
    return pool


PREFAULT_MIB = 768
"""How much heap a worker touches at its start (sluice.heap.prefault): about what a chunk
scan's heap reaches, where the machine has room for it in every worker."""


def _prefault_mib(processes: int) -> int:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    return min(PREFAULT_MIB, physical // (4 * max(processes, 1)))


def _start_worker(prefault_mib: int) -> None:
    # One core: Arrow's thread pool sized for the machine would have every worker's
    # threads fight over the cores the other workers use (the CSV reader then spends
    # 1.6x the CPU).
    pa.set_cpu_count(1)
    # What the catalogue's environment gives each Lambda at its start (sluice.heap).
    heap.keep_freed_memory()
    # A scan's heap, touched now rather than page by page during the first scan (2.5 s
    # where later scans took 1.1).
    heap.prefault(prefault_mib)
    # The clients every step uses, made now rather than in the first steps of an ingest
    # (on_upload and plan each spent 0.3 s of their 0.4 loading botocore's models), in
    # an environment that names the deployment (the local system's).
    table = os.environ.get("SLUICE_TABLE")
    if table:
        aws.warm(("s3", "stepfunctions"), (table,))


_pool: Executor | None = None


def invoke(catalog: Catalog, name: str, arn: str, event: Any) -> tuple[str, bool, str]:
    """Run the catalogued function ``name`` where it belongs: the pool, if one is in use, for
    every function but the public API; else this process."""
    if _pool is not None and not catalog.function(name).public_api:
        return _pool.submit(invoke_catalogued, name, arn, event).result()
    return invoke_in_process(catalog, name, arn, event)


def use_pool(pool: Executor | None) -> None:
    """Run every function but the public API in ``pool`` from now on (None: in this process)."""
    global _pool
    _pool = pool
