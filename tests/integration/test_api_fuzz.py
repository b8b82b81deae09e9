"""Schemathesis against the local system, through its gateway over HTTP, signed in as the
demo user: no request it makes may get a server error, and every answer must be what the
OpenAPI document says (status, content type, schema, headers).

Each route is found in the OpenAPI document the API serves, so a route added later is
fuzzed from its first day. Bounded to fit the suite: a fixed seed, few examples per
operation, a time budget. `make fuzz` runs it longer, with the stateful phase (links
between operations), through the same function (SLUICE_FUZZ_* below).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import requests
from sluice.local.system import DEMO_PASSWORD, DEMO_USER

SEED = 20_170_017
# What fails the run: a server error, an answer the document does not describe (status,
# content type, body, headers), a 405 without Allow for a method the path lacks, a body
# the schema forbids accepted. Not positive_data_acceptance: a valid body can still be
# refused for a state the schema cannot know (an unknown id is 404, a dataset not ready 409).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
)


SECONDS = 120
# The run's time budget: its phases run in turn and the fuzzing phase stops where it is
# when the budget is spent. Alone on a quiet machine the three phases take ~60 s; in
# `make test`, beside the other worker, the coverage phase took 19.5 s (12 alone)
# and its fuzzing phase reached 30 of 73 operations within 60 s, 30 s of it one stalled
# request.


REQUEST_TIMEOUT_S = 90
# This test judges answers, not their speed: a request the gateway still answers after
# 20 s is reported with every thread's stack (a warning when the run passes, in the
# failure when it does not). A CI run once had one fuzzed request go unanswered for
# schemathesis's 30 s, beside the suite's other worker; alone it answers in milliseconds.


def _setting(name: str, default: str) -> str:
    return os.environ.get(f"SLUICE_FUZZ_{name}", default)


def schemathesis(api_url: str, token: str, report_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``st run`` against ``api_url``'s OpenAPI document as the holder of ``token``."""
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    command = [
        st,
        "run",
        f"{api_url}/openapi.json",
        "--url",
        api_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--seed",
        _setting("SEED", str(SEED)),
        "--max-examples",
        _setting("EXAMPLES", "10"),
        "--max-time",
        _setting("SECONDS", str(SECONDS)),
        "--phases",
        _setting("PHASES", "examples,coverage,fuzzing"),
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT_S),
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    # In report_dir: st keeps its replay store (.schemathesis/) in the working directory.
    return subprocess.run(
        command,
        cwd=report_dir,
        capture_output=True,
        text=True,
        timeout=int(_setting("SECONDS", str(SECONDS))) * 2 + 300,
        check=False,
    )


def test_no_request_gets_a_server_error_or_an_undocumented_answer(
    local: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A request the gateway still answers after SLOW_REQUEST_S is logged with the stacks of
    # every thread (sluice.local.slow_requests): the report then says what it waited on.
    caplog.set_level(logging.WARNING, logger="sluice.local.gateway")
    tokens = requests.post(
        f"{local.api_url}/auth/token",
        json={"username": DEMO_USER, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert tokens.status_code == 200, tokens.text
    result = schemathesis(local.api_url, tokens.json()["id_token"], tmp_path)
    slow = [r.getMessage() for r in caplog.records if "in flight for" in r.getMessage()]
    for report in slow:
        warnings.warn(f"a fuzzed request was slow: {report}", stacklevel=1)
    assert result.returncode == 0, "\n".join(
        [result.stdout[-20_000:], result.stderr[-5_000:], *slow]
    )
