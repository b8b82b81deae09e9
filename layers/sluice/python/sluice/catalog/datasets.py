"""A ready dataset's own functions: its export, and the Glue tables' backfill."""

from __future__ import annotations

from sluice.catalog.names import (
    CATALOG_BACKFILL,
    EXPORT,
    RECORDS,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    table,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    DATA_R,
    DATA_RW,
    GLUE_ENV,
    QUERY_TABLES_RW,
    step,
)
from sluice.catalog.specs import (
    FunctionSpec,
    StateMachineSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    step("export_dataset", "export_dataset", "handler", 3008, 900, DATA_RW),
    # Maintenance (issue 23, item 8): a Glue table for every ready dataset without one
    # (recorded before the catalogue existed, or refused by Glue); the operator invokes
    # it after an upgrade, and ``sluice local`` when it restores a state folder.
    FunctionSpec(
        name=CATALOG_BACKFILL,
        code_dir="functions/catalog_backfill",
        handler="handler.handler",
        memory_mb=512,
        timeout_s=900,
        environment={**COMMON_ENV, **GLUE_ENV},
        grants=(
            Grant(target=table(RECORDS), access=Access.READ_WRITE, scan=True),
            DATA_R,
            QUERY_TABLES_RW,
        ),
    ),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=EXPORT,
        definition="statemachines/export_dataset.asl.json",
        functions={"ExportFunctionArn": "export_dataset"},
    ),
)
