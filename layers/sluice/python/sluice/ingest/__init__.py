"""The ingest pipeline's steps on Step Functions (plan, scan, reconcile, decide,
convert, finish) and the inference commands that start, stop and redo it."""
