"""What a column is: vectorised type tests, per-chunk statistics, the type decision,
and conversion to typed columns. Pure functions over Arrow data; no storage."""
