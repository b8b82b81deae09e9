"""`sluice local --state-dir` as a user meets it: a subprocess stopped with Ctrl-C (the
whole process group, as a terminal sends it) or killed, and started again on its folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from sluice.local.launch import DidNotStart, launch
from sluice.local.state import INTERVAL_S
from sluice.local.state_folder import SNAPSHOT
from sluice.local.state_interrupted import INTERRUPTED
from sluice.local.system import DEMO_PASSWORD, DEMO_USER, free_port

from tests.support import wait_for

# A stop that hangs fails the test; how fast it stops is not asserted (timings swing with the
# machine's load: 9.3 s once under a load of 15, ~3 s on a quiet machine).
STOP_TIMEOUT_S = 60


@dataclass
class Started:
    api: str
    aws: str
    process: subprocess.Popen[str]
    stdout: str
    stderr: Path


def start(state_dir: Path, port: int, tmp_path: Path) -> Started:
    stderr = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
    args = ["--port", str(port), "--chunk-bytes", "2048", "--lambda-processes", "1"]
    args += ["--no-sample", "--state-dir", str(state_dir)]
    with stderr.open("w") as errors:
        try:
            started = launch(args, stderr=errors, new_session=True)
        except DidNotStart as exc:
            raise AssertionError(f"{exc}\n{stderr.read_text()}") from exc
    health = requests.get(f"{started.api}/health", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    return Started(started.api, started.aws, started.process, started.output, stderr)


def ctrl_c(system: Started) -> None:
    """Send SIGINT to the system's process group; it exits cleanly, having saved its state."""
    os.killpg(system.process.pid, signal.SIGINT)
    stops_cleanly(system)


def stops_cleanly(system: Started) -> None:
    """The system, sent a signal that stops it, exits cleanly within STOP_TIMEOUT_S."""
    try:
        rest, _ = system.process.communicate(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired as hung:
        # What the stop waits on: the system writes its threads' stacks on SIGUSR1.
        system.process.send_signal(signal.SIGUSR1)
        with contextlib.suppress(Exception):
            wait_for(lambda: stacks_written(system.stderr), timeout_s=10)
        errors = system.stderr.read_text()
        dump = errors.find("hread 0x")  # "Thread 0x..." or "Current thread 0x..."
        raise AssertionError(
            f"no stop in {STOP_TIMEOUT_S} s:\n{errors[max(dump - 10, 0) :][-40000:]}"
        ) from hung
    assert system.process.returncode == 0, rest
    assert "sluice local: stopped" in rest
    errors = system.stderr.read_text()
    assert "Traceback" not in errors, errors


def stacks_written(stderr: Path, quiet_s: float = 1.0) -> bool | None:
    """True once a stack dump has begun and ``stderr`` has not grown for ``quiet_s``:
    faulthandler writes one thread at a time, the first long before the last."""
    before = stderr.read_text()
    if "hread 0x" not in before:
        return None
    time.sleep(quiet_s)
    return True if stderr.read_text() == before else None


def sign_in(api: str, username: str = DEMO_USER, password: str = DEMO_PASSWORD) -> str:
    answer = requests.post(
        f"{api}/auth/token", json={"username": username, "password": password}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get(api: str, path: str, token: str, **params: Any) -> Any:
    answer = requests.get(f"{api}{path}", headers=bearer(token), params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def create_and_upload(api: str, token: str, name: str, body: bytes) -> str:
    created = requests.post(
        f"{api}/datasets", json={"name": name}, headers=bearer(token), timeout=30
    ).json()
    ticket = created["upload"]
    posted = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("data.csv", body)}, timeout=60
    )
    assert posted.status_code == 204, posted.text
    return str(created["dataset"]["id"])


def settled(api: str, token: str, dataset_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        dataset: dict[str, Any] = get(api, f"/datasets/{dataset_id}", token)
        return dataset if dataset["status"] in ("ready", "failed") else None

    return wait_for(probe, 90, "the dataset to settle")


def cognito(aws: str) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=aws,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def stopped_on_exit() -> Iterator[list[Started]]:
    """Systems to kill if a test leaves them running."""
    systems: list[Started] = []
    yield systems
    for system in systems:
        if system.process.poll() is None:
            os.killpg(system.process.pid, signal.SIGKILL)
            system.process.wait(timeout=30)


def test_state_survives_ctrl_c_and_kill_9(tmp_path: Path, stopped_on_exit: list[Started]) -> None:
    state_dir, port = tmp_path / "state", free_port()
    first = start(state_dir, port, tmp_path)
    stopped_on_exit.append(first)
    assert "state in" in first.stdout and "restored" not in first.stdout
    token = sign_in(first.api)
    pool = cognito(first.aws).list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    cognito(first.aws).admin_create_user(
        UserPoolId=pool, Username="other", MessageAction="SUPPRESS"
    )
    cognito(first.aws).admin_set_user_password(
        UserPoolId=pool, Username="other", Password="other-pass-1", Permanent=True
    )
    rows = "".join(f"{i},name {i},{i * 1.5}\n" for i in range(300))
    ready_id = create_and_upload(first.api, token, "kept", ("id,name,score\n" + rows).encode())
    ready = settled(first.api, token, ready_id)
    assert (ready["status"], ready["row_count"]) == ("ready", 300)
    page = get(first.api, f"/datasets/{ready_id}/rows", token, start_row=100, num_rows=5)
    # An ingest in flight at the stop (~20 chunks of 2 KB): it may not stay "inferring".
    big = "".join(f"{i},word {i},{i / 4}\n" for i in range(2000))
    busy_id = create_and_upload(first.api, token, "cut short", ("n,w,s\n" + big).encode())
    ctrl_c(first)

    second = start(state_dir, port, tmp_path)
    stopped_on_exit.append(second)
    assert "restored" in second.stdout
    assert "sample" not in second.stdout  # the sample dataset is made once, on a new folder
    # A token issued before the restart is still accepted; the passwords still sign in.
    assert get(second.api, f"/datasets/{ready_id}", token) == ready
    assert get(second.api, f"/datasets/{ready_id}/rows", token, start_row=100, num_rows=5) == page
    sign_in(second.api)
    other = sign_in(second.api, "other", "other-pass-1")
    assert (
        requests.get(
            f"{second.api}/datasets/{ready_id}", headers=bearer(other), timeout=30
        ).status_code
        == 404
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=second.aws,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    source = ready["source"]
    kept = s3.get_object(Bucket=source["bucket"], Key=source["key"])
    assert kept["Body"].read() == ("id,name,score\n" + rows).encode()
    assert kept["ETag"].strip('"') == source["etag"].strip('"')
    # Its Glue table too (Athena's view of it), as it was.
    glue = boto3.client(
        "glue",
        endpoint_url=second.aws,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = glue.get_table(DatabaseName="sluice_datasets", Name=ready["query_table"]["table"])
    assert table["Table"]["Parameters"]["sluice_dataset_id"] == ready_id
    busy = get(second.api, f"/datasets/{busy_id}", token)
    assert busy["status"] in ("ready", "failed", "awaiting_upload"), busy
    if busy["status"] == "failed":
        assert busy["error"]["code"] == INTERRUPTED

    # A crash loses at most the last few seconds: what is older than a save is kept.
    later = requests.post(
        f"{second.api}/datasets", json={"name": "after restart"}, headers=bearer(token), timeout=30
    ).json()["dataset"]["id"]
    # The periodic save (every INTERVAL_S while the state changes) that holds it; the file
    # is replaced whole (a rename), and pickle keeps the id's text as it is.
    snapshot = state_dir / SNAPSHOT
    wait_for(
        lambda: later.encode() in snapshot.read_bytes() or None,
        INTERVAL_S * 10,
        "a save that holds the new dataset",
    )
    os.killpg(second.process.pid, signal.SIGKILL)
    second.process.wait(timeout=30)

    third = start(state_dir, port, tmp_path)
    stopped_on_exit.append(third)
    assert get(third.api, f"/datasets/{later}", token)["name"] == "after restart"
    ctrl_c(third)


def test_a_ctrl_c_the_kernel_hands_to_another_thread_stops_the_system(
    tmp_path: Path, stopped_on_exit: list[Started]
) -> None:
    # Linux hands a process's signal to any thread that does not block it; Python runs the
    # handler on the main thread only. kill() given a thread's id hands it to that thread.
    system = start(tmp_path / "state", free_port(), tmp_path)
    stopped_on_exit.append(system)
    pid = system.process.pid
    others = [int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid]
    os.kill(max(others), signal.SIGINT)
    stops_cleanly(system)
