"""The schema a dataset's scanned chunks point to while its inference still runs."""

from __future__ import annotations

import functools

from sluice.config import settings
from sluice.datasets.models import Dataset, DatasetStatus
from sluice.datasets.workspace import Workspace
from sluice.inference.schema import ChunkStats
from sluice.inference.statistics import decide, merge_stats
from sluice.store import objects


def with_provisional_columns(dataset: Dataset, max_chunks: int = 200) -> Dataset:
    """While inference runs, the schema the chunks scanned so far point to."""
    if dataset.status is not DatasetStatus.INFERRING or not dataset.ingest_run:
        return dataset
    if dataset.pending_columns is not None:
        return dataset.model_copy(update={"columns": dataset.pending_columns})
    bucket = settings().data_bucket
    prefix = f"{Workspace(dataset.owner, dataset.id, dataset.ingest_run).work}stats/"
    listing = tuple(
        (key, etag)
        for key, etag in objects.list_etags(bucket, prefix).items()
        if not key.endswith("merged.json")
    )[:max_chunks]
    if not listing:
        return dataset
    merged = _merged(bucket, listing, dataset.settings.max_categories)
    columns = decide(merged, dataset.settings, dataset.preferred_types)
    return dataset.model_copy(update={"columns": columns})


# Clients poll a dataset while it is inferred, and each poll would otherwise read and
# merge every chunk's statistics again (~130 ms for 15 chunks, taken from the scans'
# cores locally). A warm Lambda keeps these; a changed object has a new ETag.
@functools.lru_cache(maxsize=64)
def _merged(bucket: str, listing: tuple[tuple[str, str], ...], max_categories: int) -> ChunkStats:
    parts = [_chunk_stats(bucket, key, etag) for key, etag in listing]
    return merge_stats(parts, max_categories)


@functools.lru_cache(maxsize=4096)
def _chunk_stats(bucket: str, key: str, etag: str) -> ChunkStats:
    return ChunkStats.model_validate(objects.get_json(bucket, key))
