"""sluice.training.fit._batches: a split's batches cut from consecutive row groups (the
path of a dataset too large to hold in memory), every row once, in order unshuffled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sluice.training import data, fit
from sluice.training.models import TrainingParams


def _blocks(sizes: list[int]) -> list[data.Block]:
    blocks, start = [], 0
    for size in sizes:
        values = np.arange(start, start + size, dtype=np.float32)
        split = np.where(values % 5 == 0, data.VALIDATION, data.TRAIN).astype(np.int8)
        blocks.append(data.Block({"in": values.reshape(-1, 1)}, values, split))
        start += size
    return blocks


def test_batches_span_row_groups_and_keep_every_row_of_the_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pieces = _blocks([7, 3, 0, 12, 5])

    def blocks(*args: Any, **kwargs: Any) -> Iterator[data.Block]:
        yield from pieces

    monkeypatch.setattr(data, "blocks", blocks)
    plan = data.DataPlan([], {}, 0, data.Standardization({}, {}), None, None, False)
    params = TrainingParams(x_columns=["a"], y_column="y")
    batches = list(fit._batches("b", plan, {"in": ["a"]}, params, data.TRAIN, 4, False, 0))
    sizes = [len(y) for _, y in batches]
    assert sizes[:-1] == [4] * (len(sizes) - 1) and 0 < sizes[-1] <= 4
    rows = np.concatenate([x["in"][:, 0] for x, _ in batches])
    expected = [v for v in range(27) if v % 5 != 0]
    assert rows.tolist() == expected
    assert np.concatenate([y[:, 0] for _, y in batches]).tolist() == expected
