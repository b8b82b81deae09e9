"""The resources' names, and the settings every deployment shares."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[5]
"""The repository root (layers/sluice/python/sluice/catalog/names.py is five levels down)."""

RECORDS = "records"
UPLOADS = "uploads"
DATA = "data"
INGEST = "ingest_dataset"
EXPORT = "export_dataset"
CATALOG_BACKFILL = "catalog_backfill"
RUN_TASK = "run_task"
RUN_OPERATION = "run_operation"
NETWORKS = "networks"
NETWORKS_IMPORT = "networks_import"
IMPORT_MODEL = "import_model"
TRAIN = "train_model"
TRAINER = "trainer"
PREDICT = "training_predict"
PREDICT_DATASET = "predict_dataset"
PREDICTOR = "predictor"
PREPARER = "preparer"
QUERY_DATABASE = "datasets"

CORS_ORIGINS = os.environ.get("SLUICE_CORS_ORIGINS", "*")
"""The origins whose web pages may read the API's answers, comma-separated: a deployment
setting, read when the stack is synthesised (``SLUICE_CORS_ORIGINS=https://console.example
npx cdk deploy``) or ``sluice local`` starts. ``*`` by default: no credential rides on a
cookie (pages send the id token in ``Authorization``), so any origin is no risk."""

MAP_CONCURRENCY = 1000
"""How many children a Distributed Map runs at once in AWS (the steps that plan a Map put
it in the state as its MaxConcurrencyPath); locally, the worker count instead."""

EXPRESS_STEP_TIMEOUT_S = 90
"""The timeout of a function that runs in an EXPRESS child of a Distributed Map (the
ingest's scans and conversions, the tasks' partials and reduces): an EXPRESS execution
lasts at most 5 minutes, and its Task (95 s) runs at most three times (3 x 95 s + 3 s of
backoff). A scan's or conversion's batch is at most ``MAX_BATCH`` chunks of 64 MiB
(``map_results.BATCH_BYTES``), or up to ``MAX_BATCH_ITEMS`` smaller ones; a partial's at
most ``BATCH_BYTES`` of Parquet pieces (``sluice.tasks.pieces``); a reducer's one bucket
of at most 8M rows (``sluice.tasks.aggregate_output.MOST_BUCKET_ROWS``)."""

FAN_OUT_MEMORY_MB = 1769
"""The memory of the scans', the conversions' and the partials' functions: 1,769 MB (1.73
GiB) is one vCPU, as each local worker has one core (the projection's rates are one
core's). Peak resident memory, measured locally (each step's peak reset at its call, the
Lambdas' heap settings): a scan of a batch of 4 or 8 chunks of 64 MiB 0.66-0.97 GiB, a
conversion of 4 at most 0.93 GiB, a partial into 256 buckets 0.58 GiB for one part and
0.96 GiB for a batch of 8: 1.8x under. Chunks of 128 MiB would leave 1.1-1.2x (a scan of two
1.40 GiB, a conversion 1.44, a partial of four parts 1.61): they stay 64 MiB
(``Settings.chunk_bytes``). The reducers keep 3,008 MB: a bucket holds at most 8M rows
(``sluice.tasks.aggregate_output.MOST_BUCKET_ROWS``; ~7.4M groups at 100 GB, 256 buckets),
and a reducer of 5M groups peaked at 1.46 GiB, of 10M at 2.60
(``bench.aggregate.forecast.REDUCER_GIB``): ~2.1 GiB at 8M, at any size."""
