"""Have moto's Step Functions parse each JSONPath once, not at every state it enters.

moto's ASL interpreter calls ``jsonpath_ng``'s ``parse`` for every path it evaluates
(a state's InputPath, ItemSelector, ResultSelector, ResultPath, for every Map item),
and each call builds a new PLY parser: about 1 ms of the embedded AWS's CPU, on the
cores the workers need, several hundred times per execution. A path's parsed form is
read, never changed, by ``find`` and ``update_or_create``, so ``install()`` keeps one
per path text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

from sluice.local.patches.replace import replace_once, replaced

PATHS_KEPT = 4096
"""Distinct path texts remembered (an ASL file has a few dozen)."""


def _memoized(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return functools.lru_cache(maxsize=PATHS_KEPT)(parse)


def install() -> None:
    """Parse each JSONPath text once per process. Safe to call more than once."""
    replace_once(json_path, "parse", _memoized)
    replace_once(result_path, "parse", _memoized)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(json_path, "parse") and replaced(result_path, "parse")


__all__ = ["install", "installed"]
