"""The one catalogue of sluice's AWS resources.

Both deployments read this: the CDK app (``infra/``) turns it into CloudFormation,
and ``sluice local`` creates the same resources in the embedded AWS. Keeping the
list here, as plain data, is what stops the two from drifting apart.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sluice import heap

PROJECT_ROOT = Path(__file__).resolve().parents[4]
"""The repository root (layers/sluice/python/sluice/catalog.py is four levels down)."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READ_WRITE = "read_write"


class Ref(Frozen):
    """A reference from one resource to another, resolved differently per deployment."""

    # "table" | "bucket" | "state_machine" | "function" | "user_pool" | "user_pool_client" |
    # "container_task" (its task definition's ARN) | "cluster" (the tasks' ECS cluster's ARN) |
    # "subnets" | "security_groups" (where a task's network interface goes; comma-separated
    # ids) | "glue_database" (its name; in a grant, its tables) | "value"
    kind: str
    name: str


def table(name: str) -> Ref:
    return Ref(kind="table", name=name)


def bucket(name: str) -> Ref:
    return Ref(kind="bucket", name=name)


def state_machine(name: str) -> Ref:
    return Ref(kind="state_machine", name=name)


def function(name: str) -> Ref:
    """A catalogued function: its ARN in an environment, invoking it in a grant."""
    return Ref(kind="function", name=name)


def container_task(name: str) -> Ref:
    """A catalogued container task: its task definition's ARN in an environment; in a
    WRITE grant, running it (and stopping what runs)."""
    return Ref(kind="container_task", name=name)


def task_network(part: str) -> Ref:
    """Where container tasks run: the ECS ``cluster``, or the ``subnets`` or
    ``security_groups`` of their network interfaces (ids, comma-separated)."""
    return Ref(kind=part, name="tasks")


def user_pool() -> Ref:
    return Ref(kind="user_pool", name="users")


def user_pool_client() -> Ref:
    return Ref(kind="user_pool_client", name="users")


def glue_database(name: str) -> Ref:
    """A catalogued Glue database: its name in an environment; in a READ_WRITE grant,
    reading, creating, updating and deleting its tables (nothing else of Glue)."""
    return Ref(kind="glue_database", name=name)


def value(text: str) -> Ref:
    return Ref(kind="value", name=text)


class Grant(Frozen):
    """What a function may do to one resource; CDK turns it into least-privilege IAM."""

    target: Ref
    access: Access = Access.READ
    prefix: str | None = None  # a bucket's grant: only keys under this prefix
    scan: bool = False
    """A table's grant: also a Scan of every owner's records (maintenance functions only,
    never one that serves a user's request)."""


class FunctionSpec(Frozen):
    name: str
    code_dir: str  # relative to the project root
    handler: str  # "module.function" inside code_dir
    memory_mb: int = 1024
    timeout_s: int = 60
    environment: dict[str, Ref] = Field(default_factory=dict)
    grants: tuple[Grant, ...] = ()
    public_api: bool = False  # fronted by API Gateway
    image: str | None = None
    """A Dockerfile (relative to the project root, which is its build context) whose image
    runs the function in AWS, for code past a zip Lambda's 250 MB (TensorFlow). Locally
    the handler runs like any other."""

    @property
    def module_path(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return PROJECT_ROOT / self.code_dir / f"{module.replace('.', '/')}.py"

    @property
    def function_attr(self) -> str:
        return self.handler.rsplit(".", 1)[1]


class TableSpec(Frozen):
    name: str
    partition_key: str = "pk"
    sort_key: str = "sk"


class BucketSpec(Frozen):
    name: str
    versioned: bool = False
    """Keep the versions an object had: a file written over another (an upload form sent
    again) can then be deleted alone, leaving what it was written over."""


class ContainerTaskSpec(Frozen):
    """A Fargate task that a state machine runs (``ecs:runTask.sync``): in AWS its image is
    built from ``dockerfile``; locally its ``command`` runs as a process on this machine
    (``sluice.local.patches.ecs_tasks``). Each run passes its own values through the
    container's environment overrides."""

    name: str
    dockerfile: str  # relative to the project root; the build context is the root
    command: tuple[str, ...]
    cpu: int = 1024  # Fargate CPU units (1024 = 1 vCPU)
    memory_mb: int = 4096
    environment: dict[str, Ref] = Field(default_factory=dict)
    grants: tuple[Grant, ...] = ()  # the task role's: what the container's code may do
    container_name: str = "main"
    stop_timeout_s: int = 30  # SIGTERM, then SIGKILL this long after (a cancel)

    @property
    def dockerfile_path(self) -> Path:
        return PROJECT_ROOT / self.dockerfile


class StateMachineSpec(Frozen):
    name: str
    definition: str  # ASL JSON file relative to the project root
    # ${Key} in the ASL file -> the ARN of the named function
    functions: dict[str, str]
    container_tasks: tuple[str, ...] = ()  # the catalogued tasks it runs (ecs:runTask.sync)
    map_bucket: str | None = None
    """The bucket its Distributed Maps read their item lists from (``work/...``, written
    by a step before them) and write their results to (``work/.../maps/``, ResultWriter):
    the state machine's own S3 rights, and no others."""
    map_items: str = "work/*"
    """The keys (an IAM pattern) its Distributed Maps' ItemReaders may read."""
    map_results: str = "work/*/maps/*"
    """The keys (an IAM pattern) their ResultWriters may write."""

    @property
    def definition_path(self) -> Path:
        return PROJECT_ROOT / self.definition


class GlueDatabaseSpec(Frozen):
    """A Glue Data Catalog database: every ready dataset's typed parts as one of its tables
    (``sluice.datasets.query_tables``), for Athena, Spark or Redshift Spectrum. Glue names
    are account-wide, so each deployment names it after itself: the stack's name in AWS,
    ``sluice`` locally (``<deployment>_<name>``, lower case)."""

    name: str


class NotificationSpec(Frozen):
    """An S3 ObjectCreated notification that invokes a function."""

    bucket: str
    prefix: str
    function: str


class UserPoolSpec(Frozen):
    name: str = "users"
    client_name: str = "sluice-api"
    access_token_minutes: int = 60
    refresh_token_days: int = 30
    password_min_length: int = 8
    password_requires_uppercase: bool = False
    password_requires_lowercase: bool = True
    password_requires_digits: bool = True
    password_requires_symbols: bool = False

    def password_policy(self) -> dict[str, int | bool]:
        """The policy in Cognito's PasswordPolicy shape."""
        return {
            "MinimumLength": self.password_min_length,
            "RequireUppercase": self.password_requires_uppercase,
            "RequireLowercase": self.password_requires_lowercase,
            "RequireNumbers": self.password_requires_digits,
            "RequireSymbols": self.password_requires_symbols,
        }


class Catalog(Frozen):
    functions: tuple[FunctionSpec, ...]
    tables: tuple[TableSpec, ...]
    buckets: tuple[BucketSpec, ...]
    state_machines: tuple[StateMachineSpec, ...]
    notifications: tuple[NotificationSpec, ...]
    user_pool: UserPoolSpec
    container_tasks: tuple[ContainerTaskSpec, ...] = ()
    glue_databases: tuple[GlueDatabaseSpec, ...] = ()

    def function(self, name: str) -> FunctionSpec:
        """The function called ``name``; KeyError if the catalogue has none."""
        for spec in self.functions:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def container_task(self, name: str) -> ContainerTaskSpec:
        """The container task called ``name``; KeyError if the catalogue has none."""
        for spec in self.container_tasks:
            if spec.name == name:
                return spec
        raise KeyError(name)


RECORDS = "records"
UPLOADS = "uploads"
DATA = "data"
INGEST = "ingest_dataset"
EXPORT = "export_dataset"
CATALOG_BACKFILL = "catalog_backfill"
RUN_TASK = "run_task"
RUN_OPERATION = "run_operation"
NETWORKS = "networks"
NETWORKS_IMPORT = "networks_import"
IMPORT_MODEL = "import_model"
TRAIN = "train_model"
TRAINER = "trainer"
PREDICT = "training_predict"
PREDICT_DATASET = "predict_dataset"
PREDICTOR = "predictor"
PREPARER = "preparer"
QUERY_DATABASE = "datasets"

CORS_ORIGINS = os.environ.get("SLUICE_CORS_ORIGINS", "*")
"""The origins whose web pages may read the API's answers, comma-separated: a deployment
setting, read when the stack is synthesised (``SLUICE_CORS_ORIGINS=https://console.example
npx cdk deploy``) or ``sluice local`` starts. ``*`` by default: no credential rides on a
cookie (pages send the id token in ``Authorization``), so any origin is no risk."""

MAP_CONCURRENCY = 1000
"""How many children a Distributed Map runs at once in AWS (the steps that plan a Map put
it in the state as its MaxConcurrencyPath); locally, the worker count instead."""

EXPRESS_STEP_TIMEOUT_S = 90
"""The timeout of a function that runs in an EXPRESS child of a Distributed Map (the
ingest's scans and conversions, the tasks' partials and reduces): an EXPRESS execution
lasts at most 5 minutes, and its Task (95 s) runs at most three times (3 x 95 s + 3 s of
backoff). A scan's or conversion's batch is at most ``MAX_BATCH`` chunks of 64 MiB
(``map_results.BATCH_BYTES``), or up to ``MAX_BATCH_ITEMS`` smaller ones; a partial's at
most ``BATCH_BYTES`` of Parquet pieces (``sluice.tasks.pieces``); a reducer's one bucket
of at most 8M rows (``sluice.tasks.aggregate_output.MOST_BUCKET_ROWS``)."""

FAN_OUT_MEMORY_MB = 1769
"""The memory of the scans', the conversions' and the partials' functions: 1,769 MB (1.73
GiB) is one vCPU, as each local worker has one core (the projection's rates are one
core's). Peak resident memory, measured locally (each step's peak reset at its call, the
Lambdas' heap settings): a scan of a batch of 4 or 8 chunks of 64 MiB 0.66-0.97 GiB, a
conversion of 4 at most 0.93 GiB, a partial into 256 buckets 0.58 GiB for one part and
0.96 GiB for a batch of 8: 1.8x under. Chunks of 128 MiB would leave 1.1-1.2x (a scan of two
1.40 GiB, a conversion 1.44, a partial of four parts 1.61): they stay 64 MiB
(``Settings.chunk_bytes``). The reducers keep 3,008 MB: a bucket holds at most 8M rows
(``sluice.tasks.aggregate_output.MOST_BUCKET_ROWS``; ~7.4M groups at 100 GB, 256 buckets),
and a reducer of 5M groups peaked at 1.46 GiB, of 10M at 2.60
(``bench.aggregate.forecast.REDUCER_GIB``): ~2.1 GiB at 8M, at any size."""

_COMMON_ENV: dict[str, Ref] = {
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
_GLUE_ENV: dict[str, Ref] = {"SLUICE_GLUE_DATABASE": glue_database(QUERY_DATABASE)}
QUERY_TABLES_RW = Grant(target=glue_database(QUERY_DATABASE), access=Access.READ_WRITE)


_IMPORT_ENV: dict[str, Ref] = {
    "SLUICE_IMPORT_STATE_MACHINE_ARN": state_machine(IMPORT_MODEL),
}


_HEAP_ENV = {name: value(setting) for name, setting in heap.environment().items()}


TASK_CLUSTER = "SLUICE_TRAINER_CLUSTER"
TASK_SUBNETS = "SLUICE_TRAINER_SUBNETS"
TASK_SECURITY_GROUPS = "SLUICE_TRAINER_SECURITY_GROUPS"
"""Where container tasks run (``sluice.task_placement``): one cluster and network for all,
named after the first task that ran there."""


def _runs_tasks(**definitions: str) -> dict[str, Ref]:
    """The environment of a step that answers where ``ecs:runTask.sync`` runs container
    tasks: the cluster, the network, and each task's definition in the variable named."""
    return {
        TASK_CLUSTER: task_network("cluster"),
        TASK_SUBNETS: task_network("subnets"),
        TASK_SECURITY_GROUPS: task_network("security_groups"),
        **{variable: container_task(task) for variable, task in definitions.items()},
    }


def _step(
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
        environment={**_COMMON_ENV, **_HEAP_ENV},
        grants=grants,
    )


CATALOG = Catalog(
    functions=(
        FunctionSpec(
            name="api",
            code_dir="functions/api",
            handler="handler.handler",
            memory_mb=1024,
            timeout_s=29,
            public_api=True,
            environment={
                **_COMMON_ENV,
                "SLUICE_USER_POOL_ID": user_pool(),
                "SLUICE_USER_POOL_CLIENT_ID": user_pool_client(),
                "SLUICE_CORS_ORIGINS": value(CORS_ORIGINS),
                **_GLUE_ENV,
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
            environment=_COMMON_ENV,
            grants=(RECORDS_RW, IMPORTS_RW),
            image="functions/networks/Dockerfile",
        ),
        FunctionSpec(
            name="on_model_upload",
            code_dir="functions/on_model_upload",
            handler="handler.handler",
            memory_mb=256,
            timeout_s=30,
            environment={**_COMMON_ENV, **_IMPORT_ENV},
            grants=(
                RECORDS_RW,
                IMPORTS_RW,
                Grant(target=state_machine(IMPORT_MODEL), access=Access.WRITE),
            ),
        ),
        FunctionSpec(
            name="on_upload",
            code_dir="functions/on_upload",
            handler="handler.handler",
            memory_mb=256,
            timeout_s=30,
            environment={**_COMMON_ENV, "SLUICE_INGEST_STATE_MACHINE_ARN": state_machine(INGEST)},
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
                **_COMMON_ENV,
                **_HEAP_ENV,
                # Where ecs:runTask.sync runs the preparer, for an upload past 15 minutes.
                **_runs_tasks(SLUICE_PREPARER_TASK_DEFINITION=PREPARER),
            },
            grants=(RECORDS_RW, UPLOADS_R, DATA_RW),
        ),
        _step("ingest_plan", "ingest", "plan", 512, 60, RECORDS_RW, UPLOADS_R, DATA_R, WORK_W),
        # Scans and conversions run in EXPRESS children (at most 5 minutes each): 90 s,
        # under the child Task's 95 s, three attempts of which fit (ingest_dataset.asl.json).
        _step(
            "ingest_scan_chunk",
            "ingest",
            "scan_chunk",
            FAN_OUT_MEMORY_MB,
            EXPRESS_STEP_TIMEOUT_S,
            RECORDS_RW,
            UPLOADS_R,
            DATA_RW,
        ),
        _step("ingest_reconcile", "ingest", "reconcile", 256, 30, WORK_R, WORK_W),
        _step("ingest_load_layout", "ingest", "load_layout", 256, 30, DATA_R),
        _step("ingest_decide", "ingest", "decide", 1024, 300, RECORDS_RW, DATA_RW),
        _step(
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
            environment={**_COMMON_ENV, **_HEAP_ENV, **_GLUE_ENV},
            grants=(RECORDS_RW, UPLOADS_RW, DATA_RW, QUERY_TABLES_RW),
        ),
        _step("export_dataset", "export_dataset", "handler", 3008, 900, DATA_RW),
        # Maintenance (issue 23, item 8): a Glue table for every ready dataset without one
        # (recorded before the catalogue existed, or refused by Glue); the operator invokes
        # it after an upgrade, and ``sluice local`` when it restores a state folder.
        FunctionSpec(
            name=CATALOG_BACKFILL,
            code_dir="functions/catalog_backfill",
            handler="handler.handler",
            memory_mb=512,
            timeout_s=900,
            environment={**_COMMON_ENV, **_GLUE_ENV},
            grants=(
                Grant(target=table(RECORDS), access=Access.READ_WRITE, scan=True),
                DATA_R,
                QUERY_TABLES_RW,
            ),
        ),
        _step("task_plan", "tasks", "plan", 512, 60, RECORDS_RW, DATA_RW),
        _step(
            "task_partial",
            "tasks",
            "partial",
            FAN_OUT_MEMORY_MB,
            EXPRESS_STEP_TIMEOUT_S,
            RECORDS_RW,
            DATA_RW,
        ),
        # Between the Maps: every part's buckets index read once, the reducers' list written.
        _step("task_gather", "tasks", "gather", 1024, 120, RECORDS_RW, DATA_RW),
        _step("task_reduce", "tasks", "reduce", 3008, EXPRESS_STEP_TIMEOUT_S, RECORDS_RW, DATA_RW),
        _step("task_finish", "tasks", "finish", 512, 120, RECORDS_RW, DATA_RW),
        # Operations of data sessions (issue 21): one part, or one bucket, a Lambda.
        # Plan reads the datasets' manifests and writes the Maps' item lists to the
        # operation's folder (operations/<owner>/<id>/items/).
        _step("operation_plan", "operations", "plan", 512, 60, RECORDS_RW, DATA_R, OPERATIONS_W),
        _step("operation_part", "operations", "part", 3008, 900, RECORDS_RW, DATA_RW),
        _step("operation_bucket", "operations", "bucket", 3008, 900, RECORDS_RW, DATA_RW),
        FunctionSpec(
            name="operation_finish",
            code_dir="functions/operations",
            handler="finish.handler",
            memory_mb=1024,
            timeout_s=300,
            environment={**_COMMON_ENV, **_HEAP_ENV, **_GLUE_ENV},
            grants=(RECORDS_RW, DATA_RW, QUERY_TABLES_RW),
        ),
        # Training (issue 20): the steps around the trainer's Fargate task.
        FunctionSpec(
            name="train_prepare",
            code_dir="functions/training",
            handler="prepare.handler",
            memory_mb=256,
            timeout_s=30,
            environment={
                **_COMMON_ENV,
                # Where ecs:runTask.sync runs the trainer (the state reads them from here);
                # predict_dataset runs these steps too, for its predictor's task.
                **_runs_tasks(
                    SLUICE_TRAINER_TASK_DEFINITION=TRAINER,
                    SLUICE_PREDICTOR_TASK_DEFINITION=PREDICTOR,
                ),
            },
            # A job on an upload: its dataset's manifest and the job's graph, checked then.
            grants=(RECORDS_RW, DATASETS_R, Grant(target=bucket(DATA), prefix="training/")),
        ),
        _step("train_finish", "training", "finish", 256, 30, RECORDS_RW),
        _step("train_fail", "training", "fail", 256, 30, RECORDS_RW),
        # Predictions of a trained job's model (issue 20, item 5): Keras, so an image.
        FunctionSpec(
            name=PREDICT,
            code_dir="functions/training",
            handler="predict.handler",
            memory_mb=3008,
            timeout_s=60,
            environment=_COMMON_ENV,
            grants=(
                Grant(target=table(RECORDS), access=Access.READ),
                Grant(target=bucket(DATA), access=Access.READ, prefix="training/"),
            ),
            image="functions/training/predict.Dockerfile",
        ),
    ),
    tables=(TableSpec(name=RECORDS),),
    buckets=(BucketSpec(name=UPLOADS, versioned=True), BucketSpec(name=DATA)),
    state_machines=(
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
        StateMachineSpec(
            name=EXPORT,
            definition="statemachines/export_dataset.asl.json",
            functions={"ExportFunctionArn": "export_dataset"},
        ),
        StateMachineSpec(
            name=IMPORT_MODEL,
            definition="statemachines/import_model.asl.json",
            functions={"ImportFunctionArn": NETWORKS_IMPORT},
        ),
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
    ),
    notifications=(
        NotificationSpec(bucket=UPLOADS, prefix="uploads/", function="on_upload"),
        # Model files for import jobs (issue 19) land apart from datasets' files.
        NotificationSpec(bucket=UPLOADS, prefix="imports/", function="on_model_upload"),
    ),
    user_pool=UserPoolSpec(),
    glue_databases=(GlueDatabaseSpec(name=QUERY_DATABASE),),
    container_tasks=(
        # The ingest's Prepare for a compressed upload past a Lambda's 15 minutes: no
        # TensorFlow, one core (decompression is one stream), the ingest's rights.
        ContainerTaskSpec(
            name=PREPARER,
            dockerfile="functions/ingest/preparer.Dockerfile",
            command=("python", "-m", "sluice.ingest.prepare_task"),
            cpu=1024,
            memory_mb=2048,
            environment={**_COMMON_ENV, **_HEAP_ENV},
            grants=(RECORDS_RW, UPLOADS_R, DATA_RW),
        ),
        ContainerTaskSpec(
            name=TRAINER,
            dockerfile="functions/training/Dockerfile",
            command=("python", "-m", "sluice.training.trainer"),
            cpu=2048,
            memory_mb=8192,
            environment={**_COMMON_ENV, **_HEAP_ENV},
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
            environment={**_COMMON_ENV, **_HEAP_ENV, **_GLUE_ENV},
            grants=(
                RECORDS_RW,
                QUERY_TABLES_RW,
                Grant(target=bucket(DATA), access=Access.READ_WRITE, prefix="datasets/"),
                Grant(target=bucket(DATA), access=Access.READ, prefix="training/"),
            ),
        ),
    ),
)
