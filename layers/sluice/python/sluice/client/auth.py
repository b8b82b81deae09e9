"""Tokens: signing in, renewing, and keeping them in the user's config folder.

The API's routes take the id token (API Gateway's Cognito authorizer refuses the access
token). Tokens last an hour; the refresh token renews them without the password, so a
stored sign-in keeps working for the refresh token's life (30 days by default).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sluice.client.settings import config_dir

# Renew a little before the hour is up, so that a request sent just before the expiry
# does not reach the authorizer just after it.
EXPIRY_MARGIN_S = 60


@dataclass
class Tokens:
    """What ``POST /auth/token`` answers, with the time the id token stops working."""

    id_token: str
    access_token: str
    refresh_token: str
    expires_at: float

    @classmethod
    def from_answer(cls, answer: dict[str, Any], refresh_token: str | None = None) -> Tokens:
        """From ``/auth/token`` or ``/auth/refresh``'s answer (which may leave out the
        refresh token: the one given is kept)."""
        return cls(
            id_token=answer["id_token"],
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token") or refresh_token or "",
            expires_at=time.time() + float(answer.get("expires_in", 3600)),
        )

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at - EXPIRY_MARGIN_S


class TokenStore:
    """The tokens of each API the user signed in to, in ``tokens.json`` in the config
    folder, readable by the user alone (0600: they are a password for an hour, and the
    refresh token for a month)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "tokens.json"

    def _all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self, api_url: str) -> Tokens | None:
        """The tokens kept for ``api_url``, or None."""
        entry = self._all().get(api_url.rstrip("/"))
        try:
            return Tokens(**entry) if isinstance(entry, dict) else None
        except TypeError:  # a file from another version
            return None

    def save(self, api_url: str, tokens: Tokens) -> None:
        """Keep ``tokens`` for ``api_url``."""
        data = self._all()
        data[api_url.rstrip("/")] = asdict(tokens)
        self._write(data)

    def forget(self, api_url: str) -> bool:
        """Drop ``api_url``'s tokens; whether there were any."""
        data = self._all()
        if data.pop(api_url.rstrip("/"), None) is None:
            return False
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self.path.with_suffix(".tmp")
        # Created 0600 from the start (not chmod-ed after), so that it is never readable by
        # others even for a moment, then renamed over the old file.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
        os.chmod(partial, 0o600)  # a leftover .tmp keeps its old mode through O_CREAT
        partial.replace(self.path)
