"""Integers as files write them, ingested on the embedded AWS: ids past int64 stay text
with every digit, int64s past 2**53 stay int64, a float64 preferred for the ids keeps
each one it would round as an exception with its text, never a rounded value; and zip
codes written with leading zeros are integers whose notes say what a number drops."""

from __future__ import annotations

import random
from typing import Any

from tests.integration.uploader import Uploader
from tests.support import call_api

ROWS = 200


def numbers_csv() -> tuple[bytes, list[tuple[str, int, str]]]:
    """Rows of an id past int64, an int64 past 2**53 and a decimal, over several chunks."""
    rng = random.Random(24)
    rows = [
        (
            str(rng.randrange(10**23, 10**24)),
            rng.randrange(2**53, 2**63),
            f"{rng.randrange(10**6)}.{rng.randrange(100):02d}",
        )
        for _ in range(ROWS)
    ]
    lines = ["account,counter,amount"] + [f"{a},{c},{d}" for a, c, d in rows]
    return ("\n".join(lines) + "\n").encode(), rows


def types_of(dataset: dict[str, Any]) -> dict[str, str]:
    return {column["name"]: column["effective_type"] for column in dataset["columns"]}


def test_ids_past_int64_are_text_and_int64s_past_2_to_the_53_stay_exact(
    uploader: Uploader,
) -> None:
    body, expected = numbers_csv()
    dataset = uploader.ingest(body)
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    assert types_of(dataset) == {"account": "string", "counter": "int64", "amount": "float64"}
    rows = uploader.rows(dataset["id"], ("account", "counter"))
    assert rows == [{"account": a, "counter": c} for a, c, _ in expected]


def test_float64_preferred_for_ids_keeps_each_it_would_round_as_an_exception(
    uploader: Uploader,
) -> None:
    body, expected = numbers_csv()
    dataset = uploader.ingest(body.replace(b"account,", b"acct,"))
    status, _ = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"acct": "float64"}, "tolerance": 1.0},
        owner=uploader.owner,
    )
    assert status == 202
    settled = uploader.settled(dataset["id"])
    assert types_of(settled)["acct"] == "float64"
    status, page = call_api(
        "GET",
        f"/datasets/{dataset['id']}/rows",
        owner=uploader.owner,
        query={"start_row": "0", "num_rows": str(ROWS)},
    )
    assert status == 200, page
    # A 24-digit integer is never a float64: every one fails it, its text kept aside.
    assert [row["acct"] for row in page["rows"]] == [None] * ROWS
    assert [row["_exceptions"]["acct"] for row in page["rows"]] == [a for a, _, _ in expected]


def test_zip_codes_with_leading_zeros_say_what_an_integer_drops(uploader: Uploader) -> None:
    codes = [f"{n:05d}" for n in range(1000, 99000, 500)]
    body = ("zip\n" + "".join(f"{code}\n" for code in codes)).encode()
    dataset = uploader.ingest(body)
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    (column,) = dataset["columns"]
    zeros = sum(code.startswith("0") for code in codes)
    assert (column["effective_type"], column["notes"]) == (
        "int32",
        [
            f"{zeros} values are written with leading zeros (e.g. '01000'), which int32 "
            "drops: prefer string to keep them"
        ],
    )
