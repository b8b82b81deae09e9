"""sluice.local.patches.sfn_distributed_map: small state machines with a Distributed Map
run on moto's interpreter as AWS runs them: items read from S3, batched, at most
MaxConcurrency children at once, results written in AWS's layout, and a failed child
failing the Map state with States.ExceedToleratedFailureThreshold."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sluice.local.patches import sfn_distributed_map
from sluice.local.patches.sfn_distributed_map import EXCEEDED_CAUSE, exceeds
from sluice.local.patches.sfn_map_batches import batches, template_value
from sluice.local.patches.sfn_map_children import Child
from sluice.local.patches.sfn_map_results import result_entry
from sluice.local.patches.sfn_service_client import SERVICE_RETRIES, service_client

from tests.support import wait_for

REGION = "us-east-1"
BUCKET = "work"
ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in this process with executions that really run, and a bucket of items."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    sfn_distributed_map.install()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def run(definition: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    """Run ``definition`` to its end; DescribeExecution's answer."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name=f"m{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError("the execution did not end in 30 s")


def distributed_map(child_states: dict[str, Any], start_at: str, **fields: Any) -> dict[str, Any]:
    """A state machine of one Distributed Map over the JSON list at $.items in S3, its
    results written under $.prefix; a failure caught into $.error."""
    return {
        "StartAt": "Chunks",
        "States": {
            "Chunks": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": BUCKET, "Key.$": "$.items"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": start_at,
                    "States": child_states,
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.prefix"},
                },
                "ResultPath": "$.written",
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "End": True,
                **fields,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def put_items(s3: Any, key: str, items: list[Any]) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(items).encode())


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


ECHO = {"Echo": {"Type": "Pass", "End": True}}


def test_batches_get_items_and_the_batch_input_as_aws_gives_them(aws: Any) -> None:
    put_items(aws, "in/items.json", [{"n": n} for n in range(5)])
    definition = distributed_map(
        ECHO,
        "Echo",
        ItemSelector={"value.$": "$$.Map.Item.Value.n", "index.$": "$$.Map.Item.Index"},
        ItemBatcher={
            "MaxItemsPerBatchPath": "$.batch",
            "BatchInput": {"run.$": "$.run", "fixed": "yes"},
        },
        MaxConcurrency=2,
    )
    ended = run(definition, {"items": "in/items.json", "prefix": "out", "batch": 2, "run": "r1"})
    assert ended["status"] == "SUCCEEDED"
    output = json.loads(ended["output"])
    map_run_arn = output["written"]["MapRunArn"]
    run_id = map_run_arn.split(":")[-1]
    assert output["written"] == {
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": BUCKET, "Key": f"out/{run_id}/manifest.json"},
    }
    manifest = read_json(aws, f"out/{run_id}/manifest.json")
    succeeded_key = f"out/{run_id}/SUCCEEDED_0.json"
    size = aws.head_object(Bucket=BUCKET, Key=succeeded_key)["ContentLength"]
    assert manifest == {
        "DestinationBucket": BUCKET,
        "MapRunArn": map_run_arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [{"Key": succeeded_key, "Size": size}],
        },
    }
    entries = read_json(aws, succeeded_key)
    batch_input = {"run": "r1", "fixed": "yes"}
    expected_inputs = [
        {"Items": [{"value": 0, "index": 0}, {"value": 1, "index": 1}], "BatchInput": batch_input},
        {"Items": [{"value": 2, "index": 2}, {"value": 3, "index": 3}], "BatchInput": batch_input},
        {"Items": [{"value": 4, "index": 4}], "BatchInput": batch_input},
    ]
    assert [json.loads(e["Input"]) for e in entries] == expected_inputs
    assert [json.loads(e["Output"]) for e in entries] == expected_inputs  # Pass: as it came
    first = entries[0]
    assert set(first) == {
        "ExecutionArn",
        "Input",
        "InputDetails",
        "Name",
        "Output",
        "OutputDetails",
        "RedriveCount",
        "RedriveStatus",
        "StartDate",
        "StateMachineArn",
        "Status",
        "StopDate",
    }
    assert first["Status"] == "SUCCEEDED"
    assert first["ExecutionArn"].endswith(f":{first['Name']}")
    assert ":execution:" in first["ExecutionArn"]
    assert (first["InputDetails"], first["OutputDetails"]) == ({"Included": True},) * 2


def test_without_a_batcher_each_item_is_one_child_in_order(aws: Any) -> None:
    put_items(aws, "in/items.json", ["a", "b", "c"])
    ended = run(distributed_map(ECHO, "Echo"), {"items": "in/items.json", "prefix": "out/"})
    written = json.loads(ended["output"])["written"]["ResultWriterDetails"]
    manifest = read_json(aws, written["Key"])
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    assert [json.loads(e["Output"]) for e in read_json(aws, succeeded["Key"])] == ["a", "b", "c"]
    assert written["Key"].startswith("out/") and "//" not in written["Key"]


def test_an_empty_item_list_writes_a_manifest_of_no_files(aws: Any) -> None:
    put_items(aws, "in/none.json", [])
    ended = run(distributed_map(ECHO, "Echo"), {"items": "in/none.json", "prefix": "empty"})
    assert ended["status"] == "SUCCEEDED"
    key = json.loads(ended["output"])["written"]["ResultWriterDetails"]["Key"]
    assert read_json(aws, key)["ResultFiles"] == {"FAILED": [], "PENDING": [], "SUCCEEDED": []}


FAIL_ON_TWO = {
    "Which": {
        "Type": "Choice",
        "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Boom"}],
        "Default": "Fine",
    },
    "Boom": {"Type": "Fail", "Error": "ChunkFailed", "Cause": "chunk 2: line 7 is ragged"},
    "Fine": {"Type": "Pass", "End": True},
}


def test_one_failed_child_fails_the_map_with_the_threshold_error_and_its_catch_takes_it(
    aws: Any,
) -> None:
    put_items(aws, "in/items.json", [0, 1, 2, 3])
    ended = run(
        distributed_map(FAIL_ON_TWO, "Which", ToleratedFailurePercentage=0),
        {"items": "in/items.json", "prefix": "failed"},
    )
    assert ended["status"] == "SUCCEEDED"  # caught
    output = json.loads(ended["output"])
    assert output["error"] == {
        "Error": "States.ExceedToleratedFailureThreshold",
        "Cause": EXCEEDED_CAUSE,
    }
    assert "written" not in output
    (manifest_key,) = [
        o["Key"]
        for o in aws.list_objects_v2(Bucket=BUCKET, Prefix="failed/")["Contents"]
        if o["Key"].endswith("/manifest.json")
    ]
    files = read_json(aws, manifest_key)["ResultFiles"]
    (failed_file,) = files["FAILED"]
    (failed,) = read_json(aws, failed_file["Key"])
    assert (failed["Status"], failed["Error"], failed["Cause"], json.loads(failed["Input"])) == (
        "FAILED",
        "ChunkFailed",
        "chunk 2: line 7 is ragged",
        2,
    )
    assert "Output" not in failed
    (succeeded_file,) = files["SUCCEEDED"]
    outputs = sorted(json.loads(e["Output"]) for e in read_json(aws, succeeded_file["Key"]))
    assert outputs == [0, 1, 3]


def test_a_tolerated_failure_lets_the_map_succeed(aws: Any) -> None:
    put_items(aws, "in/items.json", [0, 1, 2, 3])
    ended = run(
        distributed_map(FAIL_ON_TWO, "Which", ToleratedFailureCount=1),
        {"items": "in/items.json", "prefix": "tolerated"},
    )
    assert "error" not in json.loads(ended["output"])


def test_an_uncaught_failure_fails_the_execution_with_the_threshold_error(aws: Any) -> None:
    put_items(aws, "in/items.json", [2])
    definition = distributed_map(FAIL_ON_TWO, "Which")
    del definition["States"]["Chunks"]["Catch"]
    ended = run(definition, {"items": "in/items.json", "prefix": "uncaught"})
    assert (ended["status"], ended["error"], ended["cause"]) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
        EXCEEDED_CAUSE,
    )


def test_the_stored_definition_keeps_its_item_batcher(aws: Any) -> None:
    definition = distributed_map(ECHO, "Echo", ItemBatcher={"MaxItemsPerBatch": 3})
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(name="kept", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    described = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert described["States"]["Chunks"]["ItemBatcher"] == {"MaxItemsPerBatch": 3}


def test_express_children_run_as_standard_ones_and_the_definition_stays_express(
    aws: Any,
) -> None:
    # moto's grammar knows only STANDARD children; the ingest's Maps declare EXPRESS.
    put_items(aws, "in/items.json", ["a", "b", "c"])
    outputs, kept = {}, {}
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for kind in ("EXPRESS", "STANDARD"):
        definition = distributed_map(ECHO, "Echo")
        definition["States"]["Chunks"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = kind
        ended = run(definition, {"items": "in/items.json", "prefix": kind})
        written = json.loads(ended["output"])["written"]["ResultWriterDetails"]
        (succeeded,) = read_json(aws, written["Key"])["ResultFiles"]["SUCCEEDED"]
        outputs[kind] = [json.loads(e["Output"]) for e in read_json(aws, succeeded["Key"])]
        arn = sfn.create_state_machine(
            name=f"kept-{kind}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        stored = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
        kept[kind] = stored["States"]["Chunks"]["ItemProcessor"]["ProcessorConfig"]
    assert outputs == {"EXPRESS": ["a", "b", "c"], "STANDARD": ["a", "b", "c"]}
    assert kept["EXPRESS"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}


def test_batches_cut_by_count_and_by_bytes() -> None:
    assert batches([1, 2, 3, 4, 5], 2, None) == [[1, 2], [3, 4], [5]]
    # JSON texts: "aaaa" is 6 bytes, "bb" and "cc" 4, "dddddddd" 10
    assert batches(["aaaa", "bb", "cc", "dddddddd"], None, 10) == [
        ["aaaa", "bb"],
        ["cc"],
        ["dddddddd"],
    ]
    assert batches([], 3, None) == []


def test_the_threshold_is_exceeded_past_the_declared_count_or_percentage() -> None:
    assert not exceeds(0, 10, None, None)
    assert exceeds(1, 10, None, None)  # nothing declared: none tolerated
    assert not exceeds(1, 10, 1, None)
    assert exceeds(2, 10, 1, None)
    assert not exceeds(1, 10, None, 10.0)
    assert exceeds(2, 10, None, 10.0)
    assert exceeds(1, 10, 1, 0.0)  # either declared threshold, passed, fails it


def test_a_batch_input_template_reads_paths_and_the_context() -> None:
    template = {"a.$": "$.x", "nested": {"b.$": "$$.Execution.Id"}, "c": [1, {"d.$": "$.y"}]}
    value = template_value(template, {"x": 1, "y": [2]}, {"Execution": {"Id": "e"}})
    assert value == {"a": 1, "nested": {"b": "e"}, "c": [1, {"d": [2]}]}
    with pytest.raises(ValueError, match="only paths"):
        template_value({"a.$": "States.Format('{}', $.x)"}, {"x": 1}, {})


def test_a_failed_entry_has_error_and_cause_instead_of_output() -> None:
    child = Child(index=0, input={"k": 1}, name="c1", status="FAILED", error="E", cause="C")
    entry = result_entry(child, "arn:aws:states:us-east-1:1:stateMachine:m/Map")
    assert entry["ExecutionArn"] == "arn:aws:states:us-east-1:1:execution:m/Map:c1"
    assert (entry["Input"], entry["Error"], entry["Cause"]) == ('{"k":1}', "E", "C")
    assert "Output" not in entry and "OutputDetails" not in entry


def test_the_item_readers_s3_reads_are_retried_as_the_services_own_are() -> None:
    sfn_distributed_map.install()
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3,
    )

    client = resource_eval_s3.boto_client_for(region="us-east-1", service="s3")
    assert client.meta.config.retries == SERVICE_RETRIES


def test_the_services_own_s3_client_is_made_once_per_region() -> None:
    first = service_client(region="us-east-1", service="s3")
    assert service_client(region="us-east-1", service="s3") is first
    assert service_client(region="eu-west-1", service="s3") is not first


def test_a_definition_is_parsed_once_and_its_executions_run_apart(aws: Any) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = distributed_map(ECHO, "Echo", ItemBatcher={"MaxItemsPerBatch": 2})
    text = json.dumps(definition)
    assert AmazonStateLanguageParser.parse(text) is AmazonStateLanguageParser.parse(text)
    put_items(aws, "one.json", [1, 2, 3])
    put_items(aws, "two.json", [4, 5])
    outputs = []
    for items, prefix in (("one.json", "out-one"), ("two.json", "out-two")):
        ended = run(definition, {"items": items, "prefix": prefix})
        assert ended["status"] == "SUCCEEDED"
        manifest = json.loads(ended["output"])["written"]["ResultWriterDetails"]["Key"]
        entries = read_json(aws, manifest.replace("manifest.json", "SUCCEEDED_0.json"))
        outputs.append([json.loads(e["Output"]) for e in entries])
    assert outputs == [[{"Items": [1, 2]}, {"Items": [3]}], [{"Items": [4, 5]}]]


def test_a_stopped_executions_map_run_writes_no_results(aws: Any) -> None:
    put_items(aws, "in/slow.json", [1, 2])
    sfn = boto3.client("stepfunctions", region_name=REGION)
    slow = {"Nap": {"Type": "Wait", "Seconds": 1, "End": True}}
    machine = sfn.create_state_machine(
        name=f"m{time.monotonic_ns()}",
        definition=json.dumps(distributed_map(slow, "Nap")),
        roleArn=ROLE,
    )["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"items": "in/slow.json", "prefix": "stopped"})
    )["executionArn"]
    map_run = wait_for(
        lambda: next(iter(sfn.list_map_runs(executionArn=execution)["mapRuns"]), None),
        10,
        "the Map Run to start",
        every_s=0.01,
    )["mapRunArn"]
    sfn.stop_execution(executionArn=execution, cause="cancelled")

    def counted() -> dict[str, int] | None:
        counts = sfn.describe_map_run(mapRunArn=map_run)["executionCounts"]
        return counts if counts["succeeded"] + counts["failed"] == 2 else None

    # The Map Run counts its children once it has decided what to write.
    wait_for(counted, 30, "the Map Run to count its children", every_s=0.02)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert aws.list_objects_v2(Bucket=BUCKET, Prefix="stopped")["KeyCount"] == 0
