"""Tables of a Glue Data Catalog database: Parquet folders that Athena, Spark or Redshift
Spectrum query in place.

boto3's glue client, not awswrangler's catalog API: awswrangler (3.17.1, its newest
release) requires pyarrow < 26, and sluice pins pyarrow 26, so installing it would take
sluice's own Parquet library back a major version; it would also import pandas into the
Finish step for the three calls below. What it would add over them (Athena type names,
the Parquet SerDe) is the few constants here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from sluice import aws

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

# What Glue's crawlers set on a Parquet table; engines and the console read it.
_PARQUET_PARAMETERS = {"classification": "parquet", "EXTERNAL": "TRUE"}


class GlueColumn(BaseModel):
    """A column as Glue holds it: its name and its Hive type (``bigint``, ``timestamp``,
    ``map<string,string>``...)."""

    name: str
    type: str


class GlueTable(BaseModel):
    """An external table of Parquet files: every file under ``location`` (an ``s3://``
    folder ending in ``/``) holds ``columns``."""

    database: str
    name: str
    columns: list[GlueColumn]
    location: str
    parameters: dict[str, str] = Field(default_factory=dict)

    def table_input(self) -> dict[str, Any]:
        """The table in the shape of Glue's ``TableInput``."""
        return {
            "Name": self.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {**_PARQUET_PARAMETERS, **self.parameters},
            "StorageDescriptor": {
                "Columns": [{"Name": c.name, "Type": c.type} for c in self.columns],
                "Location": self.location,
                "InputFormat": PARQUET_INPUT_FORMAT,
                "OutputFormat": PARQUET_OUTPUT_FORMAT,
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {}},
                "Compressed": True,
            },
        }


def put_table(table: GlueTable) -> None:
    """Create ``table``, or replace the definition of the table of that name (its columns,
    location and parameters) where one exists. Created first: a new dataset's table (every
    ingest's and operation's first) takes one round trip, a replaced one two as before."""
    glue = aws.client("glue")
    try:
        glue.create_table(DatabaseName=table.database, TableInput=table.table_input())
        return
    except glue.exceptions.AlreadyExistsException:
        pass  # an earlier run of the dataset (or one meanwhile) made it: replace its definition
    # SkipArchive: the old definition is not kept as a version of the table; nothing reads
    # it back, and Glue limits how many versions a table may have.
    glue.update_table(DatabaseName=table.database, TableInput=table.table_input(), SkipArchive=True)


def find_table(database: str, name: str) -> GlueTable | None:
    """The table called ``name`` in ``database``; None when there is none."""
    glue = aws.client("glue")
    try:
        found = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None
    storage = found["StorageDescriptor"]
    return GlueTable(
        database=database,
        name=found["Name"],
        columns=[GlueColumn(name=c["Name"], type=c["Type"]) for c in storage["Columns"]],
        location=storage["Location"],
        parameters={
            k: v for k, v in found.get("Parameters", {}).items() if k not in _PARQUET_PARAMETERS
        },
    )


def delete_table(database: str, name: str) -> bool:
    """Delete the table called ``name``; False when there was none."""
    glue = aws.client("glue")
    try:
        glue.delete_table(DatabaseName=database, Name=name)
    except glue.exceptions.EntityNotFoundException:
        return False
    return True
