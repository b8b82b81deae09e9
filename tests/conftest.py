"""Fixtures shared by the integration tests: one embedded AWS for the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHUNK_BYTES = 1024
MAX_UPLOAD_BYTES = 200_000


@pytest.fixture(scope="session")
def local() -> Iterator[Any]:
    """The whole system in this process: moto server, catalogue resources, gateway."""
    from sluice.local.system import LocalOptions, LocalSystem

    system = LocalSystem(
        LocalOptions(port=0, chunk_bytes=CHUNK_BYTES, max_upload_bytes=MAX_UPLOAD_BYTES, demo=True)
    ).start()
    yield system
    system.stop()


# A level's marker comes from its folder, so that `-m e2e` or `-m "not infra"` selects
# the level whatever its modules declare.
_LEVEL_MARKERS = {
    "e2e": pytest.mark.e2e,
    "infra": pytest.mark.infra,
    "browser": pytest.mark.browser,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test under tests/e2e/ ``e2e``, tests/infra/ ``infra`` and tests/browser/
    ``browser``, and each test of a module that uses moto's ``mock_aws`` ``own_moto``."""
    tests = Path(__file__).parent
    for item in items:
        level = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        if level in _LEVEL_MARKERS:
            item.add_marker(_LEVEL_MARKERS[level])
        if _uses_mock_aws(item):
            item.add_marker(pytest.mark.own_moto)


def _uses_mock_aws(item: pytest.Item) -> bool:
    # mock_aws resets moto's in-process backends, which the session's local system serves
    # from: `make test` runs such modules on their own, after the parallel run
    # (under xdist they would empty a worker's local system under its other tests).
    module = getattr(item, "module", None)
    if module is None:
        return False
    from moto import mock_aws

    return any(value is mock_aws for value in vars(module).values())
