"""Run a Distributed Map as AWS Step Functions does, on moto's ASL interpreter.

moto 5.2.5 reads a Distributed Map's items with ``ItemReader`` but falls short after
that: its grammar has no ``ItemBatcher`` (a definition with one does not parse), its
``ResultWriter`` writes an empty manifest and no result files, and a failed child is
counted and dropped: the Map state succeeds with ``null`` in that child's place. What
``install()`` changes, following AWS's documentation of each field:

- ``ItemBatcher``: the definition handed to moto's parser has every Map state's
  ``ItemBatcher`` taken out, and the parsed Map states get it back (:func:`_parse`), so
  the same ASL file is accepted here as in AWS (``"ExecutionType": "EXPRESS"`` and a
  whole-number ``ToleratedFailurePercentage``, which the grammar refuses too, are handed
  over as STANDARD and a float: here both kinds of children run alike). Each child's input is then
  ``{"Items": [...], "BatchInput": {...}}``: the items after ``ItemSelector``, grouped
  by ``MaxItemsPerBatch`` (or ``...Path``) and ``MaxInputBytesPerBatch`` (or
  ``...Path``), and ``BatchInput`` evaluated against the Map state's input
  (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html).
- Children run at most ``MaxConcurrency`` at a time (0: all at once), each in a frame of
  its own; each child's status, input, output, or error and cause, is kept.
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
  back. The state's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.

Not done: CSV or manifest item readers past moto's own, ``WriterConfig``, JSONL output,
result files split at AWS's 5 GB, ``Label``-named child state machine ARNs, intrinsic
functions inside ``BatchInput``. Children's events still go to a history of their own
that nobody reads (as in AWS, they are not in the parent's). moto is pinned exactly
(``pyproject.toml``): this replaces ``AmazonStateLanguageParser.parse`` (and keeps what it
parsed for the next execution of the same definition),
``DistributedIterationComponent._map_run`` and ``_eval_body``, ``StateMap._eval_execution``,
``ResultWriter._eval_body``, and the ItemReader's S3 client (retried, as the service's
own reads are: :data:`SERVICE_RETRIES`).
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
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
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path

from sluice.local.patches.replace import replace_once, replaced

_DECL = "_sluice_map_decl"
"""Where a parsed Map state keeps what moto's parser dropped of its definition."""
_STATE = "_sluice_map_state"
"""Where the environment of a Map state being evaluated names that state."""

EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
"""The cause of a Map Run failed by its threshold (AWS's wording, as its console shows it)."""


@dataclass(frozen=True)
class ItemBatcher:
    """A Map state's ``ItemBatcher``: how many items, or input bytes, a child gets."""

    max_items: int | None = None
    max_items_path: str | None = None
    max_bytes: int | None = None
    max_bytes_path: str | None = None
    batch_input: Any = None

    @classmethod
    def of(cls, decl: dict[str, Any]) -> ItemBatcher:
        known = {
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
        }
        unknown = set(decl) - known
        if unknown:
            raise ValueError(f"ItemBatcher fields not run locally: {sorted(unknown)}")
        return cls(
            max_items=decl.get("MaxItemsPerBatch"),
            max_items_path=decl.get("MaxItemsPerBatchPath"),
            max_bytes=decl.get("MaxInputBytesPerBatch"),
            max_bytes_path=decl.get("MaxInputBytesPerBatchPath"),
            batch_input=decl.get("BatchInput"),
        )


def template_value(template: Any, data: Any, context: Any) -> Any:
    """A JSONPath payload template evaluated: a key ending in ``.$`` takes the value at its
    path (``$...`` in ``data``, ``$$...`` in the context object); the rest is copied."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not value.startswith("$"):
                    raise ValueError(f"{key}: only paths are evaluated locally, not {value!r}")
                if value.startswith("$$"):
                    out[key[:-2]] = json_path.extract_json(value[1:], context)
                else:
                    out[key[:-2]] = json_path.extract_json(value, data)
            else:
                out[key] = template_value(value, data, context)
        return out
    if isinstance(template, list):
        return [template_value(value, data, context) for value in template]
    return template


def batches(items: list[Any], max_items: int | None, max_bytes: int | None) -> list[list[Any]]:
    """``items`` in order, cut into batches of at most ``max_items`` items and
    ``max_bytes`` bytes of JSON each (a single larger item still gets a batch)."""
    out: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item, separators=(",", ":")).encode())
        full = max_items is not None and len(current) >= max_items
        too_big = max_bytes is not None and current and size + item_bytes > max_bytes
        if full or too_big:
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += item_bytes
    if current:
        out.append(current)
    return out


# --- the definition: ItemBatcher out for the grammar, back onto the parsed states --------


@dataclass(frozen=True)
class _MapDecl:
    """What moto's parsed Map state lacks of its definition."""

    batcher: ItemBatcher | None
    count_declared: bool
    percentage_declared: bool
    inner: dict[str, _MapDecl]


def _without_batchers(states: dict[str, Any]) -> dict[str, _MapDecl]:
    """Take ``ItemBatcher`` out of every Map state of ``states`` (in place, nested Maps
    too), with what else moto's grammar refuses of what AWS takes (EXPRESS children, a
    whole-number percentage) put as it takes it; what each Map state declared, by name."""
    found: dict[str, _MapDecl] = {}
    for name, state in states.items():
        if not isinstance(state, dict) or state.get("Type") != "Map":
            continue
        batcher = state.pop("ItemBatcher", None)
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        config = processor.get("ProcessorConfig") or {}
        if config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"  # the grammar's only kind; both run alike
        percentage = state.get("ToleratedFailurePercentage")
        if isinstance(percentage, int):
            state["ToleratedFailurePercentage"] = float(percentage)  # the grammar wants 0.0
        found[name] = _MapDecl(
            batcher=ItemBatcher.of(batcher) if batcher is not None else None,
            count_declared=bool(
                {"ToleratedFailureCount", "ToleratedFailureCountPath"} & set(state)
            ),
            percentage_declared=bool(
                {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"} & set(state)
            ),
            inner=_without_batchers(processor.get("States") or {}),
        )
    return found


def _attach(states: Any, found: dict[str, _MapDecl]) -> None:
    for name, decl in found.items():
        state = states.states[name]
        setattr(state, _DECL, decl)
        _attach(state.iteration_component._states, decl.inner)


PARSED_DEFINITIONS = 64
"""Parsed definitions kept (a deployment has a handful of state machines)."""


def _parse(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    # Kept by definition: moto parses the definition with ANTLR at every execution's
    # start (40-100 ms for run_operation's, a tenth of a small operation's time). A parsed
    # program is declarations only: each execution's state lives in its own Environment,
    # and the one attribute a component sets while evaluating (EvalComponent.heap_key, a
    # fixed random key) indexes that environment's heap. A failed parse is not kept.
    @functools.lru_cache(maxsize=PARSED_DEFINITIONS)
    def parse_with_batchers(definition: str) -> Any:
        try:
            document = json.loads(definition)
        except ValueError:
            return parse(definition)  # moto's own parser says what is wrong with it
        if not isinstance(document, dict):
            return parse(definition)
        found = _without_batchers(document.get("States") or {})
        program, tree = parse(json.dumps(document))
        _attach(program.states, found)
        return program, tree

    # A plain function: moto calls it on the class (``AmazonStateLanguageParser.parse``),
    # where it is not bound, as its staticmethod was not.
    return parse_with_batchers


# --- the Map Run ---------------------------------------------------------------------------


@dataclass
class Child:
    """One child workflow execution of a Map Run, as the ResultWriter reports it."""

    index: int
    input: Any
    name: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "PENDING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: datetime | None = None
    stop: datetime | None = None


def _remembering_the_state(eval_execution: Callable[..., None]) -> Callable[..., None]:
    def evaluate(self: StateMap, env: Any) -> None:
        setattr(env, _STATE, self)  # the Map Run below reads its batcher and result writer
        eval_execution(self, env)

    return evaluate


def _child_inputs(state: StateMap, env: Any, items: list[Any], map_input: Any) -> list[Any]:
    """Each child's input: the items through ``ItemSelector`` (evaluated with
    ``$$.Map.Item``), then batched as ``ItemBatcher`` says."""
    if state.item_selector is not None:
        selected = []
        for index, item in enumerate(items):
            frame = env.open_inner_frame()
            try:
                frame.states.context_object.context_object_data["Map"] = MapData(
                    Item=ItemData(Index=index, Value=item)
                )
                frame.states.reset(input_value=map_input)
                frame.stack.append(map_input)
                state.item_selector.eval(frame)
                selected.append(frame.stack.pop())
            finally:
                env.delete_frame(frame)
        items = selected
    decl: _MapDecl | None = getattr(state, _DECL, None)
    batcher = None if decl is None else decl.batcher
    if batcher is None:
        return items
    context = env.states.context_object.context_object_data
    max_items = batcher.max_items
    if batcher.max_items_path is not None:
        max_items = int(json_path.extract_json(batcher.max_items_path, map_input))
    max_bytes = batcher.max_bytes
    if batcher.max_bytes_path is not None:
        max_bytes = int(json_path.extract_json(batcher.max_bytes_path, map_input))
    batch_input = (
        None
        if batcher.batch_input is None
        else template_value(batcher.batch_input, map_input, context)
    )
    out = []
    for batch in batches(items, max_items, max_bytes):
        child: dict[str, Any] = {"Items": batch}
        if batch_input is not None:
            child["BatchInput"] = batch_input
        out.append(child)
    return out


def _run_child(env: Any, program: Any, child: Child) -> None:
    frame = env.open_inner_frame()
    child.start = datetime.now(UTC)
    child.status = "RUNNING"
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=child.index, Value=child.input)
        )
        frame.states.reset(input_value=child.input)
        program.eval(frame)
        ended = frame.program_state()
        if isinstance(ended, ProgramError):
            child.status = "FAILED"
            details = ended.error or {}
            child.error, child.cause = details.get("error"), details.get("cause")
        elif isinstance(ended, ProgramTimedOut):
            child.status = "TIMED_OUT"
        elif isinstance(ended, ProgramStopped):
            child.status = "ABORTED"
        else:
            child.status = "SUCCEEDED"
            child.output = frame.states.get_input()
    except Exception as exc:  # the interpreter's own failure: the child failed
        child.status, child.error, child.cause = "FAILED", "States.Runtime", repr(exc)
    finally:
        child.stop = datetime.now(UTC)
        env.delete_frame(frame)


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
            for index, value in enumerate(_child_inputs(state, env, items, map_input))
        ]
        program = self._get_iteration_program()
        record.item_counter.total.count(len(items))
        record.execution_counter.total.count(len(children))
        workers = record.max_concurrency or len(children)
        if children:
            with ThreadPoolExecutor(max_workers=min(workers, len(children))) as pool:
                list(pool.map(lambda child: _run_child(env, program, child), children))
        failed = [child for child in children if child.status != "SUCCEEDED"]
        # A stopped execution's Map Run is aborted: it neither exports its results (a
        # cancel that removed the run's folder finds nothing written after) nor fails.
        # The results go before the counts, which say the Map Run is over.
        aborted = not env.is_running()
        if state.result_writer is not None and not aborted:
            _write_results(state, env, map_input, record, children)
        record.execution_counter.failed.count(len(failed))
        record.execution_counter.succeeded.count(len(children) - len(failed))
        if aborted:
            env.stack.append([child.output for child in children])
            return
        decl: _MapDecl | None = getattr(state, _DECL, None)
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


# --- the ResultWriter ----------------------------------------------------------------------

_lock = threading.Lock()
_written: dict[str, tuple[str, str]] = {}
"""Map Run ARN -> (bucket, manifest key) written by the Map Run, for the state's result."""


def _date(moment: datetime | None) -> str | None:
    return (
        None if moment is None else moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def result_entry(child: Child, child_machine_arn: str) -> dict[str, Any]:
    """A child as a ResultWriter file lists it (Transformation NONE, AWS's default when
    exporting): input and output as JSON texts, with the execution's metadata."""
    execution_arn = child_machine_arn.replace(":stateMachine:", ":execution:", 1)
    entry: dict[str, Any] = {
        "ExecutionArn": f"{execution_arn}:{child.name}",
        "Input": json.dumps(child.input, separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.status == "SUCCEEDED":
        entry["Output"] = json.dumps(child.output, separators=(",", ":"))
        entry["OutputDetails"] = {"Included": True}
    else:
        if child.error is not None:
            entry["Error"] = child.error
        if child.cause is not None:
            entry["Cause"] = child.cause
    entry.update(
        {
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "StartDate": _date(child.start),
            "StateMachineArn": child_machine_arn,
            "Status": child.status,
            "StopDate": _date(child.stop),
        }
    )
    return entry


def _folder(prefix: str, map_run_arn: str) -> str:
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{map_run_arn.split(':')[-1]}/"


def _write_results(
    state: StateMap, env: Any, map_input: Any, record: Any, children: list[Child]
) -> None:
    writer = state.result_writer
    assert writer is not None
    env.stack.append(map_input)
    writer.parargs.eval(env=env)
    parameters = env.stack.pop()
    env.stack.pop()
    writer.resource.eval(env=env)
    runtime = env.stack.pop()
    bucket = parameters["Bucket"]
    folder = _folder(parameters.get("Prefix", ""), record.map_run_arn)
    s3 = service_client(region=runtime.region, service="s3")
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    by_status: dict[str, list[Child]] = {}
    for child in children:
        status = "FAILED" if child.status in ("TIMED_OUT", "ABORTED") else child.status
        by_status.setdefault(status, []).append(child)
    for status, listed in sorted(by_status.items()):
        key = f"{folder}{status}_0.json"
        body = json.dumps([result_entry(c, record.map_state_machine_arn) for c in listed]).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
    key = f"{folder}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
    with _lock:
        _written[record.map_run_arn] = (bucket, key)


def _details_only(_: Callable[..., None]) -> Callable[..., None]:
    def details(self: ResultWriter, env: Any) -> None:
        # moto evaluated the writer's Parameters against the children's outputs (the top
        # of the stack by now); the Map Run wrote the files with the state's input.
        env.stack.pop()  # the children's outputs, already written
        record = getattr(env, _RECORD)
        with _lock:
            written = _written.pop(record.map_run_arn, None)
        details: dict[str, Any] = {"MapRunArn": record.map_run_arn}
        if written is not None:  # none when the execution was stopped
            details["ResultWriterDetails"] = {"Bucket": written[0], "Key": written[1]}
        env.stack.append(details)

    return details


_RECORD = "_sluice_map_run_record"
"""Where the environment of a Map state keeps its Map Run's record, for the writer."""


def _recording(eval_body: Callable[..., None]) -> Callable[..., None]:
    def recording(self: DistributedIterationComponent, env: Any) -> None:
        eval_input = env.stack[-1]
        setattr(env, _RECORD, eval_input.map_run_record)
        eval_body(self, env)

    return recording


SERVICE_RETRIES = {"mode": "standard", "max_attempts": 5}
"""The S3 reads and writes Step Functions makes itself (ItemReader, ResultWriter) are
retried by the service when S3 throttles, as an SDK's are; moto's client for them has
no retries, so one 503 SlowDown failed the whole Map."""


def service_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client for a call the service makes itself: moto's (``boto_client_for``: its
    endpoint and test credentials) with :data:`SERVICE_RETRIES`."""
    endpoint = (
        {}
        if botocore_stubber.enabled
        else {"endpoint_url": f"http://localhost:{moto_server_port()}"}
    )
    return boto3.client(
        service_name=service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(parameter_validation=False, retries=SERVICE_RETRIES),
        **endpoint,
    )


def install() -> None:
    """Run Distributed Maps as AWS does (batches, results in S3, failure thresholds).
    Safe to call more than once."""
    replace_once(AmazonStateLanguageParser, "parse", _parse)
    replace_once(StateMap, "_eval_execution", _remembering_the_state)
    replace_once(DistributedIterationComponent, "_eval_body", _recording)
    replace_once(DistributedIterationComponent, "_map_run", _map_run)
    replace_once(ResultWriter, "_eval_body", _details_only)
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
    "Child",
    "ItemBatcher",
    "batches",
    "exceeds",
    "install",
    "installed",
    "result_entry",
    "template_value",
]
