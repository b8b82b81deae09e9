"""The training benchmark: our job against plain Keras on NumPy arrays, in one run.

    python -m bench.training.run [--rows 200000] [--columns 16] [--epochs 3]
                                 [--batch-size 256] [--keep FILE]

1. Writes a CSV of ``--rows`` x ``--columns`` normal numbers and a 0/1 label.
2. Ours: sluice local in this process (the trainer a subprocess, as its ECS task);
   sign in, create a dataset, upload through the presigned POST, wait until ready,
   create the graph (Input -> Dense 64 -> Dense 64 -> Dense 1), train, poll.
3. The peer in a subprocess: pyarrow reads the CSV, ``model.fit`` on in-memory arrays
   with the same model, split shares, batch size and epochs.
4. Prints both throughputs (samples/s over the epochs, measured inside each trainer),
   the ratio, both peak RSS, and our POST-to-first-epoch time in its parts.

A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

VALIDATION, TEST = 0.1, 0.1


def write_csv(path: Path, rows: int, columns: int) -> None:
    rng = np.random.default_rng(0)
    weights = rng.normal(size=columns)
    with path.open("w") as out:
        out.write(",".join(f"x{i}" for i in range(columns)) + ",label\n")
        for start in range(0, rows, 100_000):
            x = rng.normal(size=(min(100_000, rows - start), columns))
            label = (x @ weights > 0).astype(int)
            block = np.column_stack([np.round(x, 4), label])
            np.savetxt(out, block, delimiter=",", fmt=["%.4f"] * columns + ["%d"])


def graph(columns: int) -> dict[str, Any]:
    """The benchmark's model: Input -> Dense 64 -> Dense 64 -> Dense 1."""

    def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
        return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}

    return {
        "name": "bench",
        "framework": "keras",
        "nodes": [
            node("in", "Input", shape=[columns]),
            node("h1", "Dense", units=64, activation="relu"),
            node("h2", "Dense", units=64, activation="relu"),
            node("out", "Dense", units=1, activation="sigmoid"),
        ],
        "edges": [
            {"source": "in", "target": "h1"},
            {"source": "h1", "target": "h2"},
            {"source": "h2", "target": "out"},
        ],
    }


def ours(csv_path: Path, columns: int, epochs: int, batch_size: int) -> dict[str, Any]:
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    system = LocalSystem(LocalOptions(port=0, demo=True, lambda_processes=2)).start()
    try:
        api = system.api_url
        token = requests.post(
            f"{api}/auth/token",
            json={"username": DEMO_USER, "password": DEMO_PASSWORD},
            timeout=30,
        ).json()["id_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = requests.post(
            f"{api}/datasets",
            json={"name": "bench", "allow_duplicate": True},
            headers=headers,
            timeout=30,
        ).json()
        upload = created["upload"]
        with csv_path.open("rb") as body:
            requests.post(
                upload["url"], data=upload["fields"], files={"file": body}, timeout=600
            ).raise_for_status()
        dataset = created["dataset"]["id"]
        while requests.get(f"{api}/datasets/{dataset}", headers=headers, timeout=30).json()[
            "status"
        ] not in ("ready", "failed"):
            time.sleep(0.5)
        graph_made = requests.post(
            f"{api}/networks/graphs", headers=headers, timeout=30, json=graph(columns)
        ).json()
        job = requests.post(
            f"{api}/networks/graphs/{graph_made['id']}/train",
            headers=headers,
            timeout=30,
            json={
                "dataset_id": dataset,
                "x_columns": [f"x{i}" for i in range(columns)],
                "y_column": "label",
                "loss": "binary_crossentropy",
                "epochs": epochs,
                "batch_size": batch_size,
                "validation_split": VALIDATION,
                "test_split": TEST,
                "early_stopping": False,
                "reduce_lr": False,
            },
        ).json()
        while True:
            state = requests.get(
                f"{api}/networks/training-jobs/{job['id']}", headers=headers, timeout=30
            ).json()
            if state["status"] in ("succeeded", "failed", "cancelled"):
                return state  # type: ignore[no-any-return]
            time.sleep(0.5)
    finally:
        system.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sluice-bench-training-"))
    csv_path = args.keep or folder / "train.csv"
    if not csv_path.exists():
        write_csv(csv_path, args.rows, args.columns)
    job = ours(csv_path, args.columns, args.epochs, args.batch_size)
    if job["status"] != "succeeded":
        sys.exit(f"our job {job['status']}: {job.get('error')}")
    peer_line = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.training.peer",
                str(csv_path),
                str(args.epochs),
                str(args.batch_size),
                str(VALIDATION),
                str(TEST),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    peer = json.loads(peer_line)
    t = job["timings"]
    print(
        f"{args.rows:,} rows x {args.columns} columns, {csv_path.stat().st_size / 1e6:.0f} MB, "
        f"{args.epochs} epochs, batch {args.batch_size}"
    )
    print(f"{'':24}{'samples/s':>12}{'train s':>10}{'peak RSS MB':>14}")
    print(
        f"{'ours (job)':24}{t['samples_per_s']:>12,.0f}{t['train_s']:>10.2f}"
        f"{t['peak_rss_mb']:>14,.0f}"
    )
    print(
        f"{'Keras on NumPy':24}{peer['samples_per_s']:>12,.0f}{peer['train_s']:>10.2f}"
        f"{peer['peak_rss_mb']:>14,.0f}"
    )
    print(
        f"throughput ratio ours/Keras: {t['samples_per_s'] / peer['samples_per_s']:.2f} "
        "(target >= 0.9)"
    )
    print(
        f"POST -> first epoch {t['first_epoch_s']:.1f} s: queue {t['queued_s']:.1f} s, "
        f"TensorFlow import {t['import_s']:.1f} s, data {t['data_s']:.1f} s, the rest the "
        "model's build and epoch 1"
    )


if __name__ == "__main__":
    main()
