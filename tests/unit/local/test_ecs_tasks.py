"""sluice.local.patches.ecs_tasks and sfn_ecs_sync: the pure parts (the command, the
environment, what counts as a failed task); tests/integration/test_local_ecs.py runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sluice.local.patches import ecs_tasks, sfn_ecs_sync


def test_the_command_is_entry_point_then_command_in_this_interpreter() -> None:
    container = {"entryPoint": ["python", "-m"], "command": ["sluice.training.trainer"]}
    assert ecs_tasks._command(container, {}) == [sys.executable, "-m", "sluice.training.trainer"]


def test_an_override_command_replaces_the_definitions() -> None:
    container = {"command": ["python", "-c", "1"]}
    assert ecs_tasks._command(container, {"command": ["echo", "hi"]}) == ["echo", "hi"]


def test_a_container_without_a_command_is_refused() -> None:
    with pytest.raises(ValueError, match="no entryPoint or command"):
        ecs_tasks._command({"name": "main"}, {})


def test_the_override_environment_wins_over_the_definitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.setenv("UNRELATED", "x")
    env = ecs_tasks._environment(
        {"environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "1"}]},
        {"environment": [{"name": "B", "value": "2"}]},
    )
    assert (env["A"], env["B"], env["AWS_ENDPOINT_URL"]) == ("1", "2", "http://127.0.0.1:1")
    assert "AWS_PROFILE" not in env and "UNRELATED" not in env


@pytest.mark.parametrize(
    ("containers", "failed"),
    [
        ([{"ExitCode": 0}], False),
        ([{"ExitCode": 0}, {"ExitCode": 2}], True),
        ([{"LastStatus": "STOPPED"}], True),  # no exit code: it never ran
        ([], True),
    ],
)
def test_a_task_fails_unless_every_container_exited_zero(
    containers: list[dict[str, object]], failed: bool
) -> None:
    assert sfn_ecs_sync.task_failed({"Containers": containers}) is failed


class _Endpoint:
    """A callback endpoint that answers at once and remembers the timeout it was given."""

    def __init__(self) -> None:
        self.timeouts: list[object] = []

    def wait(self, timeout: object = None) -> str:
        self.timeouts.append(timeout)
        return "outcome"


def test_a_stopped_executions_token_wait_ends_at_once_without_a_timeout() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (  # noqa: E501
        StateTaskServiceEcs,
    )

    sfn_ecs_sync.install()
    endpoint = _Endpoint()
    wait = StateTaskServiceEcs._wait_for_task_token_timeout
    # What the interpreter pops for a timeout when the execution stopped first: the input.
    assert wait(None, {"Cluster": "c"}, endpoint) is None  # type: ignore[arg-type]
    assert endpoint.timeouts == []
    assert wait(None, 30, endpoint) == "outcome"  # type: ignore[arg-type]
    assert endpoint.timeouts == [30]


def _started(code: str) -> tuple[subprocess.Popen[bytes], int | None]:
    process = subprocess.Popen([sys.executable, "-c", code])
    return process, ecs_tasks.open_pidfd(process)


def test_exit_status_is_the_processes_own_code() -> None:
    process, pidfd = _started("raise SystemExit(3)")
    assert ecs_tasks.exit_status(process, pidfd) == 3
    assert process.returncode == 3


def test_exit_status_of_a_process_killed_by_a_signal_is_minus_the_signal() -> None:
    process, pidfd = _started("import time; time.sleep(60)")
    process.send_signal(signal.SIGTERM)
    assert ecs_tasks.exit_status(process, pidfd) == -signal.SIGTERM


def test_a_status_another_waiter_took_is_none_and_never_success() -> None:
    # What Popen.wait answers 0 for: the process reaped by someone else first.
    process, pidfd = _started("raise SystemExit(7)")
    os.waitpid(process.pid, 0)  # the other waiter
    assert ecs_tasks.exit_status(process, pidfd) is None
    assert process.returncode == ecs_tasks.LOST_STATUS
    assert process.poll() == ecs_tasks.LOST_STATUS  # Popen will not wait on the pid again
