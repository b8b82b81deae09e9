"""The `sluice` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from sluice.config import MIB


def _local(args: argparse.Namespace) -> int:
    from sluice.local.state import StateError
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    # First: a Ctrl-C while the system starts stops it as soon as it has started.
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    state_dir = None if args.ephemeral else args.state_dir
    try:
        system = LocalSystem(
            LocalOptions(
                port=args.port,
                aws_port=args.aws_port,
                chunk_bytes=args.chunk_bytes,
                max_upload_bytes=args.max_upload_bytes,
                demo=not args.no_demo,
                lambda_processes=args.lambda_processes,
                state_dir=state_dir,
            )
        )
    except StateError as exc:
        print(f"sluice local: {exc}", file=sys.stderr, flush=True)
        return 2
    system.start()
    where = "state is in memory" if state_dir is None else f"state in {state_dir}"
    if state_dir is not None and not system.fresh:
        where += ", restored"
    print(f"sluice local: API      {system.api_url}  (docs: {system.api_url}/docs)", flush=True)
    print(f"sluice local: AWS      {system.endpoint}  (moto; {where})", flush=True)
    if not args.no_demo:
        print(
            f"sluice local: sign in  username {DEMO_USER!r}, password {DEMO_PASSWORD!r}", flush=True
        )
        if not args.no_sample and system.fresh and not stop.is_set():
            dataset_id = system.upload_sample()
            print(f"sluice local: sample   dataset {dataset_id} (samples/sales)", flush=True)
    print("sluice local: ready; Ctrl-C stops", flush=True)
    stop.wait()
    system.stop()
    print("sluice local: stopped", flush=True)
    return 0


def _demo_data(args: argparse.Namespace) -> int:
    from sluice.cli.demo_data import write_demo_data

    started = time.perf_counter()
    written = write_demo_data(args.out, int(args.bytes), songs=args.songs, seed=args.seed)
    seconds = time.perf_counter() - started
    print(
        f"wrote {written['rows']:,} rows, {written['bytes']:,} bytes, {written['songs']:,} songs "
        f"to {args.out} in {seconds:.1f} s ({written['bytes'] / seconds / 1e6:.0f} MB/s)"
    )
    return 0


def _manifests(args: argparse.Namespace) -> int:
    from sluice.networks.manifest_build import write_manifests
    from sluice.networks.manifests import MANIFEST_DIR

    out = Path(args.out) if args.out else MANIFEST_DIR
    for path in write_manifests(out):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sluice` command."""
    parser = argparse.ArgumentParser(prog="sluice", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the whole system on an embedded AWS")
    local.add_argument("--port", type=int, default=int(os.environ.get("SLUICE_PORT", "3000")))
    local.add_argument("--aws-port", type=int, default=0, help="moto's port (default: any free)")
    local.add_argument(
        "--chunk-bytes", type=int, default=None, help=f"ingest chunk size (default {64 * MIB})"
    )
    local.add_argument("--max-upload-bytes", type=int, default=None, help="upload size limit")
    local.add_argument(
        "--lambda-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the pipeline steps (default: one per core; 0: in-process)",
    )
    local.add_argument("--no-demo", action="store_true", help="no demo user")
    where = local.add_mutually_exclusive_group()
    where.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keep users, records and objects in this folder across restarts (default: none)",
    )
    where.add_argument(
        "--ephemeral", action="store_true", help="keep state in memory only (the default)"
    )
    local.add_argument("--no-sample", action="store_true", help="no sample dataset")
    local.set_defaults(run=_local)
    demo = commands.add_parser(
        "demo-data", help="write BMAT's demo file: Song, Date, Number of Plays rows"
    )
    demo.add_argument("--bytes", type=float, required=True, help="about how many bytes")
    demo.add_argument("--out", required=True, help="the CSV file to write")
    demo.add_argument("--songs", type=int, default=None, help="distinct songs (default: many)")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo_data)
    manifests = commands.add_parser(
        "manifests",
        help="regenerate the Keras manifests (layers, optimizers, losses, metrics, activations)",
    )
    manifests.add_argument(
        "--out", default=None, help="the folder to write (default: the package's manifests/)"
    )
    manifests.set_defaults(run=_manifests)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code
