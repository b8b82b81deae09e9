"""The ingest: the upload notification, the pipeline's steps, its state machine and the
preparer's container task."""

from __future__ import annotations

from sluice.catalog.names import (
    DATA,
    EXPRESS_STEP_TIMEOUT_S,
    FAN_OUT_MEMORY_MB,
    INGEST,
    PREPARER,
    UPLOADS,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    state_machine,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    DATA_R,
    DATA_RW,
    GLUE_ENV,
    HEAP_ENV,
    QUERY_TABLES_RW,
    RECORDS_RW,
    UPLOADS_R,
    UPLOADS_RW,
    WORK_R,
    WORK_W,
    runs_tasks,
    step,
)
from sluice.catalog.specs import (
    ContainerTaskSpec,
    FunctionSpec,
    NotificationSpec,
    StateMachineSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="on_upload",
        code_dir="functions/on_upload",
        handler="handler.handler",
        memory_mb=256,
        timeout_s=30,
        environment={**COMMON_ENV, "SLUICE_INGEST_STATE_MACHINE_ARN": state_machine(INGEST)},
        grants=(
            RECORDS_RW,
            UPLOADS_RW,
            Grant(target=state_machine(INGEST), access=Access.WRITE),
        ),
    ),
    # Decompressing or transcoding streams the upload once, on one core (1769 MB is
    # one vCPU): about 200 GB of gzip or zstd text, 35 GB of bzip2, in 15 minutes.
    FunctionSpec(
        name="ingest_prepare",
        code_dir="functions/ingest",
        handler="prepare.handler",
        memory_mb=1769,
        timeout_s=900,
        environment={
            **COMMON_ENV,
            **HEAP_ENV,
            # Where ecs:runTask.sync runs the preparer, for an upload past 15 minutes.
            **runs_tasks(SLUICE_PREPARER_TASK_DEFINITION=PREPARER),
        },
        grants=(RECORDS_RW, UPLOADS_R, DATA_RW),
    ),
    step("ingest_plan", "ingest", "plan", 512, 60, RECORDS_RW, UPLOADS_R, DATA_R, WORK_W),
    # Scans and conversions run in EXPRESS children (at most 5 minutes each): 90 s,
    # under the child Task's 95 s, three attempts of which fit (ingest_dataset.asl.json).
    step(
        "ingest_scan_chunk",
        "ingest",
        "scan_chunk",
        FAN_OUT_MEMORY_MB,
        EXPRESS_STEP_TIMEOUT_S,
        RECORDS_RW,
        UPLOADS_R,
        DATA_RW,
    ),
    step("ingest_reconcile", "ingest", "reconcile", 256, 30, WORK_R, WORK_W),
    step("ingest_load_layout", "ingest", "load_layout", 256, 30, DATA_R),
    step("ingest_decide", "ingest", "decide", 1024, 300, RECORDS_RW, DATA_RW),
    step(
        "ingest_convert_chunk",
        "ingest",
        "convert_chunk",
        FAN_OUT_MEMORY_MB,
        EXPRESS_STEP_TIMEOUT_S,
        RECORDS_RW,
        UPLOADS_R,
        DATA_RW,
    ),
    FunctionSpec(
        name="ingest_finish",
        code_dir="functions/ingest",
        handler="finish.handler",
        memory_mb=512,
        timeout_s=120,
        environment={**COMMON_ENV, **HEAP_ENV, **GLUE_ENV},
        grants=(RECORDS_RW, UPLOADS_RW, DATA_RW, QUERY_TABLES_RW),
    ),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=INGEST,
        definition="statemachines/ingest_dataset.asl.json",
        functions={
            "PrepareFunctionArn": "ingest_prepare",
            "PlanFunctionArn": "ingest_plan",
            "ScanChunkFunctionArn": "ingest_scan_chunk",
            "ReconcileFunctionArn": "ingest_reconcile",
            "LoadLayoutFunctionArn": "ingest_load_layout",
            "DecideFunctionArn": "ingest_decide",
            "ConvertChunkFunctionArn": "ingest_convert_chunk",
            "FinishFunctionArn": "ingest_finish",
        },
        container_tasks=(PREPARER,),
        map_bucket=DATA,
    ),
)

NOTIFICATIONS: tuple[NotificationSpec, ...] = (
    NotificationSpec(bucket=UPLOADS, prefix="uploads/", function="on_upload"),
)

CONTAINER_TASKS: tuple[ContainerTaskSpec, ...] = (
    # The ingest's Prepare for a compressed upload past a Lambda's 15 minutes: no
    # TensorFlow, one core (decompression is one stream), the ingest's rights.
    ContainerTaskSpec(
        name=PREPARER,
        dockerfile="functions/ingest/preparer.Dockerfile",
        command=("python", "-m", "sluice.ingest.prepare_task"),
        cpu=1024,
        memory_mb=2048,
        environment={**COMMON_ENV, **HEAP_ENV},
        grants=(RECORDS_RW, UPLOADS_R, DATA_RW),
    ),
)
