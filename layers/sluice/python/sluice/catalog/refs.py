"""A reference from one resource to another, and what a grant lets a function do to it.

Plain data: each deployment resolves a reference its own way (the CDK stack to a token,
the embedded AWS to a name or ARN) and turns a grant into its rights.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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
