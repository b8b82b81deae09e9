"""The training steps' and the predict function's sample events (events/training/),
replayed against the local system."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import invoke, load_event


@pytest.mark.parametrize(
    ("function", "event", "expected"),
    [
        ("train_prepare", "training/prepare", {"go": False, "wait": False}),
        ("train_prepare", "training/prepare_prediction", {"go": False, "wait": False}),
        ("train_finish", "training/finish", {}),
        ("train_fail", "training/fail", {}),
    ],
)
def test_the_training_sample_events_replay(
    local: Any, function: str, event: str, expected: dict[str, Any]
) -> None:
    # The sample job does not exist: each step leaves it alone.
    answer = invoke(function, load_event(event))
    assert {key: answer[key] for key in expected} == expected


def test_the_predict_sample_event_answers_not_found(local: Any) -> None:
    answer = invoke("training_predict", load_event("training/predict"))
    assert answer["error"]["status"] == 404
