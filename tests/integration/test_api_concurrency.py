"""The api function answers many requests at once, each as its own caller, as many
Lambda sandboxes would: locally one process runs them all, on the gateway's threads."""

from __future__ import annotations

import json
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support import api_event, call_api


def test_concurrent_requests_of_different_users_each_see_their_own(local: Any) -> None:
    owners = [str(uuid.uuid4()) for _ in range(4)]
    datasets = {}
    for owner in owners:
        status, created = call_api("POST", "/datasets", {"name": "mine"}, owner=owner)
        assert status == 201
        datasets[owner] = created["dataset"]["id"]

    def get(n: int) -> tuple[str, int, Any]:
        owner = owners[n % len(owners)]
        event = api_event("GET", f"/datasets/{datasets[owner]}", owner=owner)
        # Through moto's Lambda API, as the gateway invokes it: the handler runs on
        # moto's request threads, several at once.
        answer = local._invoke_api(event)
        return owner, answer["statusCode"], json.loads(answer["body"])

    # Threads switch every few microseconds rather than every 5 ms: a request that shares
    # state with another (Powertools' resolver keeps the current event in a class
    # attribute) then reads the other's often, not once in thousands.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, range(200)))
    finally:
        sys.setswitchinterval(interval)
    wrong = [(owner, status, body) for owner, status, body in answers if status != 200]
    assert not wrong, f"{len(wrong)} of {len(answers)} answered as another caller: {wrong[:3]}"
    assert all(body["id"] == datasets[owner] for owner, _, body in answers)
