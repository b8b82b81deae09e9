"""Load on the local system: many clients at once, bounded in time.

    python -m bench.load.run [--seconds 60] [--warmup 5] [--readers 20] [--uploaders 5]
                             [--taskers 2] [--host API --aws AWS] [--json FILE]

Starts ``sluice local --ephemeral --no-sample`` on free ports (or targets a running one:
``--host`` its API and ``--aws`` its embedded AWS, where the users' accounts are made;
``--host`` alone signs every user in as the demo user), makes one Cognito user per
virtual user, seeds each reader and tasker with an ingested dataset, then runs the
scenario (:mod:`bench.load.scenario`) with locust for ``--warmup`` seconds and then
``--seconds`` more, and prints, per route, of those last seconds: requests, requests/s,
p50, p99, max and errors. Exits 1 if any request failed, in the warm-up too.
"""

# locust patches the standard library for gevent: before anything imports ssl or sockets.
from locust import events  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import gevent
import requests
from gevent.pool import Pool
from sluice.local.launch import DidNotStart, launch

from bench.load import scenario
from bench.load.scenario import SETTLED, Seat, csv_body

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-pass-1"
DEMO = ("demo", "sluice-demo-1")
START_DEADLINE_S = 120.0
SEED_DEADLINE_S = 300.0


@contextmanager
def local_system(extra: list[str]) -> Iterator[tuple[str, str, int]]:
    """``sluice local`` in a subprocess: (API url, AWS url, pid) until the block ends."""
    try:
        started = launch(
            ["--port", "0", "--ephemeral", "--no-sample", *extra], within_s=START_DEADLINE_S
        )
    except DidNotStart as exc:
        raise SystemExit(str(exc)) from exc
    process = started.process
    # Its later lines (the gateway logs each request) must not fill the pipe and block it.
    drain = gevent.spawn(lambda: [None for _ in process.stdout or ()])
    try:
        yield started.api, started.aws, process.pid
    finally:
        process.send_signal(2)  # Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        drain.kill()


def _setup_call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request of the setup, tried three times: the setup is not what is measured."""
    for attempt in range(3):
        answer = requests.request(method, url, timeout=60, **kwargs)
        if answer.ok or attempt == 2:
            answer.raise_for_status()
            return answer
        time.sleep(0.2)
    raise AssertionError("unreachable")


def sign_in(api: str, username: str, password: str) -> dict[str, str]:
    answer = _setup_call(
        "POST", f"{api}/auth/token", json={"username": username, "password": password}
    )
    return {"Authorization": f"Bearer {answer.json()['id_token']}"}


def make_users(aws: str | None, count: int) -> list[tuple[str, str]]:
    """``count`` confirmed users of the system's pool (the demo user ``count`` times
    without ``aws``)."""
    if aws is None:
        return [DEMO] * count
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=aws,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pool = cognito.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    run = uuid.uuid4().hex[:6]
    users = []
    for n in range(count):
        name = f"load-{run}-{n}"
        cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=name, Password=PASSWORD, Permanent=True
        )
        users.append((name, PASSWORD))
    return users


def seed_dataset(api: str, seat: Seat, rows: int = 500) -> None:
    """Create a dataset for ``seat``, upload a CSV and wait for it to be ready."""
    created = _setup_call(
        "POST", f"{api}/datasets", json={"name": "seed", "path": "load"}, headers=seat.headers
    )
    ticket, dataset_id = created.json()["upload"], created.json()["dataset"]["id"]
    body = csv_body(f"{seat.username}-{uuid.uuid4().hex}", rows)
    requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("seed.csv", body)}, timeout=60
    ).raise_for_status()
    deadline = time.monotonic() + SEED_DEADLINE_S
    while time.monotonic() < deadline:
        record = _setup_call("GET", f"{api}/datasets/{dataset_id}", headers=seat.headers)
        status = record.json()["status"]
        if status in SETTLED:
            if status != "ready":
                raise RuntimeError(f"seed dataset {dataset_id}: {status}")
            seat.datasets[dataset_id] = rows
            return
        time.sleep(0.5)
    raise TimeoutError(f"seed dataset {dataset_id} not ready in {SEED_DEADLINE_S:.0f} s")


def seed(api: str, aws: str | None, readers: int, uploaders: int, taskers: int) -> None:
    """Accounts for every virtual user; a ready dataset for each reader and tasker."""
    users = make_users(aws, readers + uploaders + taskers)
    pool = Pool(8)
    seats = list(pool.imap(lambda user: Seat(user[0], sign_in(api, *user)), users))
    own_data = seats[:readers] + seats[readers + uploaders :]
    if aws is None:
        # One shared account: one dataset for all, and the listing check sees only it.
        seed_dataset(api, seats[0])
        for seat in own_data:
            seat.datasets = seats[0].datasets
    else:
        list(pool.imap(lambda seat: seed_dataset(api, seat), own_data))
    scenario.SEEDS.readers.extend(seats[:readers])
    scenario.SEEDS.uploaders.extend(seats[readers : readers + uploaders])
    scenario.SEEDS.taskers.extend(seats[readers + uploaders :])


@dataclass
class Measured:
    """Locust's stats of the measured window, and the failures of the warm-up before it."""

    stats: Any
    warmup_failures: int = 0
    warmup_errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return int(self.stats.total.num_failures) + self.warmup_failures


def drive(
    api: str, seconds: float, readers: int, uploaders: int, taskers: int, warmup_s: float = 0.0
) -> Measured:
    """Run the scenario for ``warmup_s`` then ``seconds``; the stats of the ``seconds``.

    Every user starts at once; the first ``warmup_s`` (each user's first requests, as
    many at once as users, and each API worker's first calls) are left out of the
    figures, as load tests leave out their ramp-up, but their failures still count."""
    classes: list[type] = []
    for cls, count in (
        (scenario.Reader, readers),
        (scenario.Uploader, uploaders),
        (scenario.Tasker, taskers),
    ):
        cls.fixed_count = count  # type: ignore[attr-defined]
        if count:
            classes.append(cls)
    env = Environment(user_classes=classes, host=api, events=events)
    runner = env.create_local_runner()
    users = readers + uploaders + taskers
    measured = Measured(env.stats)

    def end_warmup() -> None:
        measured.warmup_failures = int(env.stats.total.num_failures)
        measured.warmup_errors = [_error_line(error) for error in env.stats.errors.values()]
        env.stats.reset_all()

    runner.start(users, spawn_rate=users)
    if warmup_s:
        gevent.spawn_later(warmup_s, end_warmup)
    gevent.spawn_later(warmup_s + seconds, runner.quit)
    runner.greenlet.join()
    return measured


def _error_line(error: Any) -> str:
    return f"{error.occurrences} x {error.method} {error.name}: {error.error}"


def table(stats: Any) -> list[dict[str, Any]]:
    """One row per route: requests, req/s, p50, p99, max (ms) and errors."""
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        rows.append(_row(entry.name, entry))
    rows.append(_row("all", stats.total))
    return rows


def _row(name: str, entry: Any) -> dict[str, Any]:
    return {
        "route": name,
        "requests": entry.num_requests,
        "req_s": round(entry.total_rps, 1),
        "p50_ms": entry.get_response_time_percentile(0.5) if entry.num_requests else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
        "max_ms": round(entry.max_response_time) if entry.num_requests else None,
        "errors": entry.num_failures,
    }


def print_table(rows: list[dict[str, Any]], out: Any = sys.stdout) -> None:
    header = f"{'route':<30} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    print(header + f" {'max ms':>7} {'errors':>6}", file=out)
    for row in rows:
        cells = [row[k] if row[k] is not None else "-" for k in ("p50_ms", "p99_ms", "max_ms")]
        print(
            f"{row['route']:<30} {row['requests']:>8} {row['req_s']:>7} {cells[0]:>7}"
            f" {cells[1]:>7} {cells[2]:>7} {row['errors']:>6}",
            file=out,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of load before the measured ones"
    )
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--uploaders", type=int, default=5)
    parser.add_argument("--taskers", type=int, default=2)
    parser.add_argument("--host", help="a running system's API (default: start one)")
    parser.add_argument("--aws", help="with --host: its embedded AWS, to make the users")
    parser.add_argument("--json", type=Path, help="also write the table here")
    parser.add_argument(
        "--local-args", default="", help="more options for the sluice local it starts"
    )
    args = parser.parse_args(argv)
    counts = (args.readers, args.uploaders, args.taskers)

    def run(api: str, aws: str | None) -> int:
        started = time.monotonic()
        seed(api, aws, *counts)
        print(f"seeded {sum(counts)} users in {time.monotonic() - started:.1f} s", flush=True)
        measured = drive(api, args.seconds, *counts, warmup_s=args.warmup)
        rows = table(measured.stats)
        print(
            f"\n{sum(counts)} users for {args.seconds:.0f} s against {api}"
            f" (after {args.warmup:.0f} s of warm-up):"
        )
        print_table(rows)
        for error in list(measured.stats.errors.values())[:10]:
            print("  " + _error_line(error))
        if measured.warmup_failures:
            print(f"  {measured.warmup_failures} request(s) failed during the warm-up:")
            for line in measured.warmup_errors[:10]:
                print("    " + line)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return 1 if measured.failures else 0

    if args.host:
        return run(args.host.rstrip("/"), args.aws)
    with local_system(args.local_args.split()) as (api, aws, pid):
        print(f"sluice local (pid {pid}): API {api}, AWS {aws}", flush=True)
        return run(api, aws)


if __name__ == "__main__":
    sys.exit(main())
