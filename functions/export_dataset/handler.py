"""Build one downloadable file (CSV or Parquet) from a dataset's typed parts."""

from typing import Any

from sluice.datasets.export import ExportInput, export


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return export(ExportInput.model_validate(event))
