"""A dataset's columns as served: those of its typed data, or, while its inference
runs, those the run decided or its scanned chunks point to so far."""

from __future__ import annotations

import functools
import json

from sluice.config import settings
from sluice.datasets import columns as column_store
from sluice.datasets.columns import SUMMARY_COLUMNS, ColumnPage, Columns
from sluice.datasets.models import Dataset, DatasetDetail, DatasetStatus
from sluice.datasets.workspace import Workspace
from sluice.errors import Conflict
from sluice.inference.schema import ChunkStats, ColumnSchema, InferenceSettings
from sluice.inference.statistics import decide, merge_stats
from sluice.inference.types import ColumnType
from sluice.ingest.scan_groups import StatsGroup
from sluice.store import objects


def dataset_detail(dataset: Dataset) -> DatasetDetail:
    """``dataset`` with its first columns (provisional while inference runs) and the
    token of the rest."""
    columns = columns_of(dataset)
    page = None if columns is None else columns.page(0, SUMMARY_COLUMNS)
    return DatasetDetail.of(dataset, page)


def column_page(dataset: Dataset, limit: int, next_token: str | None) -> ColumnPage:
    """A page of the dataset's columns, from where ``next_token`` says; Conflict while it
    has none."""
    columns = columns_of(dataset)
    if columns is None:
        raise Conflict(
            f"the dataset has no columns yet (status {dataset.status.value})",
            {"status": dataset.status.value},
        )
    return columns.page(column_store.decode_token(next_token, len(columns)), limit)


def columns_of(dataset: Dataset, max_groups: int = 200) -> Columns | None:
    """The columns to show: while inference runs, those its run decided or else those
    its scanned chunks point to; otherwise (or before any chunk is scanned) those of the
    typed data; None when there are none."""
    bucket = settings().data_bucket
    if dataset.status is DatasetStatus.INFERRING and dataset.ingest_run:
        if dataset.pending_column_count is not None:
            decided = Workspace(dataset.owner, dataset.id, dataset.ingest_run).columns
            pending = column_store.load(bucket, decided)
            if pending is not None:
                return pending
        scanned = _scanned(dataset, dataset.ingest_run, bucket, max_groups)
        if scanned is not None:
            return Columns(scanned)
    if dataset.data_run is None:
        return None
    return column_store.load(bucket, Workspace(dataset.owner, dataset.id, dataset.data_run).columns)


def _scanned(dataset: Dataset, run: str, bucket: str, max_groups: int) -> list[ColumnSchema] | None:
    """The schema the chunks ``run`` scanned so far point to; None before the first."""
    workspace = Workspace(dataset.owner, dataset.id, run)
    listing = tuple(
        (key, etag)
        for key, etag in objects.list_etags(bucket, workspace.stats).items()
        if key != workspace.merged_stats
    )[:max_groups]
    if not listing:
        return None
    preferred = json.dumps(dataset.preferred_types, sort_keys=True)
    return list(_decided(bucket, listing, dataset.settings.model_dump_json(), preferred))


# Clients poll a dataset while it is inferred, and each poll would otherwise read and
# merge every chunk's statistics again (~130 ms for 15 chunks, taken from the scans'
# cores locally) and decide every column again (~0.3 s for 10,000). A warm Lambda keeps
# these; a changed object has a new ETag.
@functools.lru_cache(maxsize=16)
def _decided(
    bucket: str, listing: tuple[tuple[str, str], ...], settings_json: str, preferred_json: str
) -> tuple[ColumnSchema, ...]:
    inference = InferenceSettings.model_validate_json(settings_json)
    merged = _merged(bucket, listing, inference.max_categories)
    preferred = {name: ColumnType(kind) for name, kind in json.loads(preferred_json).items()}
    return tuple(decide(merged, inference, preferred))


@functools.lru_cache(maxsize=64)
def _merged(bucket: str, listing: tuple[tuple[str, str], ...], max_categories: int) -> ChunkStats:
    # Each group's chunks merged once (kept with its ETag), then the groups: a poll while
    # a group is added merges the groups, not every chunk again. A chunk in two groups
    # (rescanned, or scanned again by a retried batch) counts twice: the schema shown
    # is only a hint, Decide merges each chunk's last scan once.
    groups = [_group_merged(bucket, key, etag, max_categories) for key, etag in listing]
    return merge_stats(groups, max_categories)


@functools.lru_cache(maxsize=4096)
def _group_merged(bucket: str, key: str, etag: str, max_categories: int) -> ChunkStats:
    group = StatsGroup.model_validate_json(objects.get_bytes(bucket, key))
    return merge_stats(list(group.chunks.values()), max_categories)
