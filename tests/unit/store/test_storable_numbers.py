"""A record's numbers are numbers DynamoDB holds (38 digits, 1e-130..9.99e125): one past
that is a 422 naming where it is, before boto3 or DynamoDB refuses the write."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sluice.errors import Unprocessable
from sluice.store.records import to_item


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"params": {"rl_min_lr": 1.2398079795525579e308}}, "params.rl_min_lr"),
        ({"inputs": {"fraction": 1e-300}}, "inputs.fraction"),
        ({"n": 10**40}, "n"),
        ({"rows": [{"v": 1.5}, {"v": 9.9e-131}]}, "rows[1].v"),
        ({"v": 1e126}, "v"),
    ],
)
def test_a_number_no_item_holds_is_422_naming_its_place(data: dict, field: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        to_item(data)
    assert caught.value.details == {"field": field}
    assert str(caught.value).startswith(f"{field}: ")


def test_numbers_at_dynamodbs_bounds_are_kept_as_decimals() -> None:
    item = to_item({"small": 1e-130, "large": 9.99e125, "zero": 0.0, "flag": True, "n": 10**37})
    assert item == {
        "small": Decimal("1E-130"),
        "large": Decimal("9.99E+125"),
        "zero": Decimal("0.0"),
        "flag": True,
        "n": 10**37,
    }
