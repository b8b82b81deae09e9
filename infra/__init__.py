"""The sluice CDK app: one stack, built from ``sluice.catalog.CATALOG``."""
