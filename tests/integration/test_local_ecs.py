"""The local ECS runner: a real state machine's ``ecs:runTask.sync`` runs the task
definition's command as a subprocess, waits for it, fails on its exit code, and StopTask
kills it (sluice.local.patches.ecs_tasks, sfn_ecs_sync)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support import wait_for

ROLE = "arn:aws:iam::123456789012:role/sluice-local"


@pytest.fixture(scope="module")
def ecs_setup(local: Any) -> dict[str, str]:
    """A cluster, a VPC's subnet and security group, as the catalogue's task gets them."""
    ec2 = local.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="ecs-test", Description="t", VpcId=vpc)["GroupId"]
    cluster = local.client("ecs").create_cluster(clusterName="ecs-test")["cluster"]["clusterArn"]
    return {"cluster": cluster, "subnet": subnet, "group": group}


def _run(local: Any, setup: dict[str, str], code: str, environment: dict[str, str]) -> str:
    """Start an execution of a one-state machine running ``python -c code``."""
    ecs, sfn = local.client("ecs"), local.client("stepfunctions")
    family = f"t-{uuid.uuid4().hex[:8]}"
    definition = ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "main",
                "image": "local",
                "essential": True,
                "memory": 512,
                "stopTimeout": 5,
                "command": ["python", "-c", code],
                "environment": [{"name": "FROM_DEFINITION", "value": "yes"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    overrides = [{"Name": k, "Value": v} for k, v in environment.items()]
    machine = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {
                    "Cluster": setup["cluster"],
                    "TaskDefinition": definition,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "Subnets": [setup["subnet"]],
                            "SecurityGroups": [setup["group"]],
                            "AssignPublicIp": "ENABLED",
                        }
                    },
                    "Overrides": {
                        "ContainerOverrides": [{"Name": "main", "Environment": overrides}]
                    },
                },
                "End": True,
            }
        },
    }
    arn = sfn.create_state_machine(name=family, definition=json.dumps(machine), roleArn=ROLE)
    started = sfn.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")
    return str(started["executionArn"])


def _finished(local: Any, execution: str) -> dict[str, Any]:
    sfn = local.client("stepfunctions")

    def done() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return None if described["status"] == "RUNNING" else described

    return wait_for(done, 30, "the execution to end")


def _submitted_task(local: Any, execution: str) -> dict[str, Any]:
    """The task RunTask started, from the execution's TaskSubmitted event."""
    sfn = local.client("stepfunctions")

    def submitted() -> dict[str, Any] | None:
        for event in sfn.get_execution_history(executionArn=execution)["events"]:
            if event["type"] == "TaskSubmitted":
                task: dict[str, Any] = json.loads(event["taskSubmittedEventDetails"]["output"])
                return task["Tasks"][0]
        return None

    return wait_for(submitted, 30, "the task to be submitted")


def test_sync_waits_for_the_command_with_the_task_environment(
    local: Any, ecs_setup: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "env.json"
    code = (
        "import json, os, time; time.sleep(0.6); keys = ('FROM_DEFINITION', 'JOB', "
        "'AWS_ENDPOINT_URL'); json.dump({k: os.environ.get(k) for k in keys}, "
        f"open({str(out)!r}, 'w'))"
    )
    execution = _run(local, ecs_setup, code, {"JOB": "job-1"})
    described = _finished(local, execution)
    assert described["status"] == "SUCCEEDED", described
    task = json.loads(described["output"])
    assert (task["LastStatus"], task["StopCode"]) == ("STOPPED", "EssentialContainerExited")
    assert task["Containers"][0]["ExitCode"] == 0
    assert json.loads(out.read_text()) == {
        "FROM_DEFINITION": "yes",
        "JOB": "job-1",
        "AWS_ENDPOINT_URL": local.endpoint,
    }


def test_a_non_zero_exit_fails_the_state_with_the_commands_message(
    local: Any, ecs_setup: dict[str, str]
) -> None:
    code = "import sys; print('working'); sys.exit('the trainer gave up: no rows')"
    described = _finished(local, _run(local, ecs_setup, code, {}))
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    task = json.loads(described["cause"])
    container = task["Containers"][0]
    assert (container["ExitCode"], container["Reason"]) == (1, "the trainer gave up: no rows")
    assert task["StoppedReason"] == "Essential container in task exited"


def test_stop_task_kills_the_process_and_fails_the_state(
    local: Any, ecs_setup: dict[str, str]
) -> None:
    execution = _run(local, ecs_setup, "import time; time.sleep(60)", {})
    task = _submitted_task(local, execution)
    ecs = local.client("ecs")
    running = ecs.describe_tasks(cluster=task["ClusterArn"], tasks=[task["TaskArn"]])["tasks"][0]
    assert running["lastStatus"] == "RUNNING"
    stopped = ecs.stop_task(cluster=task["ClusterArn"], task=task["TaskArn"], reason="cancelled")
    assert stopped["task"]["desiredStatus"] == "STOPPED"
    described = _finished(local, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert (cause["StopCode"], cause["StoppedReason"]) == ("UserInitiated", "cancelled")
    assert cause["Containers"][0]["ExitCode"] == 143  # SIGTERM, as Docker reports it


def test_stopping_the_execution_stops_its_task(local: Any, ecs_setup: dict[str, str]) -> None:
    execution = _run(local, ecs_setup, "import time; time.sleep(60)", {})
    task = _submitted_task(local, execution)
    local.client("stepfunctions").stop_execution(executionArn=execution, cause="cancelled")
    ecs = local.client("ecs")

    def stopped() -> dict[str, Any] | None:
        described = ecs.describe_tasks(cluster=task["ClusterArn"], tasks=[task["TaskArn"]])
        found: dict[str, Any] = described["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    ended = wait_for(stopped, 30, "the task to stop")
    assert ended["stopCode"] == "UserInitiated"
    assert ended["containers"][0]["exitCode"] == 143
