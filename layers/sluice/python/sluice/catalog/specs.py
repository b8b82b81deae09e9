"""The kinds of resource the catalogue lists, and the catalogue itself."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from sluice.catalog.names import PROJECT_ROOT
from sluice.catalog.refs import Frozen, Grant, Ref


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
