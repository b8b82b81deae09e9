"""Build one downloadable file (CSV or Parquet) from a dataset's typed parts."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.datasets.export import ExportInput, export
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ExportInput


# The state machine adds its execution's name to the payload: the export's own name,
# which the data run it reads does not give (a retried export gets a new one).
@step_handler(run_at("execution"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return export(EVENT_MODEL.model_validate(event)).model_dump()
