"""Step Functions state machines from the catalogue's ASL files."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
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
    ) -> None:
        super().__init__(scope, construct_id)
        self._container_tasks = container_tasks
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
        machine = sfn.StateMachine(
            self,
            construct_id,
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
        accept_wildcards(machine.role, XRAY_AND_LOG_DELIVERY, ["Resource::*"])
        accept_wildcards(
            machine.role,
            "CDK's grant_invoke names each function's ARN and '<arn>:*', its versions and "
            "aliases; the functions are exactly those the definition substitutes",
            [arn_wildcard(function, ":*") for function in invoked],
        )
        return machine
