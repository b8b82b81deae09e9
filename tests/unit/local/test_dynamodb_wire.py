"""sluice.local.patches.dynamodb_wire: moto writes DynamoDB items onto the wire as they are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sluice.local.patches import dynamodb_wire

from tests.support import own_dynamodb_table

TABLE = "wire-test"

EVERY_KIND = {
    "pk": {"S": "d1"},
    "text": {"S": 'Order 1, "quoted"\nand two lines'},
    "number": {"N": "12.5"},
    "blob": {"B": b"\x00\xffbytes"},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "texts": {"SS": ["a"]},
    "numbers": {"NS": ["1"]},
    "blobs": {"BS": [b"\x01"]},
    "columns": {
        "L": [
            {"M": {"name": {"S": "id"}, "failures": {"M": {"int8": {"N": "3"}}}}},
            {"L": [{"B": b"nested"}, {"NULL": True}, {"M": {}}, {"L": []}]},
        ]
    },
}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    dynamodb_wire.install()
    with own_dynamodb_table(TABLE) as client:
        client.put_item(TableName=TABLE, Item=EVERY_KIND)
        yield client


def test_an_item_of_every_attribute_kind_reads_back_exactly(client: Any) -> None:
    assert client.get_item(TableName=TABLE, Key={"pk": {"S": "d1"}})["Item"] == EVERY_KIND


def test_an_update_answers_the_whole_new_item(client: Any) -> None:
    answer = client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "d1"}},
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "number"},
        ExpressionAttributeValues={":n": {"N": "13"}},
        ReturnValues="ALL_NEW",
    )
    assert answer["Attributes"] == {**EVERY_KIND, "number": {"N": "13"}}


def test_a_query_answers_items_and_its_other_fields(client: Any) -> None:
    page = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "d1"}},
        ProjectionExpression="pk, #b",
        ExpressionAttributeNames={"#b": "blob"},
    )
    assert (page["Items"], page["Count"]) == ([{"pk": {"S": "d1"}, "blob": EVERY_KIND["blob"]}], 1)


def test_bytes_are_written_in_base64_at_any_depth() -> None:
    value = {"M": {"b": {"B": b"\xff"}, "l": {"L": [{"BS": [b"\x00"]}, {"N": "1"}]}}}
    assert dynamodb_wire.wire_value(value) == {
        "M": {"b": {"B": "/w=="}, "l": {"L": [{"BS": ["AA=="]}, {"N": "1"}]}}
    }


def test_installing_twice_patches_once() -> None:
    dynamodb_wire.install()
    patched = vars(dynamodb_wire.BaseJSONSerializer)["_serialize_type_structure"]
    dynamodb_wire.install()
    assert vars(dynamodb_wire.BaseJSONSerializer)["_serialize_type_structure"] is patched
    assert dynamodb_wire.installed()
