"""The operation state machine's Distributed Maps in the synthesised stack: their item
lists and results in the catalogue's data bucket, under an operation's folder, and
exactly the rights that takes."""

from __future__ import annotations

import json

from sluice.catalog import CATALOG, DATA

from infra.constructs.nag import logical_id
from infra.constructs.workflows import distributed_maps
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.test_distributed_maps import (
    machine_map_grants,
    objects_under,
    s3_grants,
)

OPERATION = "run_operation"


def test_the_operations_survey_parts_and_buckets_are_distributed_maps() -> None:
    spec = next(s for s in CATALOG.state_machines if s.name == OPERATION)
    definition = spec.definition_path.read_text()
    assert distributed_maps(definition) == ["Survey", "Parts", "Buckets"]
    states = json.loads(definition)["States"]
    for name, items in (("Survey", "parts"), ("Parts", "parts"), ("Buckets", "buckets")):
        state = states[name]
        assert state["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
        assert state["ItemReader"]["Parameters"] == {
            "Bucket.$": f"$.plan.value.{items}.bucket",
            "Key.$": f"$.plan.value.{items}.key",
        }
        assert state["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
        assert state["ResultWriter"]["Parameters"]["Prefix.$"] == "$.plan.value.results"
        assert state["ToleratedFailurePercentage"] == 0
        assert state["MaxConcurrencyPath"] == "$.plan.value.concurrency"
    assert (spec.map_bucket, spec.map_items, spec.map_results) == (
        DATA,
        "operations/*/items/*",
        "operations/*/maps/*",
    )


def test_the_operation_machine_may_read_items_and_write_results_only_in_its_work_folders(
    stack: SluiceStack, resources: Resources
) -> None:
    granted, expected = machine_map_grants(
        stack, resources, OPERATION, "operations/*/items/*", "operations/*/maps/*"
    )
    assert granted == expected


def test_the_operations_plan_writes_only_under_operations(
    stack: SluiceStack, resources: Resources
) -> None:
    # It reads the datasets' manifests anywhere in the bucket, and writes the item lists.
    function = resources[logical_id(stack.functions["operation_plan"])]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    data_id = logical_id(stack.storage.buckets[DATA])
    written = {
        target
        for action, target in s3_grants(resources, role_id)
        if action.startswith(("s3:Put", "s3:Delete")) and "/" in target  # objects
    }
    assert written == {json.dumps(objects_under(data_id, "operations/*"), sort_keys=True)}
