"""Where ``ecs:runTask.sync`` runs a catalogued container task (a step answers it, and
its state machine's task state reads it: the trainer's and predictor's, the ingest's
preparer; the step's environment holds the values, the catalogue's ``_runs_tasks``), and
how such a task ended when the state failed."""

from __future__ import annotations

import json
import os
from typing import Any

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


def stopped_task(cause: str | None, who: str) -> str | None:
    """A stopped task in words, from the Cause of a failed ``ecs:runTask.sync`` (the task
    as JSON): ``{who} exited with code N: <container's reason> (<task's stop reason>)``;
    None where the Cause is no task (a Lambda's error, a timeout)."""
    try:
        task: Any = json.loads(cause or "")
    except ValueError:
        return None
    if not isinstance(task, dict) or "Containers" not in task:
        return None
    parts = []
    for container in task.get("Containers") or []:
        code = container.get("ExitCode")
        said = f": {container['Reason']}" if container.get("Reason") else ""
        parts.append(f"{who} exited with code {code}{said}" if code is not None else said)
    stopped = task.get("StoppedReason")
    if stopped:
        parts.append(f"({stopped})")
    return " ".join(part for part in parts if part) or f"{who}'s task failed"
