"""The api function: the HTTP API behind API Gateway, and everything it may start."""

from __future__ import annotations

from sluice.catalog.names import (
    CORS_ORIGINS,
    EXPORT,
    INGEST,
    NETWORKS,
    PREDICT,
    PREDICT_DATASET,
    RUN_OPERATION,
    RUN_TASK,
    TRAIN,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    function,
    state_machine,
    user_pool,
    user_pool_client,
    value,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    DATA_RW,
    GLUE_ENV,
    QUERY_TABLES_RW,
    RECORDS_RW,
    UPLOADS_RW,
)
from sluice.catalog.specs import (
    FunctionSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="api",
        code_dir="functions/api",
        handler="handler.handler",
        memory_mb=1024,
        timeout_s=29,
        public_api=True,
        environment={
            **COMMON_ENV,
            "SLUICE_USER_POOL_ID": user_pool(),
            "SLUICE_USER_POOL_CLIENT_ID": user_pool_client(),
            "SLUICE_CORS_ORIGINS": value(CORS_ORIGINS),
            **GLUE_ENV,
            # Deleting a dataset stops its running ingest; commands start new ones.
            "SLUICE_INGEST_STATE_MACHINE_ARN": state_machine(INGEST),
            "SLUICE_EXPORT_STATE_MACHINE_ARN": state_machine(EXPORT),
            "SLUICE_TASK_STATE_MACHINE_ARN": state_machine(RUN_TASK),
            "SLUICE_OPERATION_STATE_MACHINE_ARN": state_machine(RUN_OPERATION),
            "SLUICE_TRAIN_STATE_MACHINE_ARN": state_machine(TRAIN),
            "SLUICE_PREDICT_STATE_MACHINE_ARN": state_machine(PREDICT_DATASET),
            "SLUICE_PREDICT_FUNCTION": function(PREDICT),
            # Compile runs where TensorFlow is, never in this function.
            "SLUICE_NETWORKS_FUNCTION": function(NETWORKS),
        },
        grants=(
            RECORDS_RW,
            UPLOADS_RW,
            DATA_RW,
            Grant(target=user_pool(), access=Access.READ),
            Grant(target=state_machine(INGEST), access=Access.READ_WRITE),
            Grant(target=state_machine(EXPORT), access=Access.READ_WRITE),
            Grant(target=state_machine(RUN_TASK), access=Access.READ_WRITE),
            Grant(target=state_machine(RUN_OPERATION), access=Access.READ_WRITE),
            Grant(target=state_machine(TRAIN), access=Access.READ_WRITE),
            Grant(target=state_machine(PREDICT_DATASET), access=Access.READ_WRITE),
            Grant(target=function(PREDICT), access=Access.WRITE),
            Grant(target=function(NETWORKS), access=Access.WRITE),
            QUERY_TABLES_RW,
        ),
    ),
)
