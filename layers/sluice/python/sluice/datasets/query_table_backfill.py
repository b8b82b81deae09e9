"""Glue tables for the ready datasets that have none: those recorded before the catalogue
existed (a deployment, or a ``sluice local --state-dir``, upgraded from before issue 23),
and those Glue refused (``catalog_error``).

A maintenance pass over every owner's datasets, run by the ``catalog_backfill`` function
(invoked by the operator after an upgrade, and by ``sluice local`` when it restores a
state folder), never by a user's request. Each dataset is registered as its ingest's Finish
would have (``query_tables.register``) and its record updated only while the run it
registered is still its live one: a re-conversion running meanwhile registers its own.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from sluice.config import settings
from sluice.datasets import query_tables
from sluice.datasets.models import Dataset, DatasetChanges
from sluice.datasets.repository import DatasetRepository
from sluice.inference.conversion import EXCEPTIONS
from sluice.store import parquet_parts

logger = logging.getLogger(__name__)


class BackfillRequest(BaseModel):
    """The invocation's event: nothing (``aws lambda invoke`` sends ``{}``)."""

    model_config = ConfigDict(extra="forbid")


class Backfill(BaseModel):
    """What a pass did: the datasets it registered, those Glue refused again (with their
    ``catalog_error`` recorded), and those it left (no live run, or one that moved on)."""

    registered: list[str] = Field(default_factory=list)
    refused: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


def backfill(repo: DatasetRepository) -> Backfill:
    """Register a Glue table for every ready dataset that names none."""
    done = Backfill()
    if not settings().glue_database:
        return done
    for dataset in repo.ready_without_table():
        outcome = _register(repo, dataset)
        getattr(done, outcome).append(dataset.id)
    logger.info(
        "Glue tables backfilled: %d registered, %d refused, %d skipped",
        len(done.registered),
        len(done.refused),
        len(done.skipped),
    )
    return done


def _register(repo: DatasetRepository, dataset: Dataset) -> str:
    manifest = query_tables.live_manifest(dataset)
    if manifest is None:
        return "skipped"
    # Ingested parts always carry the exceptions column; an operation's output only where
    # its writer kept one: the first part's footer says which.
    exceptions = (
        not manifest.parts
        or EXCEPTIONS
        in parquet_parts.read_footer(manifest.parts[0].key, manifest.parts[0].bytes)
        .schema.to_arrow_schema()
        .names
    )
    registered = query_tables.register(dataset, manifest, exceptions=exceptions)
    changes, removed = registered.changes()
    written = repo.update(
        dataset.owner,
        dataset.id,
        DatasetChanges(**changes),
        remove=removed,
        only_if_run=dataset.ingest_run,
    )
    if written is None or written.data_run != manifest.run:
        # Deleted, or re-converted meanwhile: the table follows what the record now holds.
        if registered.query_table is not None:
            query_tables.follow_record(repo, dataset.owner, dataset.id, registered.query_table)
        return "skipped"
    return "registered" if registered.query_table is not None else "refused"
