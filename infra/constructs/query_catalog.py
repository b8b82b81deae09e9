"""The Glue Data Catalog databases of the catalogue: where every ready dataset is a table
that Athena, Spark or Redshift Spectrum query in place (``sluice.datasets.query_tables``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from constructs import Construct
from sluice.catalog import GlueDatabaseSpec

from infra.constructs.naming import pascal


def database_name(stack_name: str, name: str) -> str:
    """A deployment's Glue database: ``<stack>_<name>`` in lower case, underscores for any
    other character (Glue names are account-wide, and Athena takes only these)."""
    return re.sub(r"[^a-z0-9_]+", "_", f"{stack_name}_{name}".lower())


@dataclass(frozen=True)
class GlueDatabase:
    """A database's name and the ARNs a grant on its tables names."""

    name: str
    ref: str  # the name through the database's Ref: what refers to it waits for it
    catalog_arn: str
    database_arn: str
    tables_arn: str  # every table of the database: table/<name>/*


class QueryCatalog(Construct):
    """One Glue database per catalogue entry, by catalogue name."""

    def __init__(
        self, scope: Construct, construct_id: str, *, specs: Iterable[GlueDatabaseSpec]
    ) -> None:
        super().__init__(scope, construct_id)
        self.resources: dict[str, glue.CfnDatabase] = {}
        self.by_name: dict[str, GlueDatabase] = {spec.name: self._database(spec) for spec in specs}

    def _database(self, spec: GlueDatabaseSpec) -> GlueDatabase:
        stack = Stack.of(self)
        name = database_name(stack.stack_name, spec.name)
        database = glue.CfnDatabase(
            self,
            f"{pascal(spec.name)}Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=name,
                description="sluice: every ready dataset's typed Parquet parts, a table each",
            ),
        )
        # Only table definitions live here, each rewritten by the dataset's next ingest;
        # the data stays in the data bucket. Kept, a named database would stop the stack
        # from being created again.
        database.apply_removal_policy(RemovalPolicy.DESTROY)
        self.resources[spec.name] = database
        return GlueDatabase(
            name=name,
            ref=database.ref,
            catalog_arn=stack.format_arn(service="glue", resource="catalog"),
            database_arn=stack.format_arn(
                service="glue",
                resource="database",
                resource_name=name,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
            tables_arn=stack.format_arn(
                service="glue",
                resource="table",
                resource_name=f"{name}/*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )
