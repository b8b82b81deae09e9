"""The ``sluice`` command: the local system and its helpers (``sluice --help``)."""
