"""The preparer: a Fargate task that decompresses an upload too large for the Prepare
step's 15 minutes (``prepare_step.LAMBDA_PREPARE_BYTES``).

``statemachines/ingest_dataset.asl.json`` runs it with ``ecs:runTask.sync``, the run's
Prepare input as JSON in ``SLUICE_PREPARE_INPUT``. It writes the same copy the step
would (``prepare_step.prepare_copy``) and leaves ``prepared.json`` in the run's work
folder: the copy's object, or the reason the file cannot be read, which the Prepare step
then collects and the run fails with. It exits 0 either way; a non-zero exit is a task
that stopped before it could say (killed, out of memory).
"""

from __future__ import annotations

import os
import sys

from aws_lambda_powertools import Logger

from sluice.config import settings
from sluice.csv.ranges import CsvError
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.ingest.models import PrepareInput
from sluice.ingest.prepare_step import TaskOutcome, prepare_copy
from sluice.ingest.runs import Superseded
from sluice.store import objects

logger = Logger(service="sluice")

INPUT = "SLUICE_PREPARE_INPUT"


def run(payload: PrepareInput) -> TaskOutcome:
    """Prepare the run's upload and record the outcome where the Prepare step reads it."""
    cfg = settings()
    ref = payload.dataset
    try:
        outcome = TaskOutcome(object=prepare_copy(cfg, DatasetRepository(cfg.table), payload))
    except CsvError as exc:
        outcome = TaskOutcome(error=str(exc))
    except Superseded as exc:  # another run took the dataset: nothing to prepare for
        outcome = TaskOutcome(error=str(exc))
    objects.put_json(cfg.data_bucket, Workspace(ref.owner, ref.id, ref.run).prepared, outcome)
    logger.info("prepared in a task", dataset=ref.id, run=ref.run, error=outcome.error)
    return outcome


def main() -> int:
    """The container's entry point."""
    run(PrepareInput.model_validate_json(os.environ[INPUT]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
