"""Histogram's Plan reads its parts' footers at once, on threads kept for the process
(a warm Lambda's next Plan starts none)."""

from __future__ import annotations

import threading

import pytest
from sluice.operations import storage


def test_footers_come_in_the_parts_order_on_the_same_threads_call_after_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every read waits for all of them to have started: each call needs all its threads.
    together = threading.Barrier(storage.FOOTER_THREADS, timeout=10)

    def footer(key: str, size: int | None) -> tuple[str, int | None, threading.Thread]:
        together.wait()
        return key, size, threading.current_thread()

    monkeypatch.setattr(storage, "read_footer", footer)
    parts = [(f"p{i}", i) for i in range(storage.FOOTER_THREADS)]

    first = storage.part_footers(parts)  # type: ignore[arg-type]
    second = storage.part_footers(parts)  # type: ignore[arg-type]

    assert [(key, size) for key, size, _ in first] == parts
    # The thread objects themselves (held here), not their idents, which the OS reuses.
    assert {thread for *_, thread in second} == {thread for *_, thread in first}
