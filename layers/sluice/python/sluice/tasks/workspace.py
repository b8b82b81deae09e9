"""Where a task's files live in the data bucket."""

from __future__ import annotations


def task_prefix(owner: str, task_id: str) -> str:
    return f"tasks/{owner}/{task_id}/"


def partial_key(owner: str, task_id: str, part: int) -> str:
    """One part's buckets file (``sluice.tasks.partials``): every bucket's groups of it."""
    return f"{partials_prefix(owner, task_id)}p{part:06d}.buckets"


def partials_prefix(owner: str, task_id: str) -> str:
    return f"{task_prefix(owner, task_id)}partials/"


def output_key(owner: str, task_id: str, bucket: int, index: int, fmt: str) -> str:
    return f"{task_prefix(owner, task_id)}output/b{bucket:04d}-{index:04d}.{fmt}"
