"""``python -m sluice.cli``: the same as the ``sluice`` command."""

from sluice.cli.main import main

raise SystemExit(main())
