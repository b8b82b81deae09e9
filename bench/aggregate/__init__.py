"""The aggregate benchmark: BMAT's plays-per-song-per-day task, sluice against its peers.

``python -m bench.aggregate.run``: see ``bench/aggregate/run.py``.
"""
