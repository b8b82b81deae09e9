"""An inference start's new settings (sluice.ingest.commands.SettingsChange): what it
overwrites, and the encodings it takes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sluice.ingest.commands import SettingsChange


def test_fields_left_out_overwrite_nothing() -> None:
    assert SettingsChange.model_validate({"max_categories": 5}).updates() == {"max_categories": 5}


def test_a_declared_encoding_is_stored_by_its_codec_name() -> None:
    change = SettingsChange.model_validate({"encoding": "latin-1"})
    assert change.updates() == {"encoding": "iso8859-1"}


def test_a_null_encoding_asks_for_utf8_again() -> None:
    assert SettingsChange.model_validate({"encoding": None}).updates() == {"encoding": None}


def test_a_null_delimiter_asks_for_detection_again() -> None:
    assert SettingsChange.model_validate({"delimiter": None}).updates() == {"delimiter": None}


def test_an_unknown_encoding_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        SettingsChange.model_validate({"encoding": "klingon"})
    assert caught.value.errors()[0]["loc"] == ("encoding",)
