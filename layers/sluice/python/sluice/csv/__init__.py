"""Reading CSV files by byte range: record spans, quote parity, scans with pyarrow."""
