"""Owner-keyed records in the one DynamoDB table.

Every item's partition key is its owner, so a lookup with another owner's id
simply finds nothing: isolation comes from the key, not from a check.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import DYNAMODB_CONTEXT
from botocore.exceptions import ClientError

from sluice import aws
from sluice.errors import BadRequest, PayloadTooLarge, Unprocessable

ITEM_LIMIT_BYTES = 400 * 1024
"""DynamoDB's largest item."""


@contextlib.contextmanager
def _item_size_checked() -> Iterator[None]:
    """DynamoDB refuses an item past 400 KB with a ValidationException: the request
    asked for more than a record holds, so it is the caller's 413, not a server error."""
    try:
        yield
    except ClientError as exc:
        error = exc.response["Error"]
        if error["Code"] == "ValidationException" and "maximum allowed size" in error.get(
            "Message", ""
        ):
            raise PayloadTooLarge(
                f"the record would pass DynamoDB's {ITEM_LIMIT_BYTES // 1024} KB item limit",
                {"limit_bytes": ITEM_LIMIT_BYTES},
            ) from exc
        raise


def owner_key(owner: str) -> str:
    return f"OWNER#{owner}"


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready data as a DynamoDB item (floats become Decimals); a number no item can
    hold is a 422 naming where it is (:func:`check_numbers`)."""
    converted: dict[str, Any] = json.loads(json.dumps(data), parse_float=Decimal)
    check_numbers(converted)
    return converted


def check_numbers(value: Any, path: str = "") -> None:
    """Raise Unprocessable, naming the number's place (``inputs.fraction``), for a number
    DynamoDB cannot hold: more than 38 digits, or a magnitude past 1e-130..1e126. boto3
    would refuse it as the record is written, a server error after the request was
    accepted; a bound in the request's model says the same sooner."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_numbers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_numbers(item, f"{path}[{index}]")
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            number = DYNAMODB_CONTEXT.create_decimal(value)
            # An exact subnormal (9.9e-131) passes the context; DynamoDB refuses it.
            if number and not MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
                raise ValueError(value)
        except (DecimalException, ValueError) as exc:
            raise Unprocessable(
                f"{path or 'a value'}: {value} is no number a record can hold (38 digits, "
                "magnitudes from 1e-130 to 1e126)",
                {"field": path},
            ) from exc


MIN_EXPONENT, MAX_EXPONENT = -130, 125
"""The decimal exponents of a DynamoDB number's first digit: 1e-130 up to 9.99...e125."""


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain data (Decimals become ints or floats)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in item.items() if k not in ("pk", "sk")}


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_token(token: str | None, owner: str) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise BadRequest(
            "next_token is not a token this API issued", {"field": "next_token"}
        ) from exc
    if not isinstance(key, dict) or key.get("pk") != owner_key(owner):
        raise BadRequest("next_token is not a token this API issued", {"field": "next_token"})
    return key


Path = tuple[str, ...]
"""An attribute inside a map attribute, by its names: ``("upload_tickets", name)``."""


@dataclass(frozen=True)
class PathChanges:
    """Changes to entries of map attributes, each written on its own (so that two writers
    of different entries never overwrite each other), with conditions on entries."""

    set: dict[Path, Any] = field(default_factory=dict)
    remove: tuple[Path, ...] = ()
    present: tuple[Path, ...] = ()
    """Entries that must exist for the write to apply."""
    absent: tuple[Path, ...] = ()
    """Entries that must not exist for the write to apply."""


class RecordTable:
    """The table, addressed as (owner, kind#id) pairs."""

    def __init__(self, table_name: str) -> None:
        self._table = aws.resource_table(table_name)

    def put(self, owner: str, sk: str, data: dict[str, Any], *, must_be_new: bool = False) -> None:
        extra: dict[str, Any] = {}
        if must_be_new:
            extra["ConditionExpression"] = "attribute_not_exists(pk)"
        with _item_size_checked():
            self._table.put_item(Item={"pk": owner_key(owner), "sk": sk, **to_item(data)}, **extra)

    def version(self, owner: str, sk: str) -> int:
        """The owner's counter at ``sk`` (0 before its first write), for
        ``put_if_unchanged``."""
        item = self.get(owner, sk)
        return int(item["version"]) if item else 0

    def put_if_unchanged(
        self, owner: str, sk: str, data: dict[str, Any], *, guard: str, version: int
    ) -> bool:
        """Put a new item and move the owner's counter at ``guard`` on from ``version``, in
        one transaction. False when another writer moved it first: a decision the caller
        made from what it read since ``version`` may be stale, so it reads again.

        A check-then-create (a user's limit counted over their records) is then atomic
        without a count to keep in step: each create moves the counter, so two creates
        that read the same records cannot both land."""
        key = {"pk": owner_key(owner)}
        # The Table resource's client takes and gives plain values, as the resource does.
        client = self._table.meta.client
        try:
            with _item_size_checked():
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table.name,
                                "Item": {**key, "sk": sk, **to_item(data)},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._table.name,
                                "Key": {**key, "sk": guard},
                                # "#v": DynamoDB reserves many words; a name is safe.
                                "UpdateExpression": "SET #v = :next",
                                "ConditionExpression": (
                                    "attribute_not_exists(#v) OR #v = :seen"
                                    if version == 0
                                    else "#v = :seen"
                                ),
                                "ExpressionAttributeNames": {"#v": "version"},
                                "ExpressionAttributeValues": {
                                    ":seen": version,
                                    ":next": version + 1,
                                },
                            }
                        },
                    ]
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def get(self, owner: str, sk: str) -> dict[str, Any] | None:
        found = self._table.get_item(Key={"pk": owner_key(owner), "sk": sk}, ConsistentRead=True)
        item = found.get("Item")
        return from_item(item) if item else None

    def query(
        self,
        owner: str,
        prefix: str,
        limit: int,
        next_token: str | None,
        condition: Any = None,
        *,
        consistent: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the owner's items whose sort key starts with ``prefix``; with a filter
        ``condition`` a page may hold fewer than ``limit`` (DynamoDB filters after reading).
        ``consistent``: every write acknowledged before the read is in the page."""
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(owner_key(owner))
            & Key("sk").begins_with(prefix),
            "Limit": limit,
            "ConsistentRead": consistent,
        }
        start = decode_token(next_token, owner)
        if start:
            args["ExclusiveStartKey"] = start
        if condition is not None:
            args["FilterExpression"] = condition
        page = self._table.query(**args)
        return [from_item(i) for i in page["Items"]], encode_token(page.get("LastEvaluatedKey"))

    def scan(self, prefix: str, condition: Any = None) -> Iterator[dict[str, Any]]:
        """Every owner's items whose sort key starts with ``prefix`` (and that match
        ``condition``): a read of the whole table, for maintenance
        (``query_tables.backfill``), never for a user's request."""
        args: dict[str, Any] = {"FilterExpression": Key("sk").begins_with(prefix)}
        if condition is not None:
            args["FilterExpression"] = args["FilterExpression"] & condition
        while True:
            page = self._table.scan(**args)
            for item in page["Items"]:
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def update(
        self,
        owner: str,
        sk: str,
        changes: dict[str, Any],
        *,
        remove: tuple[str, ...] = (),
        add: dict[str, int] | None = None,
        only_if: tuple[str, Any] | None = None,
        unless: tuple[str, Any] | None = None,
        paths: PathChanges | None = None,
    ) -> dict[str, Any] | None:
        """Set, remove and add attributes of an existing item, and entries of its maps.

        Returns the new item, or None if it does not exist, if ``only_if`` (attribute,
        value, or a frozenset of values it may have) does not hold, if ``unless``
        (attribute, value) does, or if a condition of ``paths`` fails.
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, adds = [], []
        for i, (name, value) in enumerate(changes.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = to_item({"v": value})["v"]
            sets.append(f"#s{i} = :s{i}")
        for i, (name, amount) in enumerate((add or {}).items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = amount
            adds.append(f"#a{i} :a{i}")
        removes = []
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
            removes.append(f"#r{i}")
        paths = paths or PathChanges()

        def placed(tag: str, path: Path) -> str:
            for j, name in enumerate(path):
                names[f"#{tag}_{j}"] = name
            return ".".join(f"#{tag}_{j}" for j in range(len(path)))

        for i, (path, value) in enumerate(paths.set.items()):
            values[f":ps{i}"] = to_item({"v": value})["v"]
            sets.append(f"{placed(f'ps{i}', path)} = :ps{i}")
        removes.extend(placed(f"pr{i}", path) for i, path in enumerate(paths.remove))
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if adds:
            expression += " ADD " + ", ".join(adds)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        condition_expression = "attribute_exists(pk)"
        for i, path in enumerate(paths.present):
            condition_expression += f" AND attribute_exists({placed(f'pp{i}', path)})"
        for i, path in enumerate(paths.absent):
            condition_expression += f" AND attribute_not_exists({placed(f'pa{i}', path)})"
        if only_if:
            name, wanted = only_if
            names["#c"] = name
            if isinstance(wanted, frozenset):
                values.update({f":c{i}": value for i, value in enumerate(sorted(wanted))})
                condition_expression += (
                    f" AND #c IN ({', '.join(f':c{i}' for i in range(len(wanted)))})"
                )
            else:
                values[":c"] = wanted
                condition_expression += " AND #c = :c"
        if unless:
            names["#u"], values[":u"] = unless
            condition_expression += " AND (attribute_not_exists(#u) OR #u <> :u)"
        try:
            with _item_size_checked():
                result = self._table.update_item(
                    Key={"pk": owner_key(owner), "sk": sk},
                    UpdateExpression=expression.strip(),
                    ExpressionAttributeNames=names,
                    ConditionExpression=condition_expression,
                    ReturnValues="ALL_NEW",
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return from_item(result["Attributes"])

    def delete(self, owner: str, sk: str) -> bool:
        try:
            self._table.delete_item(
                Key={"pk": owner_key(owner), "sk": sk},
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
