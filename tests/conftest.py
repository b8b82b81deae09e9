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
    ``browser``."""
    tests = Path(__file__).parent
    for item in items:
        level = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        if level in _LEVEL_MARKERS:
            item.add_marker(_LEVEL_MARKERS[level])
