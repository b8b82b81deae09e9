"""What the API does with training jobs: start (every check first), cancel, delete, and
links to the artifacts; predictions, of rows or of a whole dataset (a prediction job)."""

from __future__ import annotations

import contextlib
import json
import uuid

from pydantic import ValidationError

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import (
    DATASET_NAME_MAX,
    Dataset,
    DatasetCreate,
    DatasetStatus,
    utcnow,
)
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import typed_manifest
from sluice.datasets.service import create_dataset
from sluice.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from sluice.networks.graph_models import GraphBody
from sluice.networks.repository import GraphRepository
from sluice.networks.service import validate_graph
from sluice.store import objects
from sluice.training.categories import category_values
from sluice.training.checks import embedding_inputs, prediction_problems, training_problems
from sluice.training.models import (
    OPEN_STATUSES,
    ArtifactLink,
    ArtifactType,
    TrainCreate,
    TrainingChanges,
    TrainingJob,
    TrainingParams,
    TrainingStarted,
    TrainingStatus,
    job_prefix,
    run_name,
)
from sluice.training.predict_models import (
    PredictBody,
    PredictRequest,
    PredictResult,
    predict_remote,
)
from sluice.training.prediction_models import (
    PredictDataset,
    PredictionChanges,
    PredictionJob,
    load_preprocessing,
)
from sluice.training.prediction_models import run_name as prediction_run_name
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository

ARTIFACT_URL_TTL_S = 3600


class TrainingInvalid(Unprocessable):
    """The request disagrees with the dataset or the graph; ``details`` lists each problem."""

    code = "invalid_training"


def graph_key(owner: str, job_id: str) -> str:
    """The graph as it was when the job started (a later edit does not change the job)."""
    return f"{job_prefix(owner, job_id)}graph.json"


def check_training(graph_body: GraphBody, params: TrainingParams, dataset: Dataset) -> None:
    """Raise ``TrainingInvalid`` (422) with every problem of ``params`` for this graph and
    this ready dataset's columns (a category input's width is its values' count, or one
    index where its input node feeds an Embedding)."""
    schema = {c.name: c.effective_type for c in typed_manifest(dataset).columns}
    x = params.x_columns
    wanted = [c for cols in x.values() for c in cols] if isinstance(x, dict) else list(x)
    categories = category_values(dataset.owner, dataset.id, dataset.data_run or "", wanted)
    check = validate_graph(graph_body)
    embedded = embedding_inputs(graph_body)
    problems = training_problems(params, check, schema, categories, embedded)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TrainingInvalid(problems[0]["message"] + more, {"problems": problems})


def start_training(
    cfg: Settings,
    graphs: GraphRepository,
    datasets: DatasetRepository,
    jobs: TrainingJobRepository,
    owner: str,
    graph_id: str,
    body: TrainCreate,
) -> TrainingStarted:
    """Check the request against the graph and the dataset's schema (422 naming the
    column or node), record the job and start its run. With ``upload``, the dataset is
    made here and awaits its file; the run waits for it and checks the columns then."""
    graph = graphs.get(owner, graph_id)
    graph_body = GraphBody.model_validate(
        graph.model_dump(include={"name", "framework", "nodes", "edges"})
    )
    params = TrainingParams.model_validate(body.model_dump(exclude={"dataset_id", "upload"}))
    ticket = None
    data_run = None
    if body.upload is not None:
        validate_graph(graph_body)
        if body.upload.bytes > cfg.max_upload_bytes:
            raise PayloadTooLarge(
                f"upload.bytes: {body.upload.bytes} is over the {cfg.max_upload_bytes} allowed",
                {"field": "upload.bytes", "limit": cfg.max_upload_bytes},
            )
        created = create_dataset(cfg, datasets, owner, _upload_dataset(body.upload.filename))
        dataset_id, ticket = created.dataset.id, created.upload
    else:
        assert body.dataset_id is not None  # one of the two, by TrainCreate's validator
        dataset = datasets.get(owner, body.dataset_id)
        if dataset.status is not DatasetStatus.READY or not dataset.data_run:
            raise Conflict(
                f"dataset {body.dataset_id} is not ready (status {dataset.status.value}); "
                "start the training once it is",
                {"status": dataset.status.value},
            )
        check_training(graph_body, params, dataset)
        dataset_id, data_run = dataset.id, dataset.data_run
    now = utcnow()
    job = TrainingJob(
        id=uuid.uuid4().hex,
        owner=owner,
        graph_id=graph_id,
        dataset_id=dataset_id,
        params=params,
        created_at=now,
        updated_at=now,
        data_run=data_run,
    )
    job.run = run_name(job.id)
    objects.put_json(cfg.data_bucket, graph_key(owner, job.id), graph_body.model_dump(mode="json"))
    jobs.create(job)
    aws.client("stepfunctions").start_execution(
        stateMachineArn=cfg.train_state_machine_arn,
        name=job.run,
        input=json.dumps({"job": {"owner": owner, "id": job.id}}),
    )
    return TrainingStarted(**job.model_dump(), owner=owner, upload=ticket)


def _stop_execution(machine: str, run: str, cause: str) -> None:
    """Stop a job's execution; Step Functions stops its task with it (StopTask)."""
    sfn = aws.client("stepfunctions")
    with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
        sfn.stop_execution(executionArn=aws.execution_arn(machine, run), cause=cause)


def _stop(cfg: Settings, job: TrainingJob, cause: str) -> None:
    """Stop the training job's execution, and so its task."""
    if job.run:
        _stop_execution(cfg.train_state_machine_arn, job.run, cause)


def cancel_job(cfg: Settings, jobs: TrainingJobRepository, owner: str, job_id: str) -> TrainingJob:
    """Stop a queued or running job: it ends ``cancelled`` with the epochs it finished
    (the trainer, stopped, writes its history so far)."""
    job = jobs.get(owner, job_id)
    if job.status not in OPEN_STATUSES:
        raise Conflict(f"training job {job_id} has already ended ({job.status.value})")
    # Open, not the status just read: the task may have made a queued job running since.
    cancelled = jobs.update(
        owner,
        job_id,
        TrainingChanges(status=TrainingStatus.CANCELLED, finished_at=utcnow()),
        only_if_status=OPEN_STATUSES,
    )
    if cancelled is None:  # it ended meanwhile
        return jobs.get(owner, job_id)
    _stop(cfg, cancelled, "cancelled")
    return cancelled


def delete_job(
    cfg: Settings,
    jobs: TrainingJobRepository,
    predictions: PredictionJobRepository,
    owner: str,
    job_id: str,
) -> None:
    """Delete the job (stopping it first if it runs) and its files. Its queued or running
    prediction jobs are cancelled first: they read the model the delete removes."""
    job = jobs.get(owner, job_id)
    for prediction in _open_predictions(predictions, owner, job_id):
        with contextlib.suppress(Conflict, NotFound):  # it ended or went meanwhile
            cancel_prediction(cfg, predictions, owner, prediction.id)
    jobs.delete(owner, job_id)
    if job.status in OPEN_STATUSES:
        _stop(cfg, job, "deleted")
    objects.delete_prefix(cfg.data_bucket, job_prefix(owner, job_id))


def _open_predictions(
    predictions: PredictionJobRepository, owner: str, job_id: str
) -> list[PredictionJob]:
    """The training job's queued and running prediction jobs, every page of them."""
    found: list[PredictionJob] = []
    token: str | None = None
    while True:
        page, token = predictions.list(owner, 100, token, training_job_id=job_id)
        found += [p for p in page if p.status in OPEN_STATUSES]
        if token is None:
            return found


def artifact_link(
    cfg: Settings, jobs: TrainingJobRepository, owner: str, job_id: str, kind: ArtifactType
) -> ArtifactLink:
    """A presigned GET of one of the job's files; 404 while it has none of that type."""
    job = jobs.get(owner, job_id)
    name = getattr(job.artifacts, kind.value)
    if not name:
        raise NotFound(
            f"training job {job_id} has no {kind.value} artifact (status {job.status.value})",
            {"status": job.status.value, "type": kind.value},
        )
    url = objects.presigned_get(
        cfg.data_bucket, f"{job_prefix(owner, job_id)}{name}", ARTIFACT_URL_TTL_S, name
    )
    return ArtifactLink(type=kind, url=url, expires_in=ARTIFACT_URL_TTL_S)


def predict_rows(
    cfg: Settings, jobs: TrainingJobRepository, owner: str, job_id: str, body: PredictBody
) -> PredictResult:
    """The job's model's outputs for up to 1,000 rows, from the function that has
    TensorFlow; 409 unless the job succeeded (checked here: a refusal wakes nothing)."""
    _trained(jobs, owner, job_id)
    return predict_remote(
        cfg.predict_function, PredictRequest(owner=owner, job_id=job_id, body=body)
    )


class PredictionInvalid(Unprocessable):
    """The dataset does not fit the model's inputs; ``details`` lists each problem."""

    code = "invalid_prediction"


def _trained(jobs: TrainingJobRepository, owner: str, job_id: str) -> TrainingJob:
    """The owner's training job with a model (404 for another's, 409 before success)."""
    job = jobs.get(owner, job_id)
    if job.status is not TrainingStatus.SUCCEEDED or not job.artifacts.final:
        raise Conflict(
            f"training job {job_id} has no trained model (status {job.status.value})",
            {"status": job.status.value},
        )
    return job


def start_prediction(
    cfg: Settings,
    jobs: TrainingJobRepository,
    datasets: DatasetRepository,
    predictions: PredictionJobRepository,
    owner: str,
    job_id: str,
    body: PredictDataset,
) -> PredictionJob:
    """Check the dataset against the model's inputs (422 naming the column), record the
    prediction job and start its run (statemachines/predict_dataset.asl.json)."""
    trained = _trained(jobs, owner, job_id)
    dataset = datasets.get(owner, body.dataset_id)
    if dataset.status is not DatasetStatus.READY or not dataset.data_run:
        raise Conflict(
            f"dataset {body.dataset_id} is not ready (status {dataset.status.value})",
            {"status": dataset.status.value},
        )
    saved = load_preprocessing(
        cfg.data_bucket, f"{job_prefix(owner, job_id)}{trained.artifacts.preprocessing}"
    )
    schema = {c.name: c.effective_type for c in typed_manifest(dataset).columns}
    problems = prediction_problems(
        saved.inputs, saved.categories, schema, body.keep_columns, saved.calendared
    )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PredictionInvalid(problems[0]["message"] + more, {"problems": problems})
    now = utcnow()
    job = PredictionJob(
        id=uuid.uuid4().hex,
        owner=owner,
        training_job_id=job_id,
        dataset_id=dataset.id,
        keep_columns=body.keep_columns,
        name=body.name or f"{dataset.name} predicted"[:200],
        created_at=now,
        updated_at=now,
        data_run=dataset.data_run,
    )
    job.run = prediction_run_name(job.id)
    predictions.create(job)
    aws.client("stepfunctions").start_execution(
        stateMachineArn=cfg.predict_state_machine_arn,
        name=job.run,
        input=json.dumps({"job": {"owner": owner, "id": job.id}, "kind": "prediction"}),
    )
    return job


def cancel_prediction(
    cfg: Settings, predictions: PredictionJobRepository, owner: str, job_id: str
) -> PredictionJob:
    """Stop a queued or running prediction job (its execution and its task): it ends
    ``cancelled`` and the parts written so far are removed."""
    job = predictions.get(owner, job_id)
    if job.status not in OPEN_STATUSES:
        raise Conflict(f"prediction job {job_id} has already ended ({job.status.value})")
    cancelled = predictions.update(
        owner,
        job_id,
        PredictionChanges(status=TrainingStatus.CANCELLED, finished_at=utcnow()),
        only_if_status=OPEN_STATUSES,
    )
    if cancelled is None:  # it ended meanwhile
        return predictions.get(owner, job_id)
    if cancelled.run:
        _stop_execution(cfg.predict_state_machine_arn, cancelled.run, "cancelled")
    return cancelled


def _upload_dataset(filename: str) -> DatasetCreate:
    """The dataset an uploaded file becomes, named for the file (the last 200 characters
    a dataset's name may have); a name no dataset may have is a 422 on the filename."""
    name = filename.rsplit("/", 1)[-1][-DATASET_NAME_MAX:]
    try:
        return DatasetCreate(name=name, path="training", allow_duplicate=True)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise Unprocessable(
            f"upload.filename: {problem} as a dataset's name", {"field": "upload.filename"}
        ) from exc
