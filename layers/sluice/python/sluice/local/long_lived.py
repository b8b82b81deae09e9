"""The objects a local process holds for its whole life, kept out of the garbage
collector's full passes.

The system's process holds ~520,000 objects once started (moto's backends and service
models, botocore's, the catalogue) and a worker holds every step's imports. Python's
oldest-generation collection walks every tracked object: in the system's process one
took 0.32 s of CPU in the middle of a 0.8 s operation. Frozen (``gc.freeze``), they are
left out of every collection: only what is made later is walked. A forked worker also
keeps its fork server's pages shared, which a collection's writes to every object's
header would copy.
"""

from __future__ import annotations

import gc


def freeze() -> None:
    """Collect what is garbage now, then leave everything still alive out of every later
    collection (never freed until ``thaw``: call it once what is loaded is loaded for
    good)."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Put what ``freeze`` left out back in the collector's care (a stopped system's
    objects are garbage like any others; frozen, they would outlive it, and extensions
    that count their objects at exit, as nanobind's do, would report them leaked)."""
    gc.unfreeze()
