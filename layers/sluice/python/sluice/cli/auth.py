"""``sluice login`` and ``sluice logout``: tokens kept in the user's config folder."""

from __future__ import annotations

import click

from sluice.cli.common import Output, client_options
from sluice.client import Client, TokenStore
from sluice.client.settings import api_url as resolve_api_url
from sluice.client.settings import write_config


@click.command()
@click.option("--username", "-u", envvar="SLUICE_USERNAME", prompt=True, help="Or SLUICE_USERNAME.")
@click.option(
    "--password",
    "-p",
    envvar="SLUICE_PASSWORD",
    prompt=True,
    hide_input=True,
    help="Or SLUICE_PASSWORD; asked for when not given.",
)
@client_options
def login(username: str, password: str, out: Output, api_url: str | None) -> None:
    """Sign in and keep the tokens (0600, in the config folder) for the other commands.

    The id token lasts an hour; the commands renew it with the refresh token when it has
    expired, so a sign-in lasts as long as the refresh token (30 days by default). An
    --api-url given here becomes the default of the other commands."""
    url = resolve_api_url(api_url)
    client = Client(url)
    tokens = client.http.sign_in(username, password)
    store = TokenStore()
    store.save(url, tokens)
    if api_url:
        write_config(api_url=url)
    if out.json:
        out.data({"api_url": url, "username": username, "tokens": str(store.path)})
    else:
        out.err.print(f"signed in to {url} as {username} (tokens in {store.path})", highlight=False)


@click.command()
@client_options
def logout(out: Output, api_url: str | None) -> None:
    """Forget the tokens kept for the API."""
    url = resolve_api_url(api_url)
    forgotten = TokenStore().forget(url)
    if out.json:
        out.data({"api_url": url, "signed_out": forgotten})
    else:
        out.err.print(f"signed out of {url}" if forgotten else f"not signed in to {url}")
