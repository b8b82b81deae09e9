"""Step Functions state machines from the catalogue's ASL files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import RegexAppliesTo
from constructs import Construct
from sluice.catalog import StateMachineSpec

from infra.constructs.container_tasks import ContainerTasks
from infra.constructs.functions import Functions
from infra.constructs.nag import XRAY_AND_LOG_DELIVERY, accept, accept_wildcards, arn_wildcard
from infra.constructs.naming import pascal
from infra.constructs.wiring import CatalogWiringError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
"""A ``${Name}`` definition substitution in an ASL file."""


def placeholders(definition: str) -> set[str]:
    """The names of the ``${...}`` substitutions an ASL definition uses."""
    return set(PLACEHOLDER.findall(definition))


def distributed_maps(definition: str) -> list[str]:
    """The names of the Distributed Map states of an ASL definition (nested ones too)."""
    found: list[str] = []

    def visit(states: dict[str, Any]) -> None:
        for name, state in states.items():
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            if processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
                found.append(name)
            visit(processor.get("States", {}))
            for branch in state.get("Branches", []):
                visit(branch.get("States", {}))

    visit(json.loads(definition).get("States", {}))
    return found


# What a Distributed Map needs of S3 (AWS's documented policies for ItemReader and
# ResultWriter): the item list's GET, and the result files' PUT (in parts when large).
ITEM_READER_ACTIONS = ("s3:GetObject",)
RESULT_WRITER_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
)
# Where the item lists are and where the ResultWriters write: the catalogue's map_items
# and map_results (the ingest's work/<owner>/<id>/<run>/ and its maps/<map run>/...).
DISTRIBUTED_MAP_REASON = (
    "A Distributed Map starts its children as executions of its own state machine and "
    "follows and stops them (states:StartExecution on the machine; DescribeExecution and "
    "StopExecution on its executions, 'execution:<machine>:*' and its children's "
    "'execution:<machine>/*': their names are made at run time), reads its item list "
    "(s3:GetObject on the run's work folder, e.g. 'work/*': owner, dataset and run are "
    "made at run time) and writes its results (ResultWriter's actions on its maps/ "
    "folder only, e.g. 'work/*/maps/*')"
)


class Workflows(Construct):
    """One standard state machine per ``StateMachineSpec``, by catalogue name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Iterable[StateMachineSpec],
        functions: Functions,
        container_tasks: ContainerTasks | None = None,
        buckets: Mapping[str, s3.IBucket] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._container_tasks = container_tasks
        self._buckets = buckets or {}
        self.by_name: dict[str, sfn.StateMachine] = {
            spec.name: self._state_machine(spec, functions) for spec in specs
        }

    def _state_machine(self, spec: StateMachineSpec, functions: Functions) -> sfn.StateMachine:
        definition = spec.definition_path.read_text(encoding="utf-8")
        used, given = placeholders(definition), set(spec.functions)
        if used != given:
            # Caught here rather than by a failed deployment (or a run that dies at the
            # first task): an unfilled ${Name} is still valid JSON.
            raise CatalogWiringError(
                f"{spec.definition}: placeholders {sorted(used)} but the catalogue "
                f"substitutes {sorted(given)}"
            )
        construct_id = pascal(spec.name)
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            # The /aws/vendedlogs/ prefix keeps CloudWatch's log resource policy small.
            log_group_name=f"/aws/vendedlogs/states/{Stack.of(self).stack_name}-{spec.name}",
            retention=logs.RetentionDays.ONE_MONTH,
            # A named log group that outlived its stack would block the next deployment.
            removal_policy=RemovalPolicy.DESTROY,
        )
        distributed = distributed_maps(definition)
        # A Distributed Map's role names its own state machine: a name fixed here (not one
        # CloudFormation makes) lets the policy name it without a reference back to the
        # machine, which would make a cycle (the machine waits for its role's policy).
        machine_name = f"{Stack.of(self).stack_name}-{spec.name}" if distributed else None
        machine = sfn.StateMachine(
            self,
            construct_id,
            state_machine_name=machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # from_string keeps the ASL inline in the template (DefinitionString), where
            # linters and reviewers can read it, instead of uploading it as an S3 asset.
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={
                key: functions[name].function_arn for key, name in spec.functions.items()
            },
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR),
            tracing_enabled=True,
        )
        # The state machine may invoke exactly the functions its definition names.
        invoked = [functions[name] for name in sorted(set(spec.functions.values()))]
        for function in invoked:
            function.grant_invoke(machine)
        accept(
            machine,
            "SF1",
            "ERROR, not ALL: ALL logs every state's input and output, thousands of events "
            "for a run whose Map has thousands of chunks, with owners' ids and S3 keys in "
            "them; ERROR logs each failed state with its cause, and X-Ray traces every run",
        )
        if spec.container_tasks:
            if self._container_tasks is None:
                raise CatalogWiringError(f"{spec.name} runs container tasks; the stack has none")
            self._container_tasks.grant_run(machine, spec.container_tasks)
            accept_wildcards(
                machine.role,
                "ecs:StopTask and ecs:DescribeTasks on the tasks of the one cluster "
                "('task/<cluster>/*': task ids are made at run time), as ecs:runTask.sync "
                "needs them to follow and stop the task it started",
                [RegexAppliesTo(regex="/^Resource::arn:.*:ecs:.*:task\\/.*\\/\\*$/")],
            )
        if distributed:
            assert machine_name is not None
            self._grant_distributed_maps(machine, spec, machine_name)
        accept_wildcards(machine.role, XRAY_AND_LOG_DELIVERY, ["Resource::*"])
        accept_wildcards(
            machine.role,
            "CDK's grant_invoke names each function's ARN and '<arn>:*', its versions and "
            "aliases; the functions are exactly those the definition substitutes",
            [arn_wildcard(function, ":*") for function in invoked],
        )
        return machine

    def _grant_distributed_maps(
        self, machine: sfn.StateMachine, spec: StateMachineSpec, name: str
    ) -> None:
        """What the machine's Distributed Maps need: their children (executions of the
        machine itself) and their item lists and result files in the catalogue's bucket."""
        if spec.map_bucket is None or spec.map_bucket not in self._buckets:
            raise CatalogWiringError(
                f"{spec.name} has Distributed Maps; the catalogue names no bucket for them"
            )
        stack = Stack.of(self)
        machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{name}{separator}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for separator in (":", "/")
        ]
        bucket = self._buckets[spec.map_bucket]
        statements = [
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine_arn]),
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=executions,
            ),
            iam.PolicyStatement(
                actions=list(ITEM_READER_ACTIONS),
                resources=[bucket.arn_for_objects(spec.map_items)],
            ),
            iam.PolicyStatement(
                actions=list(RESULT_WRITER_ACTIONS),
                resources=[bucket.arn_for_objects(spec.map_results)],
            ),
        ]
        for statement in statements:
            machine.add_to_role_policy(statement)
        bucket_id = Stack.of(bucket).resolve(bucket.node.default_child.logical_id)  # type: ignore[union-attr]
        accept_wildcards(
            machine.role,
            DISTRIBUTED_MAP_REASON,
            [
                RegexAppliesTo(regex=f"/^Resource::arn:.*:execution:{re.escape(name)}[:/]\\*$/"),
                f"Resource::<{bucket_id}.Arn>/{spec.map_items}",
                f"Resource::<{bucket_id}.Arn>/{spec.map_results}",
            ],
        )
