"""The ``sluice`` fixture: the command run in this process (click's runner), signed in to
the local system, talking HTTP to its gateway as from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sluice.cli.main import app
from sluice.local.system import DEMO_PASSWORD, DEMO_USER


@pytest.fixture
def sluice(local: Any, tmp_path: Path) -> Callable[..., Result]:
    """``sluice ARGS`` against the local system, with a config folder of its own."""
    env = {"SLUICE_API_URL": local.api_url, "SLUICE_CONFIG_DIR": str(tmp_path / "config")}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    login = run("login", "--username", DEMO_USER, "--password", DEMO_PASSWORD)
    assert login.exit_code == 0, login.output
    return run
