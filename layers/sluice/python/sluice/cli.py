"""The `sluice` command."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from sluice.config import MIB


def _local(args: argparse.Namespace) -> int:
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    system = LocalSystem(
        LocalOptions(
            port=args.port,
            aws_port=args.aws_port,
            chunk_bytes=args.chunk_bytes,
            max_upload_bytes=args.max_upload_bytes,
            demo=not args.no_demo,
        )
    ).start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"sluice local: API      {system.api_url}  (docs: {system.api_url}/docs)", flush=True)
    print(f"sluice local: AWS      {system.endpoint}  (moto; state is in memory)", flush=True)
    if not args.no_demo:
        print(
            f"sluice local: sign in  username {DEMO_USER!r}, password {DEMO_PASSWORD!r}", flush=True
        )
        if not args.no_sample:
            dataset_id = system.upload_sample()
            print(f"sluice local: sample   dataset {dataset_id} (samples/sales)", flush=True)
    print("sluice local: ready; Ctrl-C stops", flush=True)
    stop.wait()
    system.stop()
    print("sluice local: stopped", flush=True)
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
    local.add_argument("--no-demo", action="store_true", help="no demo user")
    local.add_argument("--no-sample", action="store_true", help="no sample dataset")
    local.set_defaults(run=_local)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
