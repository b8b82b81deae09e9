"""The folder tree of a user's datasets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from sluice.datasets.columns import ColumnSummary
from sluice.datasets.models import Dataset, DatasetStatus, normalise_path
from sluice.datasets.repository import DatasetRepository
from sluice.errors import NotFound, Unprocessable


class TreeEntry(BaseModel):
    kind: Literal["folder", "dataset"]
    name: str
    path: str
    # datasets
    id: str | None = None
    status: DatasetStatus | None = None
    row_count: int | None = None
    column_count: int | None = None
    columns: list[ColumnSummary] | None = None  # the first few (sluice.datasets.columns.preview)
    # folders
    children: list[TreeEntry] | None = None
    dataset_count: int | None = None


def _summary(dataset: Dataset) -> TreeEntry:
    return TreeEntry(
        kind="dataset",
        name=dataset.name,
        path=dataset.path,
        id=dataset.id,
        status=dataset.status,
        row_count=dataset.row_count,
        column_count=dataset.column_count,
        columns=dataset.column_preview if dataset.column_count is not None else None,
    )


def build_tree(datasets: list[Dataset], path: str, depth: int) -> TreeEntry:
    """The folder at ``path`` with its folders and datasets ``depth`` levels down
    (depth 0: the folder alone, with how many datasets lie under it)."""
    prefix = f"{path}/" if path else ""
    inside = [d for d in datasets if d.path == path or d.path.startswith(prefix)]
    name = path.rsplit("/", 1)[-1] if path else ""
    root = TreeEntry(kind="folder", name=name, path=path, dataset_count=len(inside))
    if depth <= 0:
        return root
    subfolders: dict[str, list[Dataset]] = {}
    direct: list[Dataset] = []
    for dataset in inside:
        rest = dataset.path[len(prefix) :] if path else dataset.path
        if dataset.path == path:
            direct.append(dataset)
        else:
            subfolders.setdefault(rest.split("/", 1)[0], []).append(dataset)
    children: list[TreeEntry] = [
        build_tree(members, f"{prefix}{folder}", depth - 1)
        for folder, members in sorted(subfolders.items())
    ]
    children.extend(_summary(d) for d in sorted(direct, key=lambda d: (d.name, d.id)))
    root.children = children
    return root


def tree_json(entry: TreeEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude_none=True)


def folder_tree(repo: DatasetRepository, owner: str, path: str, depth: int) -> dict[str, Any]:
    """The owner's folder at ``path`` with its sub-folders and datasets, ``depth`` levels
    down, as the API shows it; Unprocessable for a malformed path, NotFound for a folder
    that holds no dataset."""
    try:
        folder = normalise_path(path)
    except ValueError as exc:
        raise Unprocessable(f"query.path: {exc}", {"field": "path"}) from exc
    root = build_tree(repo.list_all(owner), folder, depth)
    if folder and not root.dataset_count:
        raise NotFound(f"no folder {folder!r}")
    return tree_json(root)
