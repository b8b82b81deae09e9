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

import contextlib
import importlib.util
import json
import multiprocessing
import os
import signal
import threading
import time
import traceback
import uuid
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType
from typing import Any

import pyarrow as pa

from sluice import aws, heap
from sluice.catalog import CATALOG, Catalog, FunctionSpec

_modules: dict[str, ModuleType] = {}
_modules_lock = threading.Lock()
# The public API's handler runs in this process, on whichever thread the request came in
# on; a Lambda sandbox serves one request at a time, and the handler relies on it:
# Powertools' resolver keeps the current event and route in process-wide attributes, so
# two requests at once would each read the other's caller (a 404 for one's own dataset,
# or another user's data) and route. One request at a time here, as one sandbox.
_api_sandbox = threading.Lock()


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
    """Processes forked from a server that imported the handlers and ran their code once
    (``worker_warmup``); each inherits this process's environment (the embedded AWS's
    endpoint and names), and has one core, as the pool has one worker per core."""
    return WorkerPool(processes)


def _process_pool(processes: int) -> ProcessPoolExecutor:
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


class SandboxLost(Exception):
    """The worker running a call died (killed, out of memory): as a Lambda sandbox lost
    mid-invocation, the call has no answer, and the pool has new workers for the next."""


class TimedOut(Exception):
    """A call ran past its function's timeout; its worker was stopped, as Lambda stops a
    sandbox at its timeout."""


class WorkerPool(Executor):
    """A process pool that survives the death of a worker.

    A ProcessPoolExecutor whose worker dies is broken for good: every call then fails,
    and the local system would run no step again. Here a broken pool is replaced by a
    fresh one (once, however many calls saw it break), and the calls it broke raise
    :class:`SandboxLost`, which :func:`invoke` answers as Lambda does a lost sandbox,
    so that the state machine retries the step as it would in AWS. A call is sent only
    when a worker is free, so that its timeout counts its own run, not its wait.
    """

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._lock = threading.Lock()
        self._pool = _process_pool(processes)
        self.replacements = 0
        self._free_workers = threading.BoundedSemaphore(processes)
        self._closed = False  # shut down: calls answer SandboxLost, nothing is replaced

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            pool = self._pool
        return pool.submit(fn, *args, **kwargs)

    def call(self, fn: Any, *args: Any, timeout_s: float | None = None) -> Any:
        """``fn(*args)`` in a worker; SandboxLost if its worker dies before answering,
        TimedOut if it has not answered in ``timeout_s``.

        A pool found broken before the call is sent (a worker died while idle) is
        replaced and the call sent to the new one: it never started, and an S3
        notification's on_upload, which nothing retries here, must not be lost to it.
        """
        with self._free_workers:
            return self._run(fn, args, timeout_s)

    def _run(self, fn: Any, args: tuple[Any, ...], timeout_s: float | None) -> Any:
        with self._lock:
            pool, closed = self._pool, self._closed
        if closed:
            raise SandboxLost("the local system is stopping")
        try:
            future = pool.submit(fn, *args)
        except BrokenProcessPool:
            pool = self._replace(pool)
            future = pool.submit(fn, *args)
        try:
            return future.result(timeout=timeout_s)
        except BrokenProcessPool as exc:
            self._replace(pool)
            raise SandboxLost(str(exc)) from exc
        except TimeoutError as exc:
            # Which worker runs the call is not known: stop them all. Calls they were
            # running are lost as to a killed worker, and retried the same way.
            for process in list((pool._processes or {}).values()):
                process.kill()
            self._replace(pool)
            raise TimedOut(f"Task timed out after {timeout_s:.2f} seconds") from exc

    def worker_pids(self) -> list[int]:
        """The workers' process ids (for tests that kill one)."""
        with self._lock:
            processes = self._pool._processes or {}
            return sorted(processes)

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """The pool to use instead of ``broken``: a new one, made once."""
        with self._lock:
            if self._closed:
                raise SandboxLost("the local system is stopping")
            if self._pool is not broken:  # another call replaced it already
                return self._pool
            self._pool = _process_pool(self._processes)
            self.replacements += 1
            fresh = self._pool
        broken.shutdown(wait=False, cancel_futures=True)
        return fresh

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool = self._pool
            self._closed = True
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def stop(self, grace_s: float) -> None:
        """Shut down within about ``grace_s``: workers still busy (a step, or their start's
        prefault) then are killed, as a stopping machine would. Calls answer SandboxLost."""
        pids = self.worker_pids()
        waiting = threading.Thread(target=self.shutdown, kwargs={"cancel_futures": True})
        waiting.start()
        waiting.join(grace_s)
        if waiting.is_alive():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            waiting.join(grace_s)


PREFAULT_MIB = 768
"""How much heap a worker touches at its start (sluice.heap.prefault): about what a chunk
scan's heap reaches, where the machine has room for it in every worker."""


WORKER_NICENESS = 5
"""How much lower than the server's a worker's CPU priority is."""


def _prefault_mib(processes: int) -> int:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    return min(PREFAULT_MIB, physical // (4 * max(processes, 1)))


def _start_worker(prefault_mib: int) -> None:
    # A terminal's Ctrl-C reaches the whole process group: the server stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Steps are batch work; the API (and moto, which every step calls) run in the server
    # process and answer people: on a laptop with as many workers as cores, the steps
    # otherwise took the cores from under the API's reads.
    os.nice(WORKER_NICENESS)
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


_pool: WorkerPool | None = None


def invoke(catalog: Catalog, name: str, arn: str, event: Any) -> tuple[str, bool, str]:
    """Run the catalogued function ``name`` where it belongs: the pool, if one is in use, for
    every function but the public API; else this process."""
    spec = catalog.function(name)
    if _pool is not None and not spec.public_api:
        # A sandbox lost or stopped at its timeout is what AWS reports as Lambda.Unknown
        # ("out-of-memory errors and function timeouts"), which every Task state of ours
        # retries a few times before its Catch records the failure.
        try:
            return _pool.call(invoke_catalogued, name, arn, event, timeout_s=spec.timeout_s)
        except SandboxLost as exc:
            message = f"the worker running {name} exited before answering ({exc})"
        except TimedOut as exc:
            message = f"{name}: {exc}"
        error = {"errorType": "Lambda.Unknown", "errorMessage": message}
        return json.dumps(error), True, ""
    if spec.public_api:
        with _api_sandbox:
            return invoke_in_process(catalog, name, arn, event)
    return invoke_in_process(catalog, name, arn, event)


def use_pool(pool: WorkerPool | None) -> None:
    """Run every function but the public API in ``pool`` from now on (None: in this process)."""
    global _pool
    _pool = pool
