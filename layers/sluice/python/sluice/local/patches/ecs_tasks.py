"""Run an ECS task's container command as a local subprocess.

moto's ECS ``RunTask`` records a task and runs nothing; its status then walks from
RUNNING to STOPPED as it is described, whatever the task would have done. sluice's
training runs as a Fargate task (``statemachines/train_model.asl.json``), so locally the
task must really run. ``install()`` makes ``RunTask`` start the task definition's first
container as a process on this machine (no Docker: the command runs in this Python
environment), and makes ``DescribeTasks`` and ``StopTask`` follow that process:

- the command is the container's ``entryPoint`` + ``command`` (an override's command
  replaces it), ``python``/``python3`` at its head being this interpreter;
- its environment is a few of this process's variables (``PATH``, ``HOME``, ...), every
  ``AWS_*`` one (the embedded AWS's endpoint and test credentials, as a task role would
  give credentials), then the container's ``environment``, then the override's;
- the task is RUNNING while the process lives, then STOPPED with the container's
  ``exitCode``, ``stopCode`` ``EssentialContainerExited`` and ``stoppedReason``
  ``Essential container in task exited``, as ECS reports it; the container's
  ``reason`` is the last line its process wrote to stderr (ECS leaves it empty for an
  exit code: locally it is a convenience, which sluice never relies on); the process is
  waited for through a pidfd, and a status something else in this process reaped first
  is never reported as exit code 0 (:func:`exit_status`);
- ``StopTask`` sends SIGTERM to the process group, answers at once (desired STOPPED,
  last RUNNING, as ECS does), and sends SIGKILL after the container's ``stopTimeout``
  (ECS's default 30 s), the task ending with ``stopCode`` ``UserInitiated`` and the reason given.

Each task's stdout and stderr go to a file in a folder of its own (:func:`log_path`).
:func:`stop_all` kills what is still running when the local system stops.
moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Task

from sluice.local.patches.replace import replace_once, replaced

logger = logging.getLogger(__name__)

ESSENTIAL_EXITED = "Essential container in task exited"
DEFAULT_STOP_TIMEOUT_S = 30.0
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
_REASON_BYTES = 4096
LOST_STATUS = -(2**31)
"""Popen's returncode for a process whose status another waiter took (never a real one)."""


@dataclass
class _LocalTask:
    """One task's process and what it ended with."""

    task: Task
    process: subprocess.Popen[bytes]
    pidfd: int | None  # closed once the process is reaped
    logs: Path
    stop_timeout_s: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_reason: str | None = None
    exit_code: int | None = None
    stopped_at: datetime | None = None

    @property
    def stderr_path(self) -> Path:
        return self.logs / "stderr.log"


_tasks: dict[str, _LocalTask] = {}  # task id -> its process
_tasks_lock = threading.Lock()


def _command(container: dict[str, Any], override: dict[str, Any]) -> list[str]:
    entry = list(container.get("entryPoint") or [])
    command = list(override.get("command") or container.get("command") or [])
    argv = entry + command
    if not argv:
        raise ValueError(f"container {container.get('name')} has no entryPoint or command")
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable  # the environment sluice runs in, not the image's
    return argv


def _pairs(items: Sequence[dict[str, str]] | None) -> dict[str, str]:
    # The task definition is stored as sent (camelCase); overrides likewise.
    return {item["name"]: item.get("value", "") for item in items or ()}


def _environment(container: dict[str, Any], override: dict[str, Any]) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_") and k != "AWS_PROFILE"})
    env.update(_pairs(container.get("environment")))
    env.update(_pairs(override.get("environment")))
    return env


def _start(task: Task, container: dict[str, Any], overrides: dict[str, Any]) -> None:
    name = container.get("name")
    override: dict[str, Any] = next(
        (o for o in overrides.get("containerOverrides") or () if o.get("name") == name), {}
    )
    logs = Path(tempfile.mkdtemp(prefix=f"sluice-ecs-{task.id[:8]}-"))
    with (logs / "stdout.log").open("wb") as out, (logs / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            _command(container, override),
            env=_environment(container, override),
            cwd=container.get("workingDirectory") or None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a process group, so a stop reaches its children
        )
    local = _LocalTask(
        task,
        process,
        open_pidfd(process),
        logs,
        float(container.get("stopTimeout") or DEFAULT_STOP_TIMEOUT_S),
    )
    task._transitions = []  # moto's simulated progression: none; the process decides
    task.status = "RUNNING"
    _describe(task, started_at=datetime.now(UTC))
    for described in task.containers:
        described.last_status = "RUNNING"
    with _tasks_lock:
        _tasks[task.id] = local
    threading.Thread(target=_wait, args=(local,), name=f"ecs-{task.id[:8]}", daemon=True).start()


def _describe(model: object, **fields: Any) -> None:
    """Set fields of ECS's answer that moto's models do not declare (its serializer
    reads any attribute named as the answer's member, in snake_case)."""
    for name, value in fields.items():
        setattr(model, name, value)


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - _REASON_BYTES))
            tail = stream.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:255] if lines else ""


def open_pidfd(process: subprocess.Popen[bytes]) -> int | None:
    """A pidfd of the just started ``process`` (None off Linux): it names this process,
    not its pid's number, which another may have once the process is reaped."""
    return os.pidfd_open(process.pid) if hasattr(os, "pidfd_open") else None


def exit_status(process: subprocess.Popen[bytes], pidfd: int | None) -> int | None:
    """Wait for ``process`` to end and reap it: its exit code as Popen gives it (minus the
    signal that killed it); None where something else in this process reaped it first.
    ``pidfd`` (from :func:`open_pidfd`) is closed.

    Popen's own ``wait`` answers 0 then, as if the process had succeeded: a stopped task
    whose status was taken from it read as exit code 0 (seen once in CI, on a 32768-pid
    machine, where a waiter holding a reused pid is the likeliest taker). Here the process
    is waited for through its pidfd, and Popen is told the outcome under its own lock, so
    that neither it nor we wait on that pid's number again."""
    if pidfd is None:
        return process.wait()
    try:
        select.select([pidfd], [], [])  # readable once the process has ended
        # Popen's own waits take this lock; a poll() between the select and here reaps
        # the process itself, with its status.
        with getattr(process, "_waitpid_lock", contextlib.nullcontext()):
            if process.returncode is None:
                try:
                    ended = os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
                except ChildProcessError:
                    ended = None
                if ended is None:
                    process.returncode = LOST_STATUS  # never 0: Popen must not wait again
                else:
                    signalled = ended.si_code != os.CLD_EXITED
                    process.returncode = -ended.si_status if signalled else ended.si_status
    finally:
        os.close(pidfd)
    return None if process.returncode == LOST_STATUS else process.returncode


def _wait(local: _LocalTask) -> None:
    """Reap the process and put what it ended with on the task, as ECS would."""
    status = exit_status(local.process, local.pidfd)
    lost = status is None
    if status is None:
        # The process is gone without its status: a stop asked for is taken as done (its
        # SIGTERM), anything else as a failure, never as the success Popen would answer.
        logger.warning("task %s: its exit status was taken by another waiter", local.task.id)
        status = -int(signal.SIGTERM) if local.stop_reason is not None else 1
    code = 128 - status if status < 0 else status  # a signal as Docker says it (SIGTERM: 143)
    with local.lock:
        local.exit_code = code
        local.stopped_at = datetime.now(UTC)
        task = local.task
        user_stop = local.stop_reason is not None
        _describe(
            task,
            stop_code="UserInitiated" if user_stop else "EssentialContainerExited",
            stopped_reason=local.stop_reason if user_stop else ESSENTIAL_EXITED,
            stopped_at=local.stopped_at,
            execution_stopped_at=local.stopped_at,
        )
        reason = _last_line(local.stderr_path) if code != 0 else ""
        if lost:
            reason = "the task's exit status was lost (another waiter reaped its process)"
        for described in task.containers:
            described.last_status = "STOPPED"
            described.exitCode = code
            if reason:
                _describe(described, reason=reason)
        task.desired_status = "STOPPED"
        task.status = "STOPPED"


def _stop(local: _LocalTask, reason: str) -> None:
    with local.lock:
        if local.exit_code is not None or local.stop_reason is not None:
            return
        local.stop_reason = reason or "Task stopped by user"
        local.task.desired_status = "STOPPED"
    _signal(local, signal.SIGTERM)
    timer = threading.Timer(local.stop_timeout_s, _signal, args=(local, signal.SIGKILL))
    timer.daemon = True
    timer.start()


def _signal(local: _LocalTask, signum: int) -> None:
    if local.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(local.process.pid, signum)


def _find(task_str: str) -> _LocalTask | None:
    with _tasks_lock:
        return _tasks.get(task_str.split("/")[-1])


def _running_here(run_task: Callable[..., list[Task]]) -> Callable[..., list[Task]]:
    def run(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
        tasks = run_task(self, *args, **kwargs)
        # run_task(cluster_str, task_definition_str, count, overrides, ...)
        definition_str = str(kwargs.get("task_definition_str", args[1] if len(args) > 1 else ""))
        overrides = kwargs.get("overrides", args[3] if len(args) > 3 else None) or {}
        definition = self.describe_task_definition(definition_str)
        for task in tasks:
            _start(task, definition.container_definitions[0], overrides)
        return tasks

    return run


def _stopping_here(stop_task: Callable[..., Task]) -> Callable[..., Task]:
    def stop(
        self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str
    ) -> Task:
        local = _find(task_str)
        if local is None:
            return stop_task(self, cluster_str, task_str, reason)
        self._get_cluster(cluster_str)  # an unknown cluster answers as moto does
        _stop(local, reason)
        return local.task

    return stop


def install() -> None:
    """Run ECS tasks as local processes. Safe to call more than once."""
    replace_once(EC2ContainerServiceBackend, "run_task", _running_here)
    replace_once(EC2ContainerServiceBackend, "stop_task", _stopping_here)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(EC2ContainerServiceBackend, "run_task") and replaced(
        EC2ContainerServiceBackend, "stop_task"
    )


def log_path(task_arn: str) -> Path | None:
    """The folder holding a local task's ``stdout.log`` and ``stderr.log``."""
    local = _find(task_arn)
    return local.logs if local is not None else None


def stop_all(grace_s: float = 2.0) -> None:
    """Stop every task still running (the local system is stopping): SIGTERM, then
    SIGKILL after ``grace_s``."""
    with _tasks_lock:
        running = [local for local in _tasks.values() if local.process.poll() is None]
    for local in running:
        _stop(local, "the local system stopped")
    for local in running:
        try:
            local.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            _signal(local, signal.SIGKILL)


__all__ = ["exit_status", "install", "installed", "log_path", "open_pidfd", "stop_all"]
