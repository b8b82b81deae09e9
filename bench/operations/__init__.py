"""The operations benchmark: sluice's operations against DuckDB and pandas (bench/README.md)."""
