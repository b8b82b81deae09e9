"""Where ``ecs:runTask.sync`` runs a catalogued container task: a step answers it, and
its state machine's task state reads it (the trainer's and predictor's, the ingest's
preparer). The step's environment holds the values (the catalogue's ``runs_task``)."""

from __future__ import annotations

import os

from pydantic import BaseModel

from sluice.catalog import CATALOG, TASK_CLUSTER, TASK_SECURITY_GROUPS, TASK_SUBNETS


class TaskPlacement(BaseModel):
    """``ecs:runTask.sync``'s parameters for one task."""

    cluster: str
    task_definition: str
    subnets: list[str]
    security_groups: list[str]
    container: str


def placement(definition_variable: str, task: str) -> TaskPlacement:
    """Run ``task``, whose task definition the environment names in
    ``definition_variable``, in the tasks' cluster and network."""
    return TaskPlacement(
        cluster=os.environ[TASK_CLUSTER],
        task_definition=os.environ[definition_variable],
        subnets=_ids(TASK_SUBNETS),
        security_groups=_ids(TASK_SECURITY_GROUPS),
        container=CATALOG.container_task(task).container_name,
    )


def _ids(variable: str) -> list[str]:
    """A comma-separated list of ids from the environment (none where it is unset)."""
    return [part for part in os.environ.get(variable, "").split(",") if part]
