"""The training benchmark's memory mode: one epoch over datasets of growing size, the
trainer's peak RSS against plain Keras on NumPy arrays holding the whole table.

    python -m bench.training.memory [--rows 2000000 5000000 20000000] [--columns 16]
                                    [--batch-size 1024] [--peer-up-to 20000000] [--predict]

For each size, on sluice local started in this process:

1. Writes the dataset as the ingest leaves one, without its CSV: typed Parquet parts of
   ``PART_ROWS`` rows (``sluice.ingest.parts.parquet_bytes``: row groups of 64K rows,
   LZ4), ``--columns`` float64 numbers and a 0/1 int8 label, generated part by part (the
   bench never holds the table either), then records it ready as an operation's output
   is (``sluice.datasets.derived.record_derived``). A 2.5 GB CSV's ingest on a 2-core
   machine would take most of the run and measure the ingest, not the trainer.
2. Trains a real job through the API (the train_model state machine, the trainer as the
   ECS task's process) for one epoch, and reads the trainer's own peak RSS
   (``timings.peak_rss_mb``: its ``VmHWM``, ``sluice.heap.peak_rss_mb``) and throughput
   from the job.
3. The peer in a subprocess: the same rows generated straight into NumPy arrays, then
   ``model.fit`` on them for one epoch (the way MAID trains), its peak RSS likewise.

Prints a line per size: rows, the table's size as float32 (what any trainer must feed),
whether our trainer kept it in memory or streamed it (``IN_MEMORY_BYTES``), both peaks.
With ``--predict``, a prediction job of the trained model over the same dataset too (the
predictor's peak RSS and rows per second: it reads row group by row group as well).
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import numpy as np
import requests
from sluice import heap

from bench.training.run import graph

PART_ROWS = 1_000_000
VALIDATION, TEST = 0.1, 0.1


def generated(index: int, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Part ``index``'s rows: normal numbers and a label learnable from them (the same
    for ours and the peer)."""
    weights = np.random.default_rng(0).normal(size=columns)
    x = np.random.default_rng([1, index]).normal(size=(rows, columns)).round(4)
    return x, (x @ weights > 0).astype(np.int8)


def parts(total: int) -> list[int]:
    """The rows of each part."""
    return [min(PART_ROWS, total - start) for start in range(0, total, PART_ROWS)]


def write_dataset(owner: str, rows: int, columns: int) -> str:
    """A ready dataset of ``rows`` generated rows; its id."""
    import pyarrow as pa
    from sluice.config import settings
    from sluice.datasets.derived import WrittenFile, record_derived
    from sluice.datasets.models import Dataset, SourceObject, utcnow
    from sluice.datasets.repository import DatasetRepository
    from sluice.datasets.workspace import Workspace
    from sluice.ingest.parts import parquet_bytes
    from sluice.store import objects

    cfg = settings()
    dataset_id, run = uuid.uuid4().hex, uuid.uuid4().hex
    workspace = Workspace(owner, dataset_id, run)
    files = []
    for index, count in enumerate(parts(rows)):
        x, y = generated(index, count, columns)
        table = pa.table({**{f"x{i}": x[:, i] for i in range(columns)}, "label": y})
        body = parquet_bytes(table)
        objects.put_bytes(
            cfg.data_bucket, workspace.part(index), body, "application/vnd.apache.parquet"
        )
        files.append(WrittenFile(key=workspace.part(index), rows=count, bytes=len(body)))
    now = utcnow()
    template = Dataset(
        id=dataset_id,
        owner=owner,
        name=f"bench {rows} rows",
        path="bench",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket=cfg.data_bucket, key=""),
    )
    record_derived(DatasetRepository(cfg.table), template, run, files)
    return dataset_id


def train(api: str, headers: dict[str, str], dataset: str, columns: int, batch: int) -> Any:
    """One epoch of a real job on ``dataset``; the ended job."""
    made = requests.post(f"{api}/networks/graphs", headers=headers, json=graph(columns), timeout=30)
    made.raise_for_status()
    job = requests.post(
        f"{api}/networks/graphs/{made.json()['id']}/train",
        headers=headers,
        timeout=30,
        json={
            "dataset_id": dataset,
            "x_columns": [f"x{i}" for i in range(columns)],
            "y_column": "label",
            "loss": "binary_crossentropy",
            "epochs": 1,
            "batch_size": batch,
            "validation_split": VALIDATION,
            "test_split": TEST,
            "early_stopping": False,
            "reduce_lr": False,
            "save_best_model": False,
        },
    )
    job.raise_for_status()
    while True:
        state = requests.get(
            f"{api}/networks/training-jobs/{job.json()['id']}", headers=headers, timeout=30
        ).json()
        if state["status"] in ("succeeded", "failed", "cancelled"):
            return state
        time.sleep(2)


def predict(api: str, headers: dict[str, str], job: str, dataset: str) -> Any:
    """A prediction job of ``job``'s model over ``dataset``; the ended prediction job."""
    made = requests.post(
        f"{api}/networks/training-jobs/{job}/predictions",
        headers=headers,
        json={"dataset_id": dataset},
        timeout=30,
    )
    made.raise_for_status()
    while True:
        state = requests.get(
            f"{api}/networks/prediction-jobs/{made.json()['id']}", headers=headers, timeout=30
        ).json()
        if state["status"] in ("succeeded", "failed", "cancelled"):
            return state
        time.sleep(2)


def peer(rows: int, columns: int, batch: int) -> None:
    """Keras on the whole table in NumPy arrays, one epoch; prints one JSON line."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    blocks = [generated(i, count, columns) for i, count in enumerate(parts(rows))]
    x = np.concatenate([b[0] for b in blocks]).astype(np.float32)
    y = np.concatenate([b[1] for b in blocks]).astype(np.float32).reshape(-1, 1)
    del blocks
    order = np.random.default_rng(42).permutation(rows)
    train_rows, val_rows = int(rows * (1 - VALIDATION - TEST)), int(rows * VALIDATION)
    train, val = order[:train_rows], order[train_rows : train_rows + val_rows]
    keras.utils.set_random_seed(42)
    inputs = keras.Input((columns,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    began = time.perf_counter()
    model.fit(x[train], y[train], validation_data=(x[val], y[val]), batch_size=batch, verbose=0)
    took = time.perf_counter() - began
    print(
        json.dumps(
            {
                "samples_per_s": round(train_rows / took, 1),
                "peak_rss_mb": round(heap.peak_rss_mb(), 1),
            }
        )
    )


def run_peer(rows: int, columns: int, batch: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.training.memory", "--peer", str(rows)]
    argv += ["--columns", str(columns), "--batch-size", str(batch)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--columns", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--peer-up-to", type=int, default=20_000_000)
    parser.add_argument(
        "--predict", action="store_true", help="also predict each dataset with its model"
    )
    parser.add_argument("--peer", type=int, help=argparse.SUPPRESS)  # the peer's process
    args = parser.parse_args()
    if args.peer:
        peer(args.peer, args.columns, args.batch_size)
        return

    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem
    from sluice.training.data import IN_MEMORY_BYTES

    system = LocalSystem(LocalOptions(port=0, demo=True, lambda_processes=1)).start()
    try:
        api = system.api_url
        token = requests.post(
            f"{api}/auth/token",
            json={"username": DEMO_USER, "password": DEMO_PASSWORD},
            timeout=30,
        ).json()["id_token"]
        claims = token.split(".")[1]
        owner = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"]
        headers = {"Authorization": f"Bearer {token}"}
        print(
            f"{'rows':>12}{'float32 MB':>12}{'ours':>10}{'peak MB':>10}{'samples/s':>11}"
            f"{'data s':>8}{'Keras peak MB':>15}{'samples/s':>11}",
            flush=True,
        )
        for rows in args.rows:
            began = time.perf_counter()
            dataset = write_dataset(owner, rows, args.columns)
            written = time.perf_counter() - began
            job = train(api, headers, dataset, args.columns, args.batch_size)
            if job["status"] != "succeeded":
                sys.exit(f"{rows} rows: the job {job['status']}: {job.get('error')}")
            table_bytes = rows * (args.columns + 1) * 4
            mode = "memory" if table_bytes < IN_MEMORY_BYTES else "streams"
            t = job["timings"]
            line = (
                f"{rows:>12,}{table_bytes / 1e6:>12,.0f}{mode:>10}{t['peak_rss_mb']:>10,.0f}"
                f"{t['samples_per_s']:>11,.0f}{t['data_s']:>8.1f}"
            )
            if rows <= args.peer_up_to:
                other = run_peer(rows, args.columns, args.batch_size)
                line += f"{other['peak_rss_mb']:>15,.0f}{other['samples_per_s']:>11,.0f}"
            print(f"{line}   (written in {written:.0f} s, job {t['total_s']:.0f} s)", flush=True)
            if args.predict:
                done = predict(api, headers, job["id"], dataset)
                if done["status"] != "succeeded":
                    sys.exit(f"{rows} rows: the prediction job {done['status']}: {done['error']}")
                p = done["timings"]
                print(
                    f"{'':>12}{'':>12}{'predicts':>10}{p['peak_rss_mb']:>10,.0f}"
                    f"{p['rows_per_s']:>11,.0f} rows/s   (job {p['total_s']:.0f} s)",
                    flush=True,
                )
    finally:
        system.stop()


if __name__ == "__main__":
    main()
