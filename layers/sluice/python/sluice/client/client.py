"""The client: a signed-in :class:`Http` and the API's parts on it."""

from __future__ import annotations

from typing import Any

from sluice.client.auth import Tokens, TokenStore
from sluice.client.datasets import Datasets
from sluice.client.errors import ClientError
from sluice.client.http import Http
from sluice.client.networks import Graphs, Imports, Training
from sluice.client.sessions import Sessions
from sluice.client.settings import api_url as resolve_api_url
from sluice.client.tasks import Tasks
from sluice.client.uploads import Uploads


class Client:
    """The sluice API over HTTP. ``datasets``, ``uploads``, ``tasks``, ``sessions``,
    ``graphs``, ``imports`` and ``training`` hold its routes; ``http.request`` reaches any
    other as JSON."""

    def __init__(self, api_url: str | None = None, tokens: Tokens | None = None, **http: Any):
        self.http = Http(resolve_api_url(api_url), tokens, **http)
        self.datasets = Datasets(self.http)
        self.uploads = Uploads(self.http, self.datasets)
        self.tasks = Tasks(self.http)
        self.sessions = Sessions(self.http)
        self.graphs = Graphs(self.http)
        self.imports = Imports(self.http)
        self.training = Training(self.http)

    @property
    def api_url(self) -> str:
        return self.http.api_url

    @classmethod
    def sign_in(cls, api_url: str | None, username: str, password: str) -> Client:
        """A client signed in with a username and password (tokens kept in memory only)."""
        client = cls(api_url)
        client.http.sign_in(username, password)
        return client

    @classmethod
    def from_store(cls, api_url: str | None = None, store: TokenStore | None = None) -> Client:
        """A client with the tokens ``sluice login`` stored for the API; renewed tokens are
        stored again. Raises :class:`ClientError` when there are none."""
        store = store or TokenStore()
        url = resolve_api_url(api_url)
        tokens = store.load(url)
        if tokens is None:
            raise ClientError(f"not signed in to {url}: run `sluice login`")
        return cls(url, tokens, on_tokens=lambda renewed: store.save(url, renewed))
