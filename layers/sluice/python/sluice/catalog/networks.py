"""Networks (issue 19): the TensorFlow function that compiles a graph, and model import:
its state machine, its function and the upload notification that starts it."""

from __future__ import annotations

from sluice.catalog.names import (
    IMPORT_MODEL,
    NETWORKS,
    NETWORKS_IMPORT,
    UPLOADS,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    Ref,
    state_machine,
    value,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    IMPORTS_RW,
    RECORDS_RW,
)
from sluice.catalog.specs import (
    FunctionSpec,
    NotificationSpec,
    StateMachineSpec,
)

_IMPORT_ENV: dict[str, Ref] = {
    "SLUICE_IMPORT_STATE_MACHINE_ARN": state_machine(IMPORT_MODEL),
}

FUNCTIONS: tuple[FunctionSpec, ...] = (
    # The TensorFlow function (issue 19): compile now; model import next. TensorFlow
    # (some 600 MB) is past a layer's size: in AWS the function is a container image.
    FunctionSpec(
        name=NETWORKS,
        code_dir="functions/networks",
        handler="compile.handler",
        memory_mb=3008,
        timeout_s=60,
        environment={"POWERTOOLS_SERVICE_NAME": value("sluice")},
        image="functions/networks/Dockerfile",
    ),
    # Model import (issue 19): the same image, its import handler, run by the import
    # state machine; /tmp holds the upload and the model unpacked from a zip.
    FunctionSpec(
        name=NETWORKS_IMPORT,
        code_dir="functions/networks",
        handler="import_model.handler",
        memory_mb=3008,
        timeout_s=300,
        environment=COMMON_ENV,
        grants=(RECORDS_RW, IMPORTS_RW),
        image="functions/networks/Dockerfile",
    ),
    FunctionSpec(
        name="on_model_upload",
        code_dir="functions/on_model_upload",
        handler="handler.handler",
        memory_mb=256,
        timeout_s=30,
        environment={**COMMON_ENV, **_IMPORT_ENV},
        grants=(
            RECORDS_RW,
            IMPORTS_RW,
            Grant(target=state_machine(IMPORT_MODEL), access=Access.WRITE),
        ),
    ),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=IMPORT_MODEL,
        definition="statemachines/import_model.asl.json",
        functions={"ImportFunctionArn": NETWORKS_IMPORT},
    ),
)

NOTIFICATIONS: tuple[NotificationSpec, ...] = (
    # Model files for import jobs (issue 19) land apart from datasets' files.
    NotificationSpec(bucket=UPLOADS, prefix="imports/", function="on_model_upload"),
)
