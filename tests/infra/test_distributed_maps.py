"""The ingest's and the tasks' Distributed Maps in the synthesised stack: their items and
results in the catalogue's data bucket, under its keys, and exactly the rights that takes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sluice.catalog import CATALOG, DATA

from infra.app import STACK_NAME
from infra.constructs.nag import logical_id
from infra.constructs.workflows import distributed_maps
from infra.stack import SluiceStack
from tests.infra.conftest import Resources

INGEST = "ingest_dataset"
RUN_TASK = "run_task"


def role_statements(resources: Resources, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to ``role_id``."""
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def arn(resource: str) -> dict[str, Any]:
    """A Step Functions ARN of the stack's account and region, as the template writes it."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def objects_under(bucket_id: str, keys: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{keys}"]]}


def test_the_ingests_scans_rescans_and_conversions_are_distributed_maps() -> None:
    spec = next(s for s in CATALOG.state_machines if s.name == INGEST)
    definition = spec.definition_path.read_text()
    assert distributed_maps(definition) == ["ScanChunks", "RescanChunks", "ConvertChunks"]
    scan = json.loads(definition)["States"]["ScanChunks"]
    assert scan["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert scan["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
    assert scan["ToleratedFailurePercentage"] == 0
    assert spec.map_bucket == DATA


EXPRESS_MAX_S = 300
"""An EXPRESS execution's longest run (Step Functions' quotas): an EXPRESS child's Task,
all its attempts and their backoff, must end within it."""


def children_by_map(workflow: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each Distributed Map of ``workflow``'s ASL: its children's execution type and the
    Task state they run."""
    spec = next(s for s in CATALOG.state_machines if s.name == workflow)
    states = json.loads(spec.definition_path.read_text())["States"]
    found = {}
    for name in distributed_maps(spec.definition_path.read_text()):
        processor = states[name]["ItemProcessor"]
        task = processor["States"][processor["StartAt"]]
        found[name] = (processor["ProcessorConfig"]["ExecutionType"], task)
    return found


def longest_run_s(task: dict[str, Any]) -> float:
    """A Task's longest run: every attempt its retriers allow (their MaxAttempts add up,
    each counted apart) taking its whole TimeoutSeconds, plus every backoff between."""
    retriers = task.get("Retry", [])
    attempts = 1 + sum(r.get("MaxAttempts", 3) for r in retriers)
    backoff = sum(
        r.get("IntervalSeconds", 1) * r.get("BackoffRate", 2.0) ** k
        for r in retriers
        for k in range(r.get("MaxAttempts", 3))
    )
    return float(attempts * task["TimeoutSeconds"] + backoff)


def test_the_ingests_and_the_tasks_children_are_express_the_operations_standard() -> None:
    kinds = {
        workflow: {name: kind for name, (kind, _) in children_by_map(workflow).items()}
        for workflow in (INGEST, RUN_TASK, "run_operation")
    }
    assert kinds == {
        INGEST: {"ScanChunks": "EXPRESS", "RescanChunks": "EXPRESS", "ConvertChunks": "EXPRESS"},
        RUN_TASK: {"Partials": "EXPRESS", "Reduces": "EXPRESS"},
        "run_operation": {"Survey": "STANDARD", "Parts": "STANDARD", "Buckets": "STANDARD"},
    }


@pytest.mark.parametrize("workflow", [INGEST, RUN_TASK])
def test_an_express_childs_attempts_fit_in_five_minutes_and_its_lambda_times_out_first(
    stack: SluiceStack, resources: Resources, workflow: str
) -> None:
    spec = next(s for s in CATALOG.state_machines if s.name == workflow)
    for name, (kind, task) in children_by_map(workflow).items():
        assert kind == "EXPRESS", name
        assert task["TimeoutSeconds"] == 95
        assert longest_run_s(task) == 3 * 95 + 1 + 2 <= EXPRESS_MAX_S
        placeholder = task["Parameters"]["FunctionName"].removeprefix("${").removesuffix("}")
        function = stack.functions[spec.functions[placeholder]]
        timeout = resources[logical_id(function)]["Properties"]["Timeout"]
        assert timeout == 90 < task["TimeoutSeconds"], name


def test_scans_conversions_and_partials_get_one_vcpu_and_reducers_3008_mb(
    stack: SluiceStack, resources: Resources
) -> None:
    # A reducer's bucket holds up to 8M rows (~2.1 GiB): 1,769 MB would not hold one; a
    # scan's, a conversion's and a partial's work is a batch of chunks or pieces.
    memory = {
        name: resources[logical_id(stack.functions[name])]["Properties"]["MemorySize"]
        for name in ("ingest_scan_chunk", "ingest_convert_chunk", "task_partial", "task_reduce")
    }
    assert memory == {
        "ingest_scan_chunk": 1769,
        "ingest_convert_chunk": 1769,
        "task_partial": 1769,
        "task_reduce": 3008,
    }


def test_the_tasks_partials_and_reduces_are_distributed_maps_in_the_task_work_folder() -> None:
    spec = next(s for s in CATALOG.state_machines if s.name == RUN_TASK)
    definition = spec.definition_path.read_text()
    assert distributed_maps(definition) == ["Partials", "Reduces"]
    states = json.loads(definition)["States"]
    for name, items in (("Partials", "$.plan.value.parts"), ("Reduces", "$.gathered.value.items")):
        state = states[name]
        assert state["ItemReader"] == {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": f"{items}.bucket", "Key.$": f"{items}.key"},
        }
        assert state["ResultWriter"] == {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {
                "Bucket.$": "$.plan.value.parts.bucket",
                "Prefix.$": "$.plan.value.results",
            },
        }
        assert state["ToleratedFailurePercentage"] == 0
        assert state["MaxConcurrencyPath"] == "$.plan.value.concurrency"
    assert (spec.map_bucket, spec.map_items, spec.map_results) == (
        DATA,
        "tasks/*/work/*",
        "tasks/*/work/maps/*",
    )


def expected_map_grants(name: str, data_id: str, items: str, results: str) -> list[tuple[Any, Any]]:
    """What a state machine ``name`` with Distributed Maps may do: run and stop its own
    children, read its item lists under ``items`` and write its results under
    ``results`` in the data bucket, and nothing else on S3 or Step Functions."""
    return [
        ("states:StartExecution", arn(f"stateMachine:{name}")),
        (
            ["states:DescribeExecution", "states:StopExecution"],
            [arn(f"execution:{name}/*"), arn(f"execution:{name}:*")],
        ),
        ("s3:GetObject", objects_under(data_id, items)),
        (
            [
                "s3:AbortMultipartUpload",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            objects_under(data_id, results),
        ),
    ]


def machine_map_grants(
    stack: SluiceStack, resources: Resources, workflow: str, items: str, results: str
) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """The rights on S3 and Step Functions that the state machine ``workflow``'s role has,
    and those it should have (:func:`expected_map_grants`); its name is the stack's."""
    machine = resources[logical_id(stack.workflows.by_name[workflow])]["Properties"]
    name = f"{STACK_NAME}-{workflow}"
    assert machine["StateMachineName"] == name
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    data_id = logical_id(stack.storage.buckets[DATA])
    return map_grants(resources, role_id), expected_map_grants(name, data_id, items, results)


def map_grants(resources: Resources, role_id: str) -> list[tuple[Any, Any]]:
    """The role's statements on S3 or Step Functions, as (actions, resources)."""
    return [
        (statement["Action"], statement["Resource"])
        for statement in role_statements(resources, role_id)
        if any(
            action.startswith(("s3:", "states:"))
            for action in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
        )
    ]


def test_the_task_machine_may_read_items_and_write_results_only_in_its_work_folder(
    stack: SluiceStack, resources: Resources
) -> None:
    granted, expected = machine_map_grants(
        stack, resources, RUN_TASK, "tasks/*/work/*", "tasks/*/work/maps/*"
    )
    assert granted == expected


def test_the_ingest_may_run_its_children_and_read_items_and_write_results_only_in_work(
    stack: SluiceStack, resources: Resources
) -> None:
    granted, expected = machine_map_grants(stack, resources, INGEST, "work/*", "work/*/maps/*")
    assert granted == expected


def s3_grants(resources: Resources, role_id: str) -> set[tuple[str, str]]:
    """The role's (S3 action, resource) pairs, the resources as JSON."""
    return {
        (action, json.dumps(target, sort_keys=True))
        for statement in role_statements(resources, role_id)
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        if action.startswith("s3:")
        for target in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    }


def test_reconcile_touches_only_the_work_folder(stack: SluiceStack, resources: Resources) -> None:
    # It reads the scans' results there and writes the list of ranges to scan again.
    function = resources[logical_id(stack.functions["ingest_reconcile"])]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    data_id = logical_id(stack.storage.buckets[DATA])
    granted = s3_grants(resources, role_id)
    assert any(action.startswith("s3:Put") for action, _ in granted)
    objects = {target for _, target in granted if "/" in target}
    assert objects == {json.dumps(objects_under(data_id, "work/*"), sort_keys=True)}
