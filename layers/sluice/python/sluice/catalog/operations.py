"""Operations of data sessions (issue 21): their steps and their state machine."""

from __future__ import annotations

from sluice.catalog.names import (
    DATA,
    RUN_OPERATION,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    DATA_R,
    DATA_RW,
    GLUE_ENV,
    HEAP_ENV,
    OPERATIONS_W,
    QUERY_TABLES_RW,
    RECORDS_RW,
    step,
)
from sluice.catalog.specs import (
    FunctionSpec,
    StateMachineSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    # Operations of data sessions (issue 21): one part, or one bucket, a Lambda.
    # Plan reads the datasets' manifests and writes the Maps' item lists to the
    # operation's folder (operations/<owner>/<id>/items/).
    step("operation_plan", "operations", "plan", 512, 60, RECORDS_RW, DATA_R, OPERATIONS_W),
    step("operation_part", "operations", "part", 3008, 900, RECORDS_RW, DATA_RW),
    step("operation_bucket", "operations", "bucket", 3008, 900, RECORDS_RW, DATA_RW),
    FunctionSpec(
        name="operation_finish",
        code_dir="functions/operations",
        handler="finish.handler",
        memory_mb=1024,
        timeout_s=300,
        environment={**COMMON_ENV, **HEAP_ENV, **GLUE_ENV},
        grants=(RECORDS_RW, DATA_RW, QUERY_TABLES_RW),
    ),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=RUN_OPERATION,
        definition="statemachines/run_operation.asl.json",
        functions={
            "PlanFunctionArn": "operation_plan",
            "PartFunctionArn": "operation_part",
            "BucketFunctionArn": "operation_bucket",
            "FinishFunctionArn": "operation_finish",
        },
        # An operation's folder (sluice.sessions.runs.work_prefix): items/ and maps/.
        map_bucket=DATA,
        map_items="operations/*/items/*",
        map_results="operations/*/maps/*",
    ),
)
