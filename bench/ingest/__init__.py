"""The ingest benchmark: sluice against DuckDB, polars and pandas on one messy CSV."""
