"""What every local worker process starts with: the step handlers imported and the
parsing, typing and aggregation code run once on a small sample.

The worker pool's fork server imports this module before it forks any worker
(``lambda_runtime.worker_pool``), so each worker inherits it all. A worker's first chunk
otherwise paid about 0.7 s of CPU more than the next ones, for imports, pydantic
schemas and first calls, which a Lambda pays in its init phase, once per sandbox.
"""

from __future__ import annotations

from datetime import date, timedelta

from sluice.catalog import CATALOG
from sluice.csv.scan import parse_text
from sluice.inference.conversion import convert_table
from sluice.inference.schema import InferenceSettings
from sluice.inference.statistics import chunk_stats_and_parses, decide
from sluice.inference.types import DEFAULT_NA_VALUES
from sluice.ingest.models import column_plans
from sluice.ingest.parts import parquet_bytes
from sluice.local import long_lived
from sluice.local.lambda_runtime import load_handler
from sluice.tasks.aggregate import merge_partials, partial_aggregate
from sluice.tasks.aggregate_spec import AggregateSpec, Aggregation

_COLUMNS = ["id", "price", "flag", "day", "dmy", "wait", "region", "note"]
_ROW = '{i},{i}.25,{flag},{day},{dmy},{h}:{m:02d}:00,r{r},"note, {i}"\n'


def _sample_csv(rows: int = 2000) -> bytes:
    """Rows of every kind of column the parsers tell apart, most values distinct."""
    first = date(2020, 1, 1)
    days = [first + timedelta(days=i) for i in range(rows)]
    text = "".join(
        _ROW.format(
            i=i,
            flag="yes" if i % 2 else "no",
            day=day.isoformat(),
            dmy=day.strftime("%d/%m/%Y"),
            h=i // 60,
            m=i % 60,
            r=i % 5,
        )
        for i, day in enumerate(days)
    )
    return (text + "NA,,,,,,,\n").encode()


def warm_up() -> None:
    """Import every step's handler, then infer, convert, write and aggregate a sample."""
    for function in CATALOG.functions:
        if not function.public_api:
            load_handler(function)
    table = parse_text(_sample_csv(), _COLUMNS, list(DEFAULT_NA_VALUES))
    stats, parses = chunk_stats_and_parses(table, 100)
    typed, _ = convert_table(table, column_plans(decide(stats, InferenceSettings())), parses)
    parquet_bytes(typed)
    spec = AggregateSpec(
        group_by=["region", "day"], aggregations=[Aggregation(column="id", op="sum")]
    )
    merge_partials(partial_aggregate(typed, spec, 2), spec)


warm_up()
long_lived.freeze()  # before the fork server forks: every worker inherits it frozen
