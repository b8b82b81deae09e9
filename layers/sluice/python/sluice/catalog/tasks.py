"""Tasks (aggregations): the steps around the two Distributed Maps and their state machine."""

from __future__ import annotations

from sluice.catalog.names import (
    DATA,
    EXPRESS_STEP_TIMEOUT_S,
    FAN_OUT_MEMORY_MB,
    RUN_TASK,
)
from sluice.catalog.shared import (
    DATA_RW,
    RECORDS_RW,
    step,
)
from sluice.catalog.specs import (
    FunctionSpec,
    StateMachineSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    step("task_plan", "tasks", "plan", 512, 60, RECORDS_RW, DATA_RW),
    step(
        "task_partial",
        "tasks",
        "partial",
        FAN_OUT_MEMORY_MB,
        EXPRESS_STEP_TIMEOUT_S,
        RECORDS_RW,
        DATA_RW,
    ),
    # Between the Maps: every part's buckets index read once, the reducers' list written.
    step("task_gather", "tasks", "gather", 1024, 120, RECORDS_RW, DATA_RW),
    step("task_reduce", "tasks", "reduce", 3008, EXPRESS_STEP_TIMEOUT_S, RECORDS_RW, DATA_RW),
    step("task_finish", "tasks", "finish", 512, 120, RECORDS_RW, DATA_RW),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=RUN_TASK,
        definition="statemachines/run_task.asl.json",
        functions={
            "PlanFunctionArn": "task_plan",
            "PartialFunctionArn": "task_partial",
            "GatherFunctionArn": "task_gather",
            "ReduceFunctionArn": "task_reduce",
            "FinishFunctionArn": "task_finish",
        },
        # A task's work folder (sluice.tasks.workspace): tasks/<owner>/<id>/work/.
        map_bucket=DATA,
        map_items="tasks/*/work/*",
        map_results="tasks/*/work/maps/*",
    ),
)
