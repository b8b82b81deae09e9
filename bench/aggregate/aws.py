"""AWS's documented limits and prices that the projection uses, and how a Map stage of a
state machine runs under them.

Every figure here is AWS's own, with the page it comes from; what AWS does not document
(a child execution's own overhead) is an assumption of the projection (``Assumptions``),
printed as such. The Map stages are read from the ASL files the deployment uses
(``map_stages``), so the projection follows the code: an inline Map runs at most 40
iterations at once, a Distributed Map's children start at its execution type's dispatch
rate, batched when it has an ``ItemBatcher``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --- limits ----------------------------------------------------------------------------

# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (quotas related
# to accounts): "Maximum number of parallel child executions within a single Map Run:
# 10,000 ... Step Functions dispatches express executions at up to 1,000 TPS and standard
# executions at up to 100 TPS" (hard quotas).
MAX_MAP_CONCURRENCY = 10_000
DISPATCH_PER_S = {"EXPRESS": 1000.0, "STANDARD": 100.0}

# https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html: Inline mode
# "supports up to 40 concurrent iterations".
INLINE_MAP_CONCURRENCY = 40

# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (quotas related
# to state machine executions): an Express execution runs at most 5 minutes.
EXPRESS_MAX_S = 300

# https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html: "By default,
# Lambda provides your account with a total concurrency limit of 1,000 concurrent
# executions across all functions in an AWS Region."
LAMBDA_ACCOUNT_CONCURRENCY = 1000

# https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html: "for each function,
# your concurrency scaling rate is 1,000 execution environment instances every 10
# seconds"; Lambda refills it continuously and never holds more than 1,000: a function
# may add 1,000 environments at once, then 100 a second.
LAMBDA_BURST = 1000
LAMBDA_REFILL_PER_S = 100.0

# --- prices (us-east-1) ----------------------------------------------------------------

# https://aws.amazon.com/lambda/pricing/: Arm $0.0000133334 per GB-s (first 7.5 billion
# GB-s a month), x86 $0.0000166667 (first 6 billion); $0.20 per 1M requests. sluice's
# functions are arm64 (infra/constructs/layers.py: ARCHITECTURE), so Arm's price applies.
LAMBDA_GB_S = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
LAMBDA_REQUEST = 0.20 / 1e6

# https://aws.amazon.com/step-functions/pricing/: Standard $0.025 per 1,000 state
# transitions; Express $1.00 per 1M requests and $0.00001667 per GB-s (first 1,000 GB-hours),
# memory billed in 64 MB chunks, duration rounded up to 100 ms.
TRANSITION = 0.025 / 1000
EXPRESS_REQUEST = 1.00 / 1e6
EXPRESS_GB_S = 0.00001667
EXPRESS_MEMORY_GB = 64 / 1024  # one 64 MB chunk: a child of one Task state and a small payload

# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html: "When
# you use a Map state in Distributed mode, you'll be charged one state transition for each
# child workflow execution that the Distributed Map state starts."
TRANSITIONS_PER_CHILD_START = 1

# https://aws.amazon.com/s3/pricing/ (S3 Standard): PUT, COPY, POST, LIST $0.005 per 1,000;
# GET, SELECT and all other requests $0.0004 per 1,000.
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000


# --- the Map stages of a state machine -------------------------------------------------


@dataclass(frozen=True)
class MapStage:
    """One Map state as its ASL defines it."""

    name: str  # the Map state's name (ScanChunks)
    task: str  # the Task state its children run (ScanChunk)
    distributed: bool
    execution_type: str  # STANDARD or EXPRESS (a Distributed Map's children); "" inline
    batched: bool  # an ItemBatcher: one child, one invocation, takes several items
    child_states: int  # states a child enters (each a transition for a STANDARD child)
    reads_items: bool = False  # an ItemReader: one GET of the item list
    writes_results: bool = False  # a ResultWriter: a manifest and a results file (2 PUTs)

    def concurrency(self, max_concurrency: int, account: int) -> int:
        """Children (invocations) at once: the Map's MaxConcurrency within AWS's limits
        and the account's Lambda concurrency."""
        if not self.distributed:
            return min(INLINE_MAP_CONCURRENCY, account)
        return max(1, min(max_concurrency, MAX_MAP_CONCURRENCY, account))

    @property
    def dispatch_per_s(self) -> float:
        """How fast Step Functions starts its children (inline: no child executions)."""
        return DISPATCH_PER_S[self.execution_type] if self.distributed else math.inf


def _states_entered(states: dict[str, Any]) -> int:
    """States a child enters on its way through (one each; no branch is taken twice)."""
    return sum(1 for state in states.values() if state.get("Type") not in ("Fail",))


def map_stages(definition: dict[str, Any]) -> dict[str, MapStage]:
    """Every Map state of an ASL definition (top level), by the Task state its children run."""
    stages: dict[str, MapStage] = {}
    for name, state in definition["States"].items():
        if state.get("Type") != "Map":
            continue
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        config = processor.get("ProcessorConfig") or {}
        distributed = config.get("Mode") == "DISTRIBUTED"
        task = processor["StartAt"]
        stages[task] = MapStage(
            name=name,
            task=task,
            distributed=distributed,
            execution_type=str(config.get("ExecutionType", "STANDARD")) if distributed else "",
            batched="ItemBatcher" in state,
            child_states=_states_entered(processor.get("States", {})),
            reads_items="ItemReader" in state,
            writes_results="ResultWriter" in state,
        )
    return stages


def load_map_stages(path: Path) -> dict[str, MapStage]:
    return map_stages(json.loads(path.read_text()))


def step_between(definition: dict[str, Any], first: str, last: str) -> str | None:
    """The Task state the state machine runs after the Map ``first`` and before ``last``
    (following each state's ``Next``), if there is one."""
    states = definition["States"]
    if first not in states:
        return None
    name = states[first].get("Next")
    while name and name != last:
        state = states[name]
        if state.get("Type") == "Task":
            return str(name)
        name = state.get("Next")
    return None


# --- one stage's wall and Step Functions cost ------------------------------------------


@dataclass(frozen=True)
class StageRun:
    """How one Map stage runs ``items`` items."""

    items: int
    batch: int  # items per child
    children: int
    concurrency: int
    child_s: float  # one child: its items one after the other, plus its own overhead
    start_s: float  # until the last child started (dispatch rate, Lambda's scaling)
    wall_s: float


def run_stage(
    stage: MapStage,
    items: int,
    item_s: float,
    batch: int,
    max_concurrency: int,
    account: int,
    child_overhead_s: float,
) -> StageRun:
    """A Map stage's wall: its children (``batch`` items each, one after the other) start
    no faster than Step Functions dispatches them and Lambda adds environments (1,000 at
    once, then 100 a second), at most ``concurrency`` at a time:

        wall = max(start + child, ceil(children / concurrency) x child)

    where start = max(children / dispatch, max(0, min(children, concurrency) - 1,000) / 100)."""
    if items <= 0:
        return StageRun(0, batch, 0, 0, 0.0, 0.0, 0.0)
    children = math.ceil(items / batch)
    concurrency = stage.concurrency(max_concurrency, account)
    child = batch * item_s + (child_overhead_s if stage.distributed else 0.0)
    dispatch = children / stage.dispatch_per_s
    scaling = max(0, min(children, concurrency) - LAMBDA_BURST) / LAMBDA_REFILL_PER_S
    start = max(dispatch, scaling)
    wall = max(start + child, math.ceil(children / concurrency) * child)
    return StageRun(items, batch, children, concurrency, child, start, wall)


def stage_transitions(stage: MapStage, run: StageRun) -> int:
    """State transitions a stage adds beyond its Map state: a Distributed Map's one per
    child started, plus a STANDARD child's own states; an inline Map's iterations enter
    their states in the parent (one each)."""
    if not stage.distributed:
        return run.children * stage.child_states
    own = stage.child_states if stage.execution_type == "STANDARD" else 0
    return run.children * (TRANSITIONS_PER_CHILD_START + own)


def express_cost(stage: MapStage, run: StageRun) -> float:
    """An EXPRESS child's request and its duration (rounded up to 100 ms) at 64 MB."""
    if stage.execution_type != "EXPRESS":
        return 0.0
    billed_s = math.ceil(run.child_s * 10) / 10
    return run.children * (EXPRESS_REQUEST + billed_s * EXPRESS_MEMORY_GB * EXPRESS_GB_S)
