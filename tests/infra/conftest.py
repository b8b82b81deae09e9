"""Every test under tests/infra/ is marked ``infra`` (they synthesise the CDK app), so
`-m infra` and `-m "not infra"` select the level whatever its modules declare."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the ``infra`` marker to the items collected from this folder."""
    # Hooks in a conftest see the whole session's items, not only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.infra)
