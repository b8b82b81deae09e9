"""Run a Distributed Map as AWS Step Functions does, on moto's ASL interpreter.

moto 5.2.5 reads a Distributed Map's items with ``ItemReader`` but falls short after
that: its grammar has no ``ItemBatcher`` (a definition with one does not parse), its
``ResultWriter`` writes an empty manifest and no result files, and a failed child is
counted and dropped: the Map state succeeds with ``null`` in that child's place. What
``install()`` changes, following AWS's documentation of each field:

- ``ItemBatcher``: the definition handed to moto's parser has every Map state's
  ``ItemBatcher`` taken out, and the parsed Map states get it back
  (:mod:`~sluice.local.patches.sfn_map_definition`), so the same ASL file is accepted
  here as in AWS (``"ExecutionType": "EXPRESS"`` and a whole-number
  ``ToleratedFailurePercentage``, which the grammar refuses too, are handed over as
  STANDARD and a float: here both kinds of children run alike). Each child's input is
  then ``{"Items": [...], "BatchInput": {...}}``: the items after ``ItemSelector``, grouped
  by ``MaxItemsPerBatch`` (or ``...Path``) and ``MaxInputBytesPerBatch`` (or
  ``...Path``), and ``BatchInput`` evaluated against the Map state's input
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html;
  :mod:`~sluice.local.patches.sfn_map_batches`).
- Children run at most ``MaxConcurrency`` at a time (0: all at once), each in a frame of
  its own; each child's status, input, output, or error and cause, is kept
  (:mod:`~sluice.local.patches.sfn_map_children`).
- A tolerated failure threshold: more failed children than ``ToleratedFailureCount``,
  or a larger share than ``ToleratedFailurePercentage`` (both 0 by default), fails the
  Map Run, and the Map state with ``States.ExceedToleratedFailureThreshold`` (which its
  ``Catch`` can take), as AWS does
  (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
  The children's own errors are in the ResultWriter's ``FAILED_<n>.json``.
- ``ResultWriter`` (``arn:aws:states:::s3:putObject``): AWS's layout under
  ``<Prefix>/<map run id>/``: ``manifest.json`` naming the result files by status, and
  ``SUCCEEDED_0.json``, ``FAILED_0.json`` ... (only the statuses that have children), each
  a JSON array of one entry per child: its execution ARN and name, its ``Input`` and
  ``Output`` as JSON texts (``Error`` and ``Cause`` for a failed one), status and dates
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
  They are written for a Map Run that fails too, so a failed child's error can be read
  back. The state's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``
  (:mod:`~sluice.local.patches.sfn_map_results`).

Not done: CSV or manifest item readers past moto's own, ``WriterConfig``, JSONL output,
result files split at AWS's 5 GB, ``Label``-named child state machine ARNs, intrinsic
functions inside ``BatchInput``. Children's events still go to a history of their own
that nobody reads (as in AWS, they are not in the parent's). moto is pinned exactly
(``pyproject.toml``): this replaces ``AmazonStateLanguageParser.parse`` (and keeps what it
parsed for the next execution of the same definition),
``DistributedIterationComponent._map_run`` and ``_eval_body``, ``StateMap._eval_execution``,
``ResultWriter._eval_body``, and the ItemReader's S3 client (retried, as the service's
own reads are: :mod:`~sluice.local.patches.sfn_service_client`).

Here: the Map Run (its children run, the results written, the threshold checked) and
:func:`install`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3 as item_reader_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (  # noqa: E501
    ResultWriter,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from sluice.local.patches.replace import replace_once, replaced
from sluice.local.patches.sfn_map_batches import child_inputs
from sluice.local.patches.sfn_map_children import Child, run_child
from sluice.local.patches.sfn_map_definition import declaration, parsing
from sluice.local.patches.sfn_map_results import details_only, keeping_the_record, write_results
from sluice.local.patches.sfn_service_client import service_client

_STATE = "_sluice_map_state"
"""Where the environment of a Map state being evaluated names that state."""

EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
"""The cause of a Map Run failed by its threshold (AWS's wording, as its console shows it)."""


def _remembering_the_state(eval_execution: Callable[..., None]) -> Callable[..., None]:
    def evaluate(self: StateMap, env: Any) -> None:
        setattr(env, _STATE, self)  # the Map Run below reads its batcher and result writer
        eval_execution(self, env)

    return evaluate


def exceeds(failed: int, total: int, count: int | None, percentage: float | None) -> bool:
    """Whether ``failed`` children of ``total`` fail the Map Run: more than the tolerated
    count, or a larger share than the tolerated percentage, of those declared; with
    neither declared, any failure does (AWS's default threshold is zero)."""
    if failed == 0:
        return False
    if count is None and percentage is None:
        return True
    return (count is not None and failed > count) or (
        percentage is not None and 100.0 * failed / total > percentage
    )


def _map_run(_: Callable[..., None]) -> Callable[..., None]:
    def map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
        items: list[Any] = env.stack.pop()
        state: StateMap = getattr(env, _STATE)
        map_input = env.stack[-1]  # the state's input, where its paths are evaluated
        record = eval_input.map_run_record
        children = [
            Child(index=index, input=value)
            for index, value in enumerate(child_inputs(state, env, items, map_input))
        ]
        program = self._get_iteration_program()
        record.item_counter.total.count(len(items))
        record.execution_counter.total.count(len(children))
        workers = record.max_concurrency or len(children)
        if children:
            with ThreadPoolExecutor(max_workers=min(workers, len(children))) as pool:
                list(pool.map(lambda child: run_child(env, program, child), children))
        failed = [child for child in children if child.status != "SUCCEEDED"]
        # A stopped execution's Map Run is aborted: it neither exports its results (a
        # cancel that removed the run's folder finds nothing written after) nor fails.
        # The results go before the counts, which say the Map Run is over.
        aborted = not env.is_running()
        if state.result_writer is not None and not aborted:
            write_results(state, env, map_input, record, children)
        record.execution_counter.failed.count(len(failed))
        record.execution_counter.succeeded.count(len(children) - len(failed))
        if aborted:
            env.stack.append([child.output for child in children])
            return
        decl = declaration(state)
        count_declared = decl is not None and decl.count_declared
        percentage_declared = decl is not None and decl.percentage_declared
        if exceeds(
            len(failed),
            len(children),
            eval_input.tolerated_failure_count if count_declared else None,
            eval_input.tolerated_failure_percentage if percentage_declared else None,
        ):
            error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=error,
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]  # total=True
                        mapRunFailedEventDetails=MapRunFailedEventDetails(
                            error=error.error_name, cause=EXCEEDED_CAUSE
                        )
                    ),
                )
            )
        env.stack.append([child.output for child in children])

    return map_run


def install() -> None:
    """Run Distributed Maps as AWS does (batches, results in S3, failure thresholds).
    Safe to call more than once."""
    replace_once(AmazonStateLanguageParser, "parse", parsing)
    replace_once(StateMap, "_eval_execution", _remembering_the_state)
    replace_once(DistributedIterationComponent, "_eval_body", keeping_the_record)
    replace_once(DistributedIterationComponent, "_map_run", _map_run)
    replace_once(ResultWriter, "_eval_body", details_only)
    replace_once(item_reader_s3, "boto_client_for", lambda _: service_client)


PATCHED: tuple[tuple[object, str], ...] = (
    (AmazonStateLanguageParser, "parse"),
    (StateMap, "_eval_execution"),
    (DistributedIterationComponent, "_eval_body"),
    (DistributedIterationComponent, "_map_run"),
    (ResultWriter, "_eval_body"),
    (item_reader_s3, "boto_client_for"),
)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return all(replaced(owner, name) for owner, name in PATCHED)


__all__ = [
    "EXCEEDED_CAUSE",
    "PATCHED",
    "exceeds",
    "install",
    "installed",
]
