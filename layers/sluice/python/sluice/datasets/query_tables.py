"""Every ready dataset as a table of the deployment's Glue database, so that Athena, Spark
or Redshift Spectrum query its typed parts in place.

The ingest's Finish registers the run it made ready (a re-conversion replaces the
table's columns and location with its own run's), and so does the recording of a
dataset sluice wrote itself (an operation's or a prediction job's output,
``derived.record_derived``); deleting the dataset removes the table.
A dataset keeps its table's name from its first registration (``Dataset.query_table``):
renaming or moving it does not rename the table under a query that names it.

Registering is not part of making the dataset ready: a Glue failure (after boto3's own
retries of throttling and 5xx answers) is recorded as the dataset's ``catalog_error``,
and the dataset stays ready with its rows, downloads and tasks; the next re-conversion
registers it again.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.models import Dataset, ErrorInfo, QueryTable, RemovableField
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.inference.conversion import EXCEPTIONS, EXCEPTIONS_TYPE
from sluice.inference.types import ColumnType, arrow_type
from sluice.store import glue_tables, objects
from sluice.store.glue_tables import GlueColumn, GlueTable

logger = logging.getLogger(__name__)

MAX_NAME = 255
"""Glue's longest table name."""

_READABLE = 200
"""The most of a table's name taken from the dataset's folder and name: the id follows."""

OWNER = "sluice_owner"
DATASET_ID = "sluice_dataset_id"
RUN = "sluice_run"
"""The table's parameters: whose dataset it is (the Cognito sub), which, and its run."""

_SCALARS: dict[pa.DataType, str] = {
    pa.bool_(): "boolean",
    pa.int8(): "tinyint",
    pa.int16(): "smallint",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.float32(): "float",
    pa.float64(): "double",
    pa.string(): "string",
    pa.large_string(): "string",
}


def glue_type(arrow: pa.DataType) -> str:
    """The Hive type Glue and Athena give a Parquet column written from ``arrow``."""
    if pa.types.is_dictionary(arrow):
        # A category: Parquet stores its texts, dictionary-encoded; readers see strings.
        return glue_type(arrow.value_type)
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_duration(arrow):
        # Parquet has no duration type: pyarrow writes the count of the unit (sluice's is
        # microseconds) as a plain INT64, and only pyarrow reads it back as a duration.
        return "bigint"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_map(arrow):
        return f"map<{glue_type(arrow.key_type)},{glue_type(arrow.item_type)}>"
    if arrow in _SCALARS:
        return _SCALARS[arrow]
    raise ValueError(f"no Glue type for the Parquet type {arrow}")


def column_glue_type(column_type: ColumnType) -> str:
    """The Glue type of a column of ``column_type`` in the typed parts."""
    return glue_type(arrow_type(column_type))


def table_name(path: str, name: str, dataset_id: str) -> str:
    """A Glue (and Athena) table name for a dataset: its folder and name in lower-case
    letters, digits and underscores, then its id, so that no two datasets share one.

    ``sales/2024`` and ``EU Orders (v2)`` -> ``sales_2024_eu_orders_v2_<id>``; letters are
    stripped of their accents, other characters become ``_``."""
    folded = unicodedata.normalize("NFKD", f"{path}/{name}").encode("ascii", "ignore").decode()
    readable = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")[:_READABLE].rstrip("_")
    if not readable[:1].isalpha():
        # Athena's DDL wants a letter first; a name of digits or symbols only gets one.
        readable = f"dataset_{readable}".rstrip("_")
    suffix = re.sub(r"[^a-z0-9]+", "_", dataset_id.lower())
    return f"{readable}_{suffix}"[:MAX_NAME]


def table_for(
    dataset: Dataset, manifest: Manifest, database: str, bucket: str, exceptions: bool = True
) -> GlueTable:
    """The Glue table of ``manifest``'s typed parts: its columns with their Glue types, then
    ``_exceptions`` where the parts have it (each row's values that failed their column's
    type, by column), and the folder that holds the run's parts and nothing else."""
    folder = Workspace(dataset.owner, dataset.id, manifest.run).parts
    outside = [part.key for part in manifest.parts if not part.key.startswith(folder)]
    if outside:
        # The table reads every file in the folder: a part elsewhere would go unread.
        raise ValueError(f"part {outside[0]} lies outside the run's parts folder {folder}")
    columns = [
        GlueColumn(name=c.name, type=column_glue_type(c.effective_type)) for c in manifest.columns
    ]
    if exceptions:
        columns.append(GlueColumn(name=EXCEPTIONS, type=glue_type(EXCEPTIONS_TYPE)))
    name = (
        dataset.query_table.table
        if dataset.query_table is not None and dataset.query_table.database == database
        else table_name(dataset.path, dataset.name, dataset.id)
    )
    return GlueTable(
        database=database,
        name=name,
        columns=columns,
        location=f"s3://{bucket}/{folder}",
        parameters={OWNER: dataset.owner, DATASET_ID: dataset.id, RUN: manifest.run},
    )


class Registration(BaseModel):
    """What a registration leaves on the dataset: its table, or why it has none."""

    query_table: QueryTable | None = None
    catalog_error: ErrorInfo | None = None

    def changes(self) -> tuple[dict[str, Any], tuple[RemovableField, ...]]:
        """The record's fields to write, and those to remove, for this outcome."""
        if self.query_table is not None:
            return {"query_table": self.query_table}, ("catalog_error",)
        return {"catalog_error": self.catalog_error}, ("query_table",)


def register(dataset: Dataset, manifest: Manifest, exceptions: bool = True) -> Registration:
    """Make the table of ``dataset`` describe ``manifest``'s run (just before the run is
    recorded ready): its name, or why Glue refused it, for the same write. A dataset whose
    table cannot follow its new run loses the old one too, whose parts go with the
    superseded run. ``exceptions``: whether the parts have an ``_exceptions`` column."""
    cfg = settings()
    if not cfg.glue_database:
        return Registration(query_table=dataset.query_table)
    try:
        table = table_for(dataset, manifest, cfg.glue_database, cfg.data_bucket, exceptions)
        glue_tables.put_table(table)
    except (ClientError, BotoCoreError, ValueError) as exc:
        logger.warning("dataset %s: no Glue table: %s", dataset.id, exc)
        if dataset.query_table is not None:
            _delete_quietly(dataset.id, dataset.query_table.database, dataset.query_table.table)
        error = ErrorInfo(code="catalog_failed", message=f"Glue Data Catalog: {_reason(exc)}")
        return Registration(catalog_error=error)
    return Registration(query_table=QueryTable(database=table.database, table=table.name))


def _reason(exc: Exception) -> str:
    """What the dataset's owner is told: Glue's error code, not its message, which may name
    the account and the function's role (the log has it whole); sluice's own reasons whole."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    return str(exc)


def follow_record(repo: DatasetRepository, owner: str, dataset_id: str, table: QueryTable) -> None:
    """After a run registered ``table`` but could not record itself ready (the dataset
    was deleted, or another run took it): make the table describe what the record holds,
    the run whose parts are live, or remove it where there is none."""
    dataset = repo.find(owner, dataset_id)
    manifest = None if dataset is None else live_manifest(dataset)
    if dataset is None or manifest is None:
        _delete_quietly(dataset_id, table.database, table.table)
        return
    register(dataset.model_copy(update={"query_table": table}), manifest)


def live_manifest(dataset: Dataset) -> Manifest | None:
    """The manifest of the run whose typed parts the dataset serves, if it has one."""
    if dataset.data_run is None:
        return None
    key = Workspace(dataset.owner, dataset.id, dataset.data_run).manifest
    found = objects.find_bytes(settings().data_bucket, key)
    return None if found is None else Manifest.model_validate_json(found)


def _delete_quietly(dataset_id: str, database: str, name: str) -> None:
    try:
        glue_tables.delete_table(database, name)
    except (ClientError, BotoCoreError) as exc:
        logger.warning(
            "dataset %s: Glue table %s.%s not deleted: %s", dataset_id, database, name, exc
        )


def remove(dataset: Dataset) -> None:
    """Delete the table of ``dataset`` (whose record is already deleted), by the name it
    was registered under, or the name a registration running now would give it. A Glue
    failure is logged, not raised: the dataset is gone whatever Glue answers."""
    cfg = settings()
    if not cfg.glue_database:
        return
    known = dataset.query_table
    database = known.database if known is not None else cfg.glue_database
    name = known.table if known is not None else table_name(dataset.path, dataset.name, dataset.id)
    _delete_quietly(dataset.id, database, name)
