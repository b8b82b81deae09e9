"""What a restart of ``sluice local`` ends: moto's Step Functions executions live in its
threads, and a restart has none. A dataset that was being ingested, a task or a training
job queued or running, and a model import processing, come back ``failed`` with the
error ``interrupted``; the owner uploads again (or repeats the change, or starts the
task, the training or the import again)."""

from __future__ import annotations

from collections.abc import Iterable

from moto.dynamodb.models.dynamo_type import DynamoType, Item

INTERRUPTED = "interrupted"
DATASET_INTERRUPTED = (
    "sluice local stopped while this dataset was being ingested; upload the file again "
    "(or repeat the change) to run it again"
)
TASK_INTERRUPTED = "sluice local stopped while this task ran; start it again"
IMPORT_INTERRUPTED = "sluice local stopped while this model was imported; import it again"
TRAINING_INTERRUPTED = "sluice local stopped while this network trained; start it again"


def _interrupted(item: Item) -> str | None:
    """The message for a record whose run a restart ended; None for any other record."""
    # Here, not at the top: the features' models import Arrow, which the local system's
    # own process otherwise does without (~40 MiB); only a restore reads records.
    from sluice.datasets.models import DatasetStatus
    from sluice.datasets.repository import PREFIX as DATASET_PREFIX
    from sluice.networks.import_models import ImportStatus
    from sluice.networks.import_repository import PREFIX as IMPORT_PREFIX
    from sluice.tasks.models import TaskStatus
    from sluice.tasks.repository import PREFIX as TASK_PREFIX
    from sluice.training.models import OPEN_STATUSES as TRAINING_OPEN
    from sluice.training.repository import PREFIX as TRAINING_PREFIX

    sort_key = item.range_key.value if item.range_key is not None else ""
    status = item.attrs.get("status")
    status_value = status.value if status is not None else None
    if str(sort_key).startswith(DATASET_PREFIX):
        running = "ingest_run" in item.attrs and not item.attrs["ingest_run"].is_null()
        if status_value == DatasetStatus.INFERRING or (
            status_value == DatasetStatus.UPLOADED and running
        ):
            return DATASET_INTERRUPTED
    if str(sort_key).startswith(TASK_PREFIX) and status_value in (
        TaskStatus.QUEUED,
        TaskStatus.RUNNING,
    ):
        return TASK_INTERRUPTED
    if str(sort_key).startswith(TRAINING_PREFIX) and status_value in TRAINING_OPEN:
        return TRAINING_INTERRUPTED  # its execution and its trainer's process are gone
    # A queued import still takes its upload after a restart; a processing one had its
    # execution, and would otherwise hold its user's pending quota for ever.
    if str(sort_key).startswith(IMPORT_PREFIX) and status_value == ImportStatus.PROCESSING:
        return IMPORT_INTERRUPTED
    return None


def mark_interrupted(items: Iterable[Item]) -> int:
    """Mark ``failed`` (error ``interrupted``) each dataset being ingested and each task
    queued or running: no execution of theirs survived the restart. Returns how many."""
    marked = 0
    for item in items:
        message = _interrupted(item)
        if message is None:
            continue
        item.attrs["status"] = DynamoType({"S": "failed"})
        item.attrs["error"] = DynamoType(
            {"M": {"code": {"S": INTERRUPTED}, "message": {"S": message}}}
        )
        marked += 1
    return marked


__all__ = [
    "DATASET_INTERRUPTED",
    "IMPORT_INTERRUPTED",
    "INTERRUPTED",
    "TASK_INTERRUPTED",
    "TRAINING_INTERRUPTED",
    "mark_interrupted",
]
