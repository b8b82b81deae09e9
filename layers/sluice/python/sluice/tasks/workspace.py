"""Where a task's files live in the data bucket."""

from __future__ import annotations


def task_prefix(owner: str, task_id: str) -> str:
    return f"tasks/{owner}/{task_id}/"


def partial_key(owner: str, task_id: str, part: int) -> str:
    """One part's buckets file (``sluice.tasks.partials``): every bucket's groups of it."""
    return f"{partials_prefix(owner, task_id)}p{part:06d}.buckets"


def partials_prefix(owner: str, task_id: str) -> str:
    return f"{task_prefix(owner, task_id)}partials/"


def work_prefix(owner: str, task_id: str) -> str:
    """The task's work folder: its Distributed Maps' item lists and, under ``maps/``,
    their results (the catalogue's map_items and map_results grant exactly these)."""
    return f"{task_prefix(owner, task_id)}work/"


def results_prefix(owner: str, task_id: str) -> str:
    """Where the task's Distributed Maps' ResultWriters write (a folder per Map Run)."""
    return f"{work_prefix(owner, task_id)}maps/"


def output_key(owner: str, task_id: str, bucket: int, index: int, fmt: str) -> str:
    return f"{task_prefix(owner, task_id)}output/b{bucket:04d}-{index:04d}.{fmt}"
