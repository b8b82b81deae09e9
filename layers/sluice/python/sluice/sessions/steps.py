"""The steps of statemachines/run_operation.asl.json, the names its handlers call.

plan (the parts of the datasets read and the buckets of a shuffle, as JSON lists in S3)
-> [if the operation surveys: Map(survey: the parts) -> settle] -> Map(part: the typed
Parquet parts) -> [if it has a shuffle: Map(bucket: the buckets)] -> finish (the
operation's output: a new dataset from the parts written, or JSON data) | fail. The
Maps are Distributed Maps (payloads: sluice.sessions.step_models): a child runs a batch
of parts or buckets, and their answers are in S3, where finish reads them. Each step
works only while its operation is IN_PROGRESS: a deleted one makes them raise
``OperationGone``, and the failure path then only cleans up.

By idea: ``step_plan`` (plan, settle), ``step_batches`` (the Maps' batches),
``step_finish`` (finish, fail), ``step_records`` (what they share: the errors, the
record read while running, a step counted, the removal of what a run wrote).
"""

from __future__ import annotations

from sluice.sessions.step_batches import bucket_batch, part_batch
from sluice.sessions.step_finish import fail, finish
from sluice.sessions.step_plan import plan, settle
from sluice.sessions.step_records import OperationGone, TransientError, results_prefix

__all__ = [
    "OperationGone",
    "TransientError",
    "bucket_batch",
    "fail",
    "finish",
    "part_batch",
    "plan",
    "results_prefix",
    "settle",
]
