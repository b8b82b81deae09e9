"""What many catalogued functions share: the common environment, the grants, and the
shape of a pipeline step's function."""

from __future__ import annotations

from sluice import heap
from sluice.catalog.names import DATA, MAP_CONCURRENCY, QUERY_DATABASE, RECORDS, UPLOADS
from sluice.catalog.refs import (
    Access,
    Grant,
    Ref,
    bucket,
    container_task,
    glue_database,
    table,
    task_network,
    value,
)
from sluice.catalog.specs import FunctionSpec

COMMON_ENV: dict[str, Ref] = {
    "SLUICE_TABLE": table(RECORDS),
    "SLUICE_UPLOAD_BUCKET": bucket(UPLOADS),
    "SLUICE_DATA_BUCKET": bucket(DATA),
    "SLUICE_MAP_CONCURRENCY": value(str(MAP_CONCURRENCY)),
    "POWERTOOLS_SERVICE_NAME": value("sluice"),
}

RECORDS_RW = Grant(target=table(RECORDS), access=Access.READ_WRITE)
UPLOADS_R = Grant(target=bucket(UPLOADS), access=Access.READ)
UPLOADS_RW = Grant(target=bucket(UPLOADS), access=Access.READ_WRITE)
DATA_R = Grant(target=bucket(DATA), access=Access.READ)
DATA_RW = Grant(target=bucket(DATA), access=Access.READ_WRITE)
# A run's work folder: the header's names and the chunk list a Distributed Map reads
# (Plan writes them), the scans' results its ResultWriter wrote (Reconcile reads them and
# writes the list of ranges to scan again).
WORK_W = Grant(target=bucket(DATA), access=Access.WRITE, prefix="work/")
WORK_R = Grant(target=bucket(DATA), access=Access.READ, prefix="work/")
# An operation's Plan writes its Distributed Maps' item lists under its own folder.
OPERATIONS_W = Grant(target=bucket(DATA), access=Access.WRITE, prefix="operations/")
# Model imports read and delete only the model files under imports/ (issue 19).
IMPORTS_RW = Grant(target=bucket(UPLOADS), access=Access.READ_WRITE, prefix="imports/")
# The trainer reads datasets' typed parts and writes its job's files, nothing else.
DATASETS_R = Grant(target=bucket(DATA), access=Access.READ, prefix="datasets/")
TRAINING_RW = Grant(target=bucket(DATA), access=Access.READ_WRITE, prefix="training/")


# Finish registers a ready dataset's parts as a table of the deployment's Glue database,
# and so do the operations' Finish and the predictor for the datasets they write; deleting
# the dataset (the api) removes it. Nothing else touches Glue.
GLUE_ENV: dict[str, Ref] = {"SLUICE_GLUE_DATABASE": glue_database(QUERY_DATABASE)}
QUERY_TABLES_RW = Grant(target=glue_database(QUERY_DATABASE), access=Access.READ_WRITE)


HEAP_ENV = {name: value(setting) for name, setting in heap.environment().items()}


TASK_CLUSTER = "SLUICE_TRAINER_CLUSTER"
TASK_SUBNETS = "SLUICE_TRAINER_SUBNETS"
TASK_SECURITY_GROUPS = "SLUICE_TRAINER_SECURITY_GROUPS"
"""Where container tasks run (``sluice.task_placement``): one cluster and network for all,
named after the first task that ran there."""


def runs_tasks(**definitions: str) -> dict[str, Ref]:
    """The environment of a step that answers where ``ecs:runTask.sync`` runs container
    tasks: the cluster, the network, and each task's definition in the variable named."""
    return {
        TASK_CLUSTER: task_network("cluster"),
        TASK_SUBNETS: task_network("subnets"),
        TASK_SECURITY_GROUPS: task_network("security_groups"),
        **{variable: container_task(task) for variable, task in definitions.items()},
    }


def step(
    name: str, folder: str, module: str, memory_mb: int, timeout_s: int, *grants: Grant
) -> FunctionSpec:
    """A pipeline step's function: functions/<folder>/<module>.py, the common environment
    and glibc's heap kept between calls (``sluice.heap``)."""
    return FunctionSpec(
        name=name,
        code_dir=f"functions/{folder}",
        handler=f"{module}.handler",
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        environment={**COMMON_ENV, **HEAP_ENV},
        grants=grants,
    )
