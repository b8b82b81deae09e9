"""sluice.local.patches.sfn_paths: moto's Step Functions parses each JSONPath text once."""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path
from sluice.local.patches import sfn_paths


def test_a_path_text_is_parsed_once() -> None:
    sfn_paths.install()
    assert json_path.parse("$.plan.value.parts") is json_path.parse("$.plan.value.parts")
    assert result_path.parse("$.plan") is result_path.parse("$.plan")


def test_a_kept_path_reads_each_input_it_is_given() -> None:
    sfn_paths.install()
    assert json_path.extract_json("$.plan.value", {"plan": {"value": [1, 2]}}) == [1, 2]
    assert json_path.extract_json("$.plan.value", {"plan": {"value": "other"}}) == "other"


def test_a_kept_result_path_writes_into_each_input_without_changing_it() -> None:
    sfn_paths.install()
    first = result_path.parse("$.plan").update_or_create({"task": 1}, {"n": 1})
    second = result_path.parse("$.plan").update_or_create({"task": 2}, {"n": 2})
    assert (first, second) == ({"task": 1, "plan": {"n": 1}}, {"task": 2, "plan": {"n": 2}})


def test_installing_twice_keeps_one_cache() -> None:
    sfn_paths.install()
    kept = json_path.parse
    sfn_paths.install()
    assert json_path.parse is kept
    assert sfn_paths.installed()
