"""``sluice local``, ``sluice demo-data`` and ``sluice manifests``: the local system and the
project's generators (the commands of the first ``sluice``, with the same options)."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path

import click

from sluice.config import MIB

STOP_REPORT_S = 30.0
"""A stop still running after this long writes every thread's stack to stderr."""

SIGNAL_CHECK_S = 0.25
"""How often the main thread, waiting for Ctrl-C, runs the signal handlers due."""


@click.command("local")
@click.option("--port", type=int, default=3000, envvar="SLUICE_PORT", show_default=True)
@click.option("--aws-port", type=int, default=0, help="moto's port (default: any free)")
@click.option(
    "--chunk-bytes", type=int, default=None, help=f"ingest chunk size (default {64 * MIB})"
)
@click.option("--max-upload-bytes", type=int, default=None, help="upload size limit")
@click.option(
    "--lambda-processes",
    type=int,
    default=os.cpu_count() or 1,
    help="worker processes for the pipeline steps (default: one per core; 0: in-process)",
)
@click.option("--no-demo", is_flag=True, help="no demo user")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="keep users, records and objects in this folder across restarts (default: none)",
)
@click.option("--ephemeral", is_flag=True, help="keep state in memory only (the default)")
@click.option("--no-sample", is_flag=True, help="no sample dataset")
def local(
    port: int,
    aws_port: int,
    chunk_bytes: int | None,
    max_upload_bytes: int | None,
    lambda_processes: int,
    no_demo: bool,
    state_dir: Path | None,
    ephemeral: bool,
    no_sample: bool,
) -> None:
    """Run the whole system on an embedded AWS."""
    if ephemeral and state_dir is not None:
        raise click.UsageError("--state-dir and --ephemeral exclude each other")
    from sluice.local.state import StateError
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    # SIGUSR1 writes every thread's stack to stderr: what a stop that hangs waits on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # First: a Ctrl-C while the system starts stops it as soon as it has started.
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        system = LocalSystem(
            LocalOptions(
                port=port,
                aws_port=aws_port,
                chunk_bytes=chunk_bytes,
                max_upload_bytes=max_upload_bytes,
                demo=not no_demo,
                lambda_processes=lambda_processes,
                state_dir=state_dir,
            )
        )
    except StateError as exc:
        print(f"sluice local: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    system.start()
    where = "state is in memory" if state_dir is None else f"state in {state_dir}"
    if state_dir is not None and not system.fresh:
        where += ", restored"
    print(f"sluice local: API      {system.api_url}  (docs: {system.api_url}/docs)", flush=True)
    print(f"sluice local: AWS      {system.endpoint}  (moto; {where})", flush=True)
    if not no_demo:
        print(
            f"sluice local: sign in  username {DEMO_USER!r}, password {DEMO_PASSWORD!r}", flush=True
        )
        if not no_sample and system.fresh and not stop.is_set():
            dataset_id = system.upload_sample()
            print(f"sluice local: sample   dataset {dataset_id} (samples/sales)", flush=True)
    print("sluice local: ready; Ctrl-C stops", flush=True)
    wait_for_signal(stop)
    # A stop takes seconds: one that has not ended by then writes what it waits on.
    faulthandler.dump_traceback_later(STOP_REPORT_S)
    system.stop()
    faulthandler.cancel_dump_traceback_later()
    print("sluice local: stopped", flush=True)


def wait_for_signal(stop: threading.Event) -> None:
    """Return once a signal handler has set ``stop``.

    Python runs a handler on the main thread only, when it next runs Python code; the
    kernel may hand a process's signal to any of its threads. Given to another thread, it
    wakes nothing: a main thread blocked in ``stop.wait()`` would wait forever (a Ctrl-C
    that once left ``sluice local`` running under a loaded CI). A wait that ends every
    ``SIGNAL_CHECK_S`` runs the handlers due.
    """
    while not stop.wait(SIGNAL_CHECK_S):
        pass


@click.command("demo-data")
@click.option("--bytes", "size", type=float, required=True, help="about how many bytes")
@click.option("--out", required=True, help="the CSV file to write")
@click.option("--songs", type=int, default=None, help="distinct songs (default: many)")
@click.option("--seed", type=int, default=0)
def demo_data(size: float, out: str, songs: int | None, seed: int) -> None:
    """Write BMAT's demo file: Song, Date, Number of Plays rows."""
    from sluice.cli.demo_data import write_demo_data

    started = time.perf_counter()
    written = write_demo_data(out, int(size), songs=songs, seed=seed)
    seconds = time.perf_counter() - started
    print(
        f"wrote {written['rows']:,} rows, {written['bytes']:,} bytes, {written['songs']:,} songs "
        f"to {out} in {seconds:.1f} s ({written['bytes'] / seconds / 1e6:.0f} MB/s)"
    )


@click.command("manifests")
@click.option("--out", default=None, help="the folder to write (default: the package's manifests/)")
def manifests(out: str | None) -> None:
    """Regenerate the Keras manifests (layers, optimizers, losses, metrics, activations)."""
    from sluice.networks.manifest_build import write_manifests
    from sluice.networks.manifests import MANIFEST_DIR

    for path in write_manifests(Path(out) if out else MANIFEST_DIR):
        print(f"wrote {path}")
