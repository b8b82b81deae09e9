"""What the API does with a session's operations: start (or answer from the cache),
read, delete one or many."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

from sluice import aws
from sluice.config import Settings
from sluice.datasets import service as dataset_service
from sluice.datasets.models import Dataset, utcnow
from sluice.datasets.rows import typed_manifest
from sluice.datasets.workspace import dataset_prefixes
from sluice.errors import NotFound, Unprocessable
from sluice.inference.types import ColumnType
from sluice.operations.base import Operation as OperationClass
from sluice.operations.base import OperationRun
from sluice.operations.catalogue import catalogue
from sluice.operations.validation import Problem, canonical, check_columns, check_form, refuse
from sluice.operations.wizard import DATASET_TYPES
from sluice.sessions import cache
from sluice.sessions.operation_models import (
    OperationCreate,
    OperationStatus,
    SessionOperation,
    Timings,
    run_name,
)
from sluice.sessions.references import Stores, input_dataset, resolve_dataset
from sluice.sessions.repository import SessionRepository
from sluice.sessions.together import at_once
from sluice.store import objects

OPEN = frozenset({OperationStatus.PENDING, OperationStatus.IN_PROGRESS})


def _operation_class(name: str) -> type[OperationClass]:
    found = catalogue().get(name)
    if found is None:
        raise Unprocessable(
            f"name: no operation {name!r}; GET /operations lists them",
            [{"field": "name", "problem": f"no operation {name!r}"}],
        )
    return found


def _resolve(
    stores: Stores, owner: str, cls: type[OperationClass], inputs: dict[str, Any]
) -> tuple[dict[str, list[Dataset]], list[Problem]]:
    """The ready datasets each dataset input names, and a problem for each that names none."""
    found: dict[str, list[Dataset]] = {}
    problems: list[Problem] = []
    for key, spec in cls.inputs.items():
        if spec.type not in DATASET_TYPES or inputs.get(key) is None:
            continue
        refs = inputs[key] if isinstance(inputs[key], list) else [inputs[key]]
        found[key] = []
        for index, ref in enumerate(refs):
            dataset, problem = resolve_dataset(stores, owner, ref)
            where = f"input_data.{key}" + (f"[{index}]" if isinstance(inputs[key], list) else "")
            if problem:
                problems.append(Problem(field=where, problem=problem))
            elif dataset is not None:
                found[key].append(dataset)
    return found, problems


def start_operation(
    cfg: Settings,
    sessions: SessionRepository,
    stores: Stores,
    owner: str,
    session_id: str,
    body: OperationCreate,
) -> tuple[SessionOperation, bool]:
    """Validate the request against the wizard and the data, then answer it from the
    cache (COMPLETED, no execution) or record it and start its execution. Returns the
    operation and whether it was started."""

    def checked() -> tuple[type[OperationClass], dict[str, Any], dict[str, list[Dataset]]]:
        cls = _operation_class(body.name)
        inputs = check_form(cls, body.input_data)
        datasets, problems = _resolve(stores, owner, cls, inputs)
        if problems:
            raise refuse(problems)
        return cls, inputs, datasets

    # The session and the datasets at once; a missing session is 404 before a bad form.
    session, (cls, inputs, datasets) = at_once(lambda: sessions.get(owner, session_id), checked)
    read = {key: [input_dataset(d) for d in items] for key, items in datasets.items()}
    key = cache.cache_key(cls.name, cls.inputs, canonical(cls, inputs), read)
    # Each dataset's manifest (its columns, for the form's checks) and the cache's answer
    # at once: the answer is used only once the checks pass.
    listed = [(name, i, item) for name, items in datasets.items() for i, item in enumerate(items)]
    hit, *manifests = at_once(
        lambda: _cached(stores, owner, key),
        *[lambda item=item: typed_manifest(item) for _, _, item in listed],
    )
    # By input key (a list input's first dataset), and each item of a list as "key[i]".
    schemas: dict[str, dict[str, ColumnType]] = {}
    rows: dict[str, int] = {}
    for (name, index, _), manifest in zip(listed, manifests, strict=True):
        schema = {c.name: c.effective_type for c in manifest.columns}
        schemas[f"{name}[{index}]"], rows[f"{name}[{index}]"] = schema, manifest.row_count
        schemas.setdefault(name, schema)
    check_columns(cls(), inputs, schemas, rows)
    inputs = canonical(cls, inputs)
    now = utcnow()
    record = SessionOperation(
        id=uuid.uuid4().hex,
        owner=owner,
        session_id=session.id,
        name=cls.name,
        input_data=body.input_data,
        created_at=now,
        updated_at=now,
        cache_key=key,
        inputs=inputs,
        datasets=read,
    )
    if hit is not None:
        record.status, record.progress, record.cached = OperationStatus.COMPLETED, 1.0, True
        record.output = hit.output.model_copy(update={"data": None})
        record.data_key, record.finished_at = hit.data_key, now
        record.result_of = hit.result_of or hit.id
        record.message = f"the result of operation {hit.id}, on the same data"
        record.timings = Timings(total_s=0.0)
        stores.operations.create(record)
        return record, False
    if cls.output == "dataset":
        record.output_dataset = uuid.uuid4().hex
    record.result_of = record.id
    stores.operations.create(record)
    aws.client("stepfunctions").start_execution(
        stateMachineArn=cfg.operation_state_machine_arn,
        name=run_name(record.id),
        input=json.dumps(
            {
                "operation": {
                    "owner": owner,
                    "id": record.id,
                    "output_dataset": record.output_dataset,
                }
            }
        ),
    )
    return record, True


def _cached(stores: Stores, owner: str, key: str) -> SessionOperation | None:
    """The completed operation whose result answers ``key``, while its outputs exist."""
    operation_id = cache.lookup(stores.table, owner, key)
    if operation_id is None:
        return None
    hit = stores.operations.find(owner, operation_id)
    if hit is None or hit.status is not OperationStatus.COMPLETED:
        return None
    if any(stores.datasets.find(owner, d) is None for d in hit.output.datasets):
        return None  # an output was deleted since: compute it again
    return hit


def get_operation(
    cfg: Settings, stores: Stores, owner: str, session_id: str, operation_id: str
) -> SessionOperation:
    """The session's operation, with its JSON output read in."""
    operation = _of_session(stores, owner, session_id, operation_id)
    if operation.data_key and operation.status is OperationStatus.COMPLETED:
        body = objects.find_bytes(cfg.data_bucket, operation.data_key)
        data = None if body is None else json.loads(body)
        operation.output = operation.output.model_copy(update={"data": data})
    cls = catalogue().get(operation.name)
    if operation.status is OperationStatus.IN_PROGRESS and cls is not None and cls.output == "data":
        # The output so far, from what the finished steps wrote (None until there is some).
        so_far = cls().partial(operation_run(operation))
        operation.output = operation.output.model_copy(update={"data": so_far})
    if operation.status is OperationStatus.IN_PROGRESS and operation.output_dataset:
        # A table result's parts written so far, as its steps recorded them.
        parts = sorted(operation.written.values(), key=lambda p: p.index)
        operation.output = operation.output.model_copy(update={"parts": parts})
    return operation


def _of_session(stores: Stores, owner: str, session_id: str, operation_id: str) -> SessionOperation:
    operation = stores.operations.get(owner, operation_id)
    if operation.session_id != session_id:
        raise NotFound(f"operation {operation_id} not found")
    return operation


def work_prefix(owner: str, operation_id: str) -> str:
    """Where a run of the operation keeps its scratch files and its JSON output."""
    return f"operations/{owner}/{operation_id}/"


def work_folder(owner: str, operation_id: str) -> str:
    """A run's scratch folder (``OperationRun.work``): the partials, removed when the run
    ends. Its Distributed Maps' item lists (``items/``) and results (``maps/``) sit beside
    it, a record of its Map Runs kept with the operation (as an ingest's with its run)."""
    return f"{work_prefix(owner, operation_id)}work/"


def operation_run(record: SessionOperation) -> OperationRun:
    """Where the record's run is, as its steps see it."""
    return OperationRun(
        owner=record.owner,
        id=record.id,
        inputs=record.inputs,
        datasets=record.datasets,
        output_dataset=record.output_dataset,
        work=work_folder(record.owner, record.id),
    )


def delete_operation(
    cfg: Settings, stores: Stores, owner: str, session_id: str, operation_id: str
) -> None:
    """Delete the operation, stopping it if it runs. Its outputs (datasets, JSON data) go
    with the last record that answers with them: while a cached answer to the same
    request remains, in any session, they stay, and the cache names that answer instead;
    so a cache entry never names a deleted record or outputs that are gone."""
    operation = _of_session(stores, owner, session_id, operation_id)
    stores.operations.delete(owner, operation_id)
    if operation.status in OPEN:
        sfn = aws.client("stepfunctions")
        arn = aws.execution_arn(cfg.operation_state_machine_arn, run_name(operation_id))
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            sfn.stop_execution(executionArn=arn, cause="operation deleted")
    result_of = operation.result_of or operation_id
    sharing = [
        o
        for o in stores.operations.sharing(owner, result_of)
        if o.id != operation_id and o.status is OperationStatus.COMPLETED
    ]
    if sharing and operation.status is OperationStatus.COMPLETED:
        cache.replace(stores.table, owner, operation.cache_key, operation_id, sharing[0].id)
        return
    cache.forget(stores.table, owner, operation.cache_key, operation_id)
    if operation.cached and operation.result_of is None:
        return  # a cached answer from before result_of: its run keeps the outputs
    # The run's folder holds its JSON output (a cached answer's data_key is there too).
    objects.delete_prefix(cfg.data_bucket, work_prefix(owner, result_of))
    planned = [operation.output_dataset] if operation.output_dataset else []
    for dataset_id in dict.fromkeys([*operation.output.datasets, *planned]):
        with contextlib.suppress(NotFound):
            dataset_service.delete_dataset(cfg, stores.datasets, owner, dataset_id)
        # Parts a running step wrote before any dataset record existed.
        for prefix in dataset_prefixes(owner, dataset_id):
            objects.delete_prefix(cfg.data_bucket, prefix)


def delete_operations(
    cfg: Settings, stores: Stores, owner: str, session_id: str, ids: list[str]
) -> list[str]:
    """Delete several of the session's operations; if any is not found, none is."""
    for operation_id in ids:
        _of_session(stores, owner, session_id, operation_id)
    unique = list(dict.fromkeys(ids))
    for operation_id in unique:
        delete_operation(cfg, stores, owner, session_id, operation_id)
    return unique
