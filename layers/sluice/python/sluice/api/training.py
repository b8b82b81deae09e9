"""/networks/.../train and /networks/training-jobs: train a graph on a dataset (a Fargate
task with TensorFlow; never this Lambda), follow it, cancel it, download its artifacts,
predict with it: rows at once, or a whole dataset as a prediction job
(/networks/prediction-jobs) whose output is a new dataset."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import (
    GraphId,
    PredictionJobId,
    TrainingJobId,
    dataset_repository,
    graph_repository,
    prediction_repository,
    training_repository,
)
from sluice.api.errors import ERROR_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.training import service
from sluice.training.models import (
    ArtifactLink,
    ArtifactType,
    TrainCreate,
    TrainingJob,
    TrainingPage,
    TrainingStarted,
    TrainingStatus,
)
from sluice.training.predict_models import PredictBody, PredictResult
from sluice.training.prediction_models import PredictDataset, PredictionJob, PredictionPage

router = APIGatewayRouter()

REFUSED = (
    "The request disagrees with the dataset's columns or the graph's inputs and outputs "
    "(invalid_training: one entry in details.problems per column or node), or the graph "
    "breaks validation rules (invalid_graph)"
)


@router.post(
    "/networks/graphs/<graph_id>/train",
    summary="Train a graph on a dataset",
    responses=documented(
        {
            202: "Queued (with upload: the presigned POST of the CSV)",
            409: "The dataset is not ready",
            413: "upload.bytes is over the upload limit",
            422: REFUSED,
        },
        json_body=True,
    ),
)
def train_graph(
    graph_id: GraphId, body: Annotated[TrainCreate, Body()]
) -> Response[TrainingStarted]:
    """Check the columns against the dataset's schema and the graph's input and output
    shapes, then queue a training job (a Fargate task); follow it at
    ``GET /networks/training-jobs/{id}``. With ``upload`` instead of ``dataset_id``, the
    answer's ``upload`` is a presigned POST: the CSV becomes a dataset through the normal
    ingest, and the job starts by itself once it is ready (its columns checked then; a
    failed ingest fails the job with its reason)."""
    job = service.start_training(
        settings(),
        graph_repository(),
        dataset_repository(),
        training_repository(),
        current_owner(router),
        graph_id,
        body,
    )
    return json_response(202, job)


@router.get("/networks/training-jobs", summary="List training jobs", responses=ERROR_RESPONSES)
def list_training_jobs(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
    graph_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    status: Annotated[TrainingStatus | None, Query()] = None,
) -> TrainingPage:
    """The caller's training jobs, a page at a time, optionally of one graph or status."""
    items, token = training_repository().list(
        current_owner(router), limit, next_token, graph_id, status
    )
    return TrainingPage(items=items, next_token=token)


@router.get(
    "/networks/training-jobs/<job_id>", summary="Get a training job", responses=ERROR_RESPONSES
)
def get_training_job(job_id: TrainingJobId) -> TrainingJob:
    """Status, progress, the last epoch's values, history, evaluation, timings, error."""
    return training_repository().get(current_owner(router), job_id)


@router.post(
    "/networks/training-jobs/<job_id>/cancel",
    summary="Cancel a training job",
    responses=documented({409: "Already ended"}),
)
def cancel_training_job(job_id: TrainingJobId) -> TrainingJob:
    """Stop a queued or running job (its execution and its task); it ends ``cancelled``
    with the history of the epochs it finished."""
    return service.cancel_job(settings(), training_repository(), current_owner(router), job_id)


@router.delete(
    "/networks/training-jobs/<job_id>",
    summary="Delete a training job",
    responses=documented({204: "Deleted"}),
)
def delete_training_job(job_id: TrainingJobId) -> Response[str]:
    """Delete a job (stopping it if it runs) and its artifacts; its queued or running
    prediction jobs are cancelled."""
    service.delete_job(
        settings(),
        training_repository(),
        prediction_repository(),
        current_owner(router),
        job_id,
    )
    return json_response(204, "")


@router.get(
    "/networks/training-jobs/<job_id>/artifact",
    summary="Download a training job's artifact",
    responses=documented({404: "No such job, or no artifact of that type yet"}),
)
def training_artifact(
    job_id: TrainingJobId,
    type: Annotated[ArtifactType, Query(description="final or best .keras, or the CSV log")] = (
        ArtifactType.FINAL
    ),
) -> ArtifactLink:
    """A presigned URL of the final model, the best model (``.keras``), or the CSV log."""
    return service.artifact_link(
        settings(), training_repository(), current_owner(router), job_id, type
    )


@router.post(
    "/networks/training-jobs/<job_id>/predict",
    summary="Predict with a trained job's model",
    responses=documented(
        {
            409: "The job has no trained model (not succeeded)",
            422: "A row the model cannot take (its place named)",
            503: "The TensorFlow function failed to answer",
        },
        json_body=True,
    ),
)
def predict(job_id: TrainingJobId, body: Annotated[PredictBody, Body()]) -> PredictResult:
    """The final model's outputs for up to 1,000 rows: ``instances`` (values in x_columns
    order) or ``records`` (column name to value). The model standardises its inputs as in
    training; for a category label ``classes`` names each row's most likely class."""
    return service.predict_rows(
        settings(), training_repository(), current_owner(router), job_id, body
    )


@router.post(
    "/networks/training-jobs/<job_id>/predictions",
    summary="Predict a whole dataset with a trained job's model",
    responses=documented(
        {
            202: "Queued: the prediction job",
            409: "The job has no trained model, or the dataset is not ready",
            422: "The dataset lacks an input column, or has it of a type the model cannot "
            "take (invalid_prediction: one entry in details.problems per column)",
        },
        json_body=True,
    ),
)
def predict_dataset(
    job_id: TrainingJobId, body: Annotated[PredictDataset, Body()]
) -> Response[PredictionJob]:
    """Check the dataset's columns against the model's inputs, then queue a prediction
    job (a Fargate task reading the dataset row group by row group); follow it at
    ``GET /networks/prediction-jobs/{id}``. Once it succeeded, ``output_dataset_id`` is a
    ready dataset: the input's rows in its order, ``keep_columns`` first, then
    ``prediction`` (or ``prediction_0``... for several outputs) and, for a category
    label, ``predicted_class``; a row missing an input value has null predictions."""
    job = service.start_prediction(
        settings(),
        training_repository(),
        dataset_repository(),
        prediction_repository(),
        current_owner(router),
        job_id,
        body,
    )
    return json_response(202, job)


@router.get(
    "/networks/training-jobs/<job_id>/predictions",
    summary="List a training job's prediction jobs",
    responses=documented({404: "No such training job"}),
)
def list_prediction_jobs(
    job_id: TrainingJobId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> PredictionPage:
    """The prediction jobs of one of the caller's training jobs, a page at a time."""
    owner = current_owner(router)
    training_repository().get(owner, job_id)
    items, token = prediction_repository().list(owner, limit, next_token, job_id)
    return PredictionPage(items=items, next_token=token)


@router.get(
    "/networks/prediction-jobs/<prediction_id>",
    summary="Get a prediction job",
    responses=ERROR_RESPONSES,
)
def get_prediction_job(prediction_id: PredictionJobId) -> PredictionJob:
    """Status, progress, rows done, timings, error, and ``output_dataset_id`` once done."""
    return prediction_repository().get(current_owner(router), prediction_id)


@router.post(
    "/networks/prediction-jobs/<prediction_id>/cancel",
    summary="Cancel a prediction job",
    responses=documented({409: "Already ended"}),
)
def cancel_prediction_job(prediction_id: PredictionJobId) -> PredictionJob:
    """Stop a queued or running prediction job; it ends ``cancelled`` and leaves no dataset."""
    return service.cancel_prediction(
        settings(), prediction_repository(), current_owner(router), prediction_id
    )
