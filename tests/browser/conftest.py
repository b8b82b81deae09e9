"""The web console in a real headless Chromium (Debian's package, driven by Playwright),
against the in-process local system every integration test shares.

Chromium missing fails the tests (``make test`` installs it); it is never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support import wait_for

CHROMIUM = Path(os.environ.get("SLUICE_CHROMIUM", "/usr/bin/chromium"))
# Headless, and none of the background traffic Chromium starts by itself: in a closed
# network its connections are refused, and it has nothing to do with the console.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERNAME = "console-tester"
PASSWORD = "console-pass-1"
# Every expectation waits this long at most (an ingest or a task on the in-process system
# takes a few seconds on the 2-core development machine).
expect.set_options(timeout=30_000)


def launch(playwright: Any) -> Browser:
    """Debian's Chromium, as the browser tests and the screenshot script run it."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make chromium` installs it"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API holds an asyncio loop as running in
    # this thread until it stops, and the tests of other folders must not run inside it.
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def console(local: Any) -> str:
    """The console's address on the local system, with a user of its own for these tests
    (so that the folder tree holds only what they made)."""
    from sluice.local.provision import create_user

    create_user(local.deployment, USERNAME, PASSWORD)
    return f"{local.api_url}/"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert errors == [], f"the page raised: {errors}"


def sign_in(page: Page, console: str, password: str = PASSWORD) -> None:
    """Open the console and sign in through its form."""
    page.goto(console)
    page.get_by_label("User name").fill(USERNAME)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in(page: Page, console: str) -> Page:
    sign_in(page, console)
    expect(page.get_by_text(f"signed in as {USERNAME}")).to_be_visible()
    return page


def folder() -> str:
    """A folder of its own for one test's datasets."""
    return f"browser/{uuid.uuid4().hex[:8]}"


class Api:
    """The same API through requests, for what a test needs that is not its subject."""

    def __init__(self, base: str, username: str = USERNAME, password: str = PASSWORD) -> None:
        self.base = base.rstrip("/")
        answer = requests.post(
            f"{self.base}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        answer.raise_for_status()
        self.headers = {"Authorization": f"Bearer {answer.json()['id_token']}"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(
            method, f"{self.base}{path}", json=body, headers=self.headers, timeout=30
        )
        assert answer.ok, answer.text
        return answer.json() if answer.content else None

    def settled(self, dataset_id: str, timeout_s: float = 60) -> dict[str, Any]:
        """The dataset once its ingest has ended."""

        def probe() -> dict[str, Any] | None:
            dataset: dict[str, Any] = self.call("GET", f"/datasets/{dataset_id}")
            return dataset if dataset["status"] in ("ready", "failed") else None

        return wait_for(probe, timeout_s, f"dataset {dataset_id} to be ingested", every_s=0.2)

    def ready_dataset(self, name: str, path: str, csv: bytes) -> dict[str, Any]:
        """A dataset uploaded with its presigned POST and ingested."""
        body = {"name": name, "path": path, "allow_duplicate": True}
        created = self.call("POST", "/datasets", body)
        ticket = created["upload"]
        sent = requests.post(
            ticket["url"], data=ticket["fields"], files={"file": (f"{name}.csv", csv)}, timeout=30
        )
        assert sent.ok, sent.text
        dataset = self.settled(created["dataset"]["id"])
        assert dataset["status"] == "ready", dataset["error"]
        return dataset


@pytest.fixture(scope="session")
def api(console: str) -> Api:
    return Api(console)
