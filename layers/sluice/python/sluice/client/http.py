"""One signed-in conversation with the API: JSON in and out, errors raised as
:class:`ApiError`, the id token renewed with the refresh token when it expires."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import requests

from sluice.client.auth import Tokens
from sluice.client.errors import ApiError, ClientError, api_error

TIMEOUT_S = 60.0


class Http:
    """Requests to one API as one user. ``on_tokens`` is told of renewed tokens (the CLI
    saves them)."""

    def __init__(
        self,
        api_url: str,
        tokens: Tokens | None = None,
        on_tokens: Callable[[Tokens], None] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.on_tokens = on_tokens
        self.session = requests.Session()

    def sign_in(self, username: str, password: str) -> Tokens:
        """``POST /auth/token``; the tokens are kept for the requests that follow."""
        answer = self.request("POST", "/auth/token", {"username": username, "password": password})
        return self._keep(Tokens.from_answer(answer))

    def refresh(self) -> Tokens:
        """``POST /auth/refresh`` with the refresh token: fresh id and access tokens."""
        if self.tokens is None or not self.tokens.refresh_token:
            raise ClientError("not signed in: run `sluice login`")
        try:
            answer = self.request(
                "POST", "/auth/refresh", {"refresh_token": self.tokens.refresh_token}
            )
        except ApiError as error:
            if error.status in (400, 401):
                raise ClientError(
                    f"the sign-in has expired ({error.message}): run `sluice login`"
                ) from error
            raise
        return self._keep(Tokens.from_answer(answer, self.tokens.refresh_token))

    def _keep(self, tokens: Tokens) -> Tokens:
        self.tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    def _auth_headers(self, path: str) -> dict[str, str]:
        if path.startswith("/auth/") or self.tokens is None:
            return {}
        if self.tokens.expired:
            self.refresh()
        assert self.tokens is not None
        return {"Authorization": f"Bearer {self.tokens.id_token}"}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON) of a request; an error status raises :class:`ApiError`.
        Used directly where a 2xx other than 200 means something (202: still preparing)."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            answer = self.session.request(
                method,
                f"{self.api_url}{path}",
                json=body,
                params=clean,
                headers=self._auth_headers(path),
                timeout=TIMEOUT_S,
            )
        except requests.ConnectionError as error:
            raise ClientError(f"cannot reach the API at {self.api_url} ({error})") from error
        except requests.Timeout as error:
            raise ClientError(f"the API at {self.api_url} did not answer in time") from error
        try:
            parsed = answer.json() if answer.content else None
        except ValueError:
            parsed = answer.text
        if answer.status_code >= 400:
            raise api_error(answer.status_code, parsed, answer.text)
        return answer.status_code, parsed

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """The parsed JSON of a request; an error status raises :class:`ApiError`."""
        return self.call(method, path, body, params)[1]

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated ``{items, next_token}`` route, a page at a time."""
        token = None
        while True:
            page = self.request("GET", path, params={**params, "next_token": token})
            yield from page["items"]
            token = page.get("next_token")
            if not token:
                return
