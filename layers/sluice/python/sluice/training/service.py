"""What the API does with training jobs: start (every check first), cancel, delete, and
links to the artifacts."""

from __future__ import annotations

import contextlib
import json
import uuid

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import Dataset, DatasetCreate, DatasetStatus, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import typed_manifest
from sluice.datasets.service import create_dataset
from sluice.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from sluice.networks.graph_models import GraphBody
from sluice.networks.repository import GraphRepository
from sluice.networks.service import validate_graph
from sluice.store import objects
from sluice.training.categories import category_values
from sluice.training.checks import training_problems
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
from sluice.training.repository import TrainingJobRepository

ARTIFACT_URL_TTL_S = 3600


class TrainingInvalid(Unprocessable):
    """The request disagrees with the dataset or the graph; ``details`` lists each problem."""

    code = "invalid_training"


def graph_key(owner: str, job_id: str) -> str:
    """The graph as it was when the job started (a later edit does not change the job)."""
    return f"{job_prefix(owner, job_id)}graph.json"


def check_training(graph_body: GraphBody, params: TrainingParams, dataset: Dataset) -> None:
    """Raise ``TrainingInvalid`` (422) with every problem of ``params`` for this graph and
    this ready dataset's columns (a category input's width is its values' count)."""
    schema = {c.name: c.effective_type for c in typed_manifest(dataset).columns}
    x = params.x_columns
    wanted = [c for cols in x.values() for c in cols] if isinstance(x, dict) else list(x)
    categories = category_values(dataset.owner, dataset.id, dataset.data_run or "", wanted)
    problems = training_problems(params, validate_graph(graph_body), schema, categories)
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
        name = body.upload.filename.rsplit("/", 1)[-1]
        created = create_dataset(
            cfg, datasets, owner, DatasetCreate(name=name, path="training", allow_duplicate=True)
        )
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


def _stop(cfg: Settings, job: TrainingJob, cause: str) -> None:
    """Stop the job's execution; Step Functions stops its task with it (StopTask)."""
    if job.run:
        sfn = aws.client("stepfunctions")
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            sfn.stop_execution(
                executionArn=aws.execution_arn(cfg.train_state_machine_arn, job.run), cause=cause
            )


def cancel_job(cfg: Settings, jobs: TrainingJobRepository, owner: str, job_id: str) -> TrainingJob:
    """Stop a queued or running job: it ends ``cancelled`` with the epochs it finished
    (the trainer, stopped, writes its history so far)."""
    job = jobs.get(owner, job_id)
    if job.status not in OPEN_STATUSES:
        raise Conflict(f"training job {job_id} has already ended ({job.status.value})")
    cancelled = jobs.update(
        owner,
        job_id,
        TrainingChanges(status=TrainingStatus.CANCELLED, finished_at=utcnow()),
        only_if_status=job.status,
    )
    if cancelled is None:  # it ended meanwhile
        return jobs.get(owner, job_id)
    _stop(cfg, job, "cancelled")
    return cancelled


def delete_job(cfg: Settings, jobs: TrainingJobRepository, owner: str, job_id: str) -> None:
    """Delete the job (stopping it first if it runs) and its files."""
    job = jobs.get(owner, job_id)
    jobs.delete(owner, job_id)
    if job.status in OPEN_STATUSES:
        _stop(cfg, job, "deleted")
    objects.delete_prefix(cfg.data_bucket, job_prefix(owner, job_id))


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
    job = jobs.get(owner, job_id)
    if job.status is not TrainingStatus.SUCCEEDED or not job.artifacts.final:
        raise Conflict(
            f"training job {job_id} has no trained model (status {job.status.value})",
            {"status": job.status.value},
        )
    return predict_remote(
        cfg.predict_function, PredictRequest(owner=owner, job_id=job_id, body=body)
    )
