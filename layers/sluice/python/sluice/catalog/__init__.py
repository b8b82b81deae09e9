"""The one catalogue of sluice's AWS resources.

Both deployments read this: the CDK app (``infra/``) turns it into CloudFormation,
and ``sluice local`` creates the same resources in the embedded AWS. Keeping the
list here, as plain data, is what stops the two from drifting apart.

The package's modules: ``refs`` (a reference from one resource to another, a grant),
``specs`` (the kinds of resource), ``names`` (the resources' names, the shared settings),
``shared`` (the common environment, the grants and a step's function shape), then one
module per feature with its entries. ``CATALOG`` puts the features' entries together;
the names below are what the rest of sluice and ``infra/`` import from here.
"""

from __future__ import annotations

from sluice.catalog import api, datasets, ingest, networks, operations, tasks, training
from sluice.catalog.names import (
    CATALOG_BACKFILL,
    CORS_ORIGINS,
    DATA,
    EXPORT,
    EXPRESS_STEP_TIMEOUT_S,
    FAN_OUT_MEMORY_MB,
    IMPORT_MODEL,
    INGEST,
    MAP_CONCURRENCY,
    NETWORKS,
    NETWORKS_IMPORT,
    PREDICT,
    PREDICT_DATASET,
    PREDICTOR,
    PREPARER,
    PROJECT_ROOT,
    QUERY_DATABASE,
    RECORDS,
    RUN_OPERATION,
    RUN_TASK,
    TRAIN,
    TRAINER,
    UPLOADS,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    Ref,
    bucket,
    container_task,
    function,
    glue_database,
    state_machine,
    table,
    task_network,
    user_pool,
    user_pool_client,
    value,
)
from sluice.catalog.shared import TASK_CLUSTER, TASK_SECURITY_GROUPS, TASK_SUBNETS
from sluice.catalog.specs import (
    BucketSpec,
    Catalog,
    ContainerTaskSpec,
    FunctionSpec,
    GlueDatabaseSpec,
    NotificationSpec,
    StateMachineSpec,
    TableSpec,
    UserPoolSpec,
)

__all__ = [
    "CATALOG",
    "CATALOG_BACKFILL",
    "CORS_ORIGINS",
    "DATA",
    "EXPORT",
    "EXPRESS_STEP_TIMEOUT_S",
    "FAN_OUT_MEMORY_MB",
    "IMPORT_MODEL",
    "INGEST",
    "MAP_CONCURRENCY",
    "NETWORKS",
    "NETWORKS_IMPORT",
    "PREDICT",
    "PREDICTOR",
    "PREDICT_DATASET",
    "PREPARER",
    "PROJECT_ROOT",
    "QUERY_DATABASE",
    "RECORDS",
    "RUN_OPERATION",
    "RUN_TASK",
    "TASK_CLUSTER",
    "TASK_SECURITY_GROUPS",
    "TASK_SUBNETS",
    "TRAIN",
    "TRAINER",
    "UPLOADS",
    "Access",
    "BucketSpec",
    "Catalog",
    "ContainerTaskSpec",
    "FunctionSpec",
    "GlueDatabaseSpec",
    "Grant",
    "NotificationSpec",
    "Ref",
    "StateMachineSpec",
    "TableSpec",
    "UserPoolSpec",
    "bucket",
    "container_task",
    "function",
    "glue_database",
    "state_machine",
    "table",
    "task_network",
    "user_pool",
    "user_pool_client",
    "value",
]

# Each list in the order the features were catalogued in one file: CDK names nothing
# after its position, but the template's resources follow it, so the order stays.
CATALOG = Catalog(
    functions=(
        *api.FUNCTIONS,
        *networks.FUNCTIONS,
        *ingest.FUNCTIONS,
        *datasets.FUNCTIONS,
        *tasks.FUNCTIONS,
        *operations.FUNCTIONS,
        *training.FUNCTIONS,
    ),
    tables=(TableSpec(name=RECORDS),),
    buckets=(BucketSpec(name=UPLOADS, versioned=True), BucketSpec(name=DATA)),
    state_machines=(
        *ingest.STATE_MACHINES,
        *datasets.STATE_MACHINES,
        *networks.STATE_MACHINES,
        *training.STATE_MACHINES,
        *tasks.STATE_MACHINES,
        *operations.STATE_MACHINES,
    ),
    notifications=(*ingest.NOTIFICATIONS, *networks.NOTIFICATIONS),
    user_pool=UserPoolSpec(),
    glue_databases=(GlueDatabaseSpec(name=QUERY_DATABASE),),
    container_tasks=(*ingest.CONTAINER_TASKS, *training.CONTAINER_TASKS),
)
