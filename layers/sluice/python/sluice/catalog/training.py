"""Training (issue 20): the steps around the trainer's and the predictor's container tasks,
the predictions function, and the two state machines."""

from __future__ import annotations

from sluice.catalog.names import (
    DATA,
    PREDICT,
    PREDICT_DATASET,
    PREDICTOR,
    RECORDS,
    TRAIN,
    TRAINER,
)
from sluice.catalog.refs import (
    Access,
    Grant,
    bucket,
    table,
)
from sluice.catalog.shared import (
    COMMON_ENV,
    DATASETS_R,
    GLUE_ENV,
    HEAP_ENV,
    QUERY_TABLES_RW,
    RECORDS_RW,
    TRAINING_RW,
    runs_tasks,
    step,
)
from sluice.catalog.specs import (
    ContainerTaskSpec,
    FunctionSpec,
    StateMachineSpec,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    # Training (issue 20): the steps around the trainer's Fargate task.
    FunctionSpec(
        name="train_prepare",
        code_dir="functions/training",
        handler="prepare.handler",
        memory_mb=256,
        timeout_s=30,
        environment={
            **COMMON_ENV,
            # Where ecs:runTask.sync runs the trainer (the state reads them from here);
            # predict_dataset runs these steps too, for its predictor's task.
            **runs_tasks(
                SLUICE_TRAINER_TASK_DEFINITION=TRAINER,
                SLUICE_PREDICTOR_TASK_DEFINITION=PREDICTOR,
            ),
        },
        # A job on an upload: its dataset's manifest and the job's graph, checked then.
        grants=(RECORDS_RW, DATASETS_R, Grant(target=bucket(DATA), prefix="training/")),
    ),
    step("train_finish", "training", "finish", 256, 30, RECORDS_RW),
    step("train_fail", "training", "fail", 256, 30, RECORDS_RW),
    # Predictions of a trained job's model (issue 20, item 5): Keras, so an image.
    FunctionSpec(
        name=PREDICT,
        code_dir="functions/training",
        handler="predict.handler",
        memory_mb=3008,
        timeout_s=60,
        environment=COMMON_ENV,
        grants=(
            Grant(target=table(RECORDS), access=Access.READ),
            Grant(target=bucket(DATA), access=Access.READ, prefix="training/"),
        ),
        image="functions/training/predict.Dockerfile",
    ),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name=TRAIN,
        definition="statemachines/train_model.asl.json",
        functions={
            "PrepareFunctionArn": "train_prepare",
            "FinishFunctionArn": "train_finish",
            "FailFunctionArn": "train_fail",
        },
        container_tasks=(TRAINER,),
    ),
    # A trained model over a whole dataset (issue 20, item 5): the training steps on a
    # prediction job, around the predictor's task.
    StateMachineSpec(
        name=PREDICT_DATASET,
        definition="statemachines/predict_dataset.asl.json",
        functions={
            "PrepareFunctionArn": "train_prepare",
            "FinishFunctionArn": "train_finish",
            "FailFunctionArn": "train_fail",
        },
        container_tasks=(PREDICTOR,),
    ),
)

CONTAINER_TASKS: tuple[ContainerTaskSpec, ...] = (
    ContainerTaskSpec(
        name=TRAINER,
        dockerfile="functions/training/Dockerfile",
        command=("python", "-m", "sluice.training.trainer"),
        cpu=2048,
        memory_mb=8192,
        environment={**COMMON_ENV, **HEAP_ENV},
        grants=(RECORDS_RW, DATASETS_R, TRAINING_RW),
    ),
    # The trainer's image, another command: reads the job's model and its input's
    # parts, writes the output dataset's parts (under datasets/) and records it.
    ContainerTaskSpec(
        name=PREDICTOR,
        dockerfile="functions/training/Dockerfile",
        command=("python", "-m", "sluice.training.batch_predict"),
        cpu=1024,
        memory_mb=4096,
        environment={**COMMON_ENV, **HEAP_ENV, **GLUE_ENV},
        grants=(
            RECORDS_RW,
            QUERY_TABLES_RW,
            Grant(target=bucket(DATA), access=Access.READ_WRITE, prefix="datasets/"),
            Grant(target=bucket(DATA), access=Access.READ, prefix="training/"),
        ),
    ),
)
