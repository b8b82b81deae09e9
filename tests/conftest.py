"""Fixtures shared by the integration tests: one embedded AWS for the session."""

from __future__ import annotations

from collections.abc import Iterator
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
