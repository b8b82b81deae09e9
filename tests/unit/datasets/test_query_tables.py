"""sluice.datasets.query_tables: a dataset's Glue table, worked out from its record and
manifest (Glue types, a name Glue and Athena take, the parts' folder, the owner)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sluice.datasets.manifest import Manifest, ManifestColumn, Part
from sluice.datasets.models import Dataset, QueryTable, SourceObject
from sluice.datasets.query_tables import MAX_NAME, column_glue_type, table_for, table_name
from sluice.inference.types import ColumnType
from sluice.store.glue_tables import GlueColumn, GlueTable

ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("column_type", "glue"),
    [
        (ColumnType.BOOL, "boolean"),
        (ColumnType.INT8, "tinyint"),
        (ColumnType.INT16, "smallint"),
        (ColumnType.INT32, "int"),
        (ColumnType.INT64, "bigint"),
        (ColumnType.FLOAT32, "float"),
        (ColumnType.FLOAT64, "double"),
        (ColumnType.DATETIME, "timestamp"),
        (ColumnType.TIMEDELTA, "bigint"),
        (ColumnType.CATEGORY, "string"),
        (ColumnType.STRING, "string"),
    ],
)
def test_each_sluice_type_has_its_glue_type(column_type: ColumnType, glue: str) -> None:
    assert column_glue_type(column_type) == glue


@pytest.mark.parametrize("column_type", list(ColumnType))
def test_every_sluice_type_has_a_glue_type(column_type: ColumnType) -> None:
    assert column_glue_type(column_type)


def test_a_duration_is_the_int64_parquet_holds() -> None:
    # What the Glue type claims: pyarrow writes a duration as a plain INT64 (no logical
    # type), which is what Athena reads.
    sink = io.BytesIO()
    pq.write_table(pa.table({"took": pa.array([90], pa.duration("us"))}), sink)
    column = pq.ParquetFile(io.BytesIO(sink.getvalue())).schema.column(0)
    assert (column.physical_type, column.logical_type.type) == ("INT64", "NONE")


def test_a_table_name_is_the_folder_and_name_in_lower_case_then_the_id() -> None:
    assert table_name("sales/2024", "EU Orders (v2)", ID) == f"sales_2024_eu_orders_v2_{ID}"


def test_a_table_name_folds_accents_and_drops_other_letters() -> None:
    assert table_name("", "Café Ñandú 東京", ID) == f"cafe_nandu_{ID}"


def test_a_table_name_starts_with_a_letter() -> None:
    assert table_name("", "2024 sales", ID) == f"dataset_2024_sales_{ID}"
    assert table_name("", "東京", ID) == f"dataset_{ID}"


def test_a_table_name_fits_glue() -> None:
    name = table_name("a" * 100 + "/" + "b" * 100, "c" * 200, ID)
    assert len(name) <= MAX_NAME
    assert name.endswith(f"_{ID}")


def _dataset(**extra: object) -> Dataset:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Dataset(
        id=ID,
        owner="owner-1",
        name="Orders",
        path="sales",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket="uploads", key="uploads/owner-1/x.csv"),
        **extra,  # type: ignore[arg-type]
    )


def _manifest(*keys: str) -> Manifest:
    return Manifest(
        run="run-2",
        row_count=3,
        columns=[
            ManifestColumn(name="Region", effective_type=ColumnType.CATEGORY),
            ManifestColumn(name="amount", effective_type=ColumnType.FLOAT64),
        ],
        parts=[Part(key=key, first_row=0, rows=3, bytes=10) for key in keys],
    )


FOLDER = f"datasets/owner-1/{ID}/run-2/parts/"


def test_the_table_describes_the_runs_parts() -> None:
    table = table_for(_dataset(), _manifest(f"{FOLDER}part-000000.parquet"), "db", "data")
    assert table == GlueTable(
        database="db",
        name=f"sales_orders_{ID}",
        columns=[
            GlueColumn(name="Region", type="string"),
            GlueColumn(name="amount", type="double"),
            GlueColumn(name="_exceptions", type="map<string,string>"),
        ],
        location=f"s3://data/{FOLDER}",
        parameters={"sluice_owner": "owner-1", "sluice_dataset_id": ID, "sluice_run": "run-2"},
    )


def test_a_registered_dataset_keeps_its_tables_name_when_renamed() -> None:
    dataset = _dataset(query_table=QueryTable(database="db", table="first_name"))
    table = table_for(dataset, _manifest(f"{FOLDER}part-000000.parquet"), "db", "data")
    assert table.name == "first_name"


def test_a_part_outside_the_runs_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the run's parts folder"):
        table_for(_dataset(), _manifest("datasets/owner-1/other/part-0.parquet"), "db", "data")
