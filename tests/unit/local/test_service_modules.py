"""sluice.local.patches.service_modules: moto's server lists its service modules once."""

from __future__ import annotations

import pytest
from moto import backends
from sluice.local.patches import service_modules


def test_moto_lists_its_service_modules_once(monkeypatch: pytest.MonkeyPatch) -> None:
    service_modules.uninstall()
    listed = list(backends.list_of_moto_modules())
    service_modules.install()

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(backends.os, "listdir", no_listing)
    assert list(backends.list_of_moto_modules()) == listed
    assert "s3" in listed
