"""Where the client keeps its files and which API it talks to.

The API's address comes from, first to last: the caller (``--api-url``), the
``SLUICE_API_URL`` environment variable, ``config.json`` in the config folder (``sluice
login`` writes it), and ``http://127.0.0.1:3000`` (``make run``'s local system).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

DEFAULT_API_URL = "http://127.0.0.1:3000"


def config_dir() -> Path:
    """``SLUICE_CONFIG_DIR``, or the user's config folder (``~/.config/sluice`` on Linux)."""
    chosen = os.environ.get("SLUICE_CONFIG_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir("sluice"))


def _config_file() -> Path:
    return config_dir() / "config.json"


def read_config() -> dict[str, str]:
    """The saved settings (``api_url``), or none."""
    try:
        data = json.loads(_config_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_config(**values: str) -> None:
    """Save settings alongside the ones already saved."""
    data = {**read_config(), **values}
    path = _config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(data, indent=1) + "\n")


def api_url(given: str | None = None) -> str:
    """The API's address: ``given``, else the environment, else the config, else local."""
    url = given or os.environ.get("SLUICE_API_URL") or read_config().get("api_url")
    return (url or DEFAULT_API_URL).rstrip("/")
