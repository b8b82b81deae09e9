"""Runtime settings, read from the environment the catalogue gives each function."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

GIB = 1024**3
MIB = 1024**2


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)  # one validated instance is shared (settings())

    table: str = Field(alias="SLUICE_TABLE")
    upload_bucket: str = Field(alias="SLUICE_UPLOAD_BUCKET")
    data_bucket: str = Field(alias="SLUICE_DATA_BUCKET")
    ingest_state_machine_arn: str = Field("", alias="SLUICE_INGEST_STATE_MACHINE_ARN")
    export_state_machine_arn: str = Field("", alias="SLUICE_EXPORT_STATE_MACHINE_ARN")
    task_state_machine_arn: str = Field("", alias="SLUICE_TASK_STATE_MACHINE_ARN")
    operation_state_machine_arn: str = Field("", alias="SLUICE_OPERATION_STATE_MACHINE_ARN")
    train_state_machine_arn: str = Field("", alias="SLUICE_TRAIN_STATE_MACHINE_ARN")
    predict_state_machine_arn: str = Field("", alias="SLUICE_PREDICT_STATE_MACHINE_ARN")
    networks_function: str = Field("", alias="SLUICE_NETWORKS_FUNCTION")
    predict_function: str = Field("", alias="SLUICE_PREDICT_FUNCTION")
    import_state_machine_arn: str = Field("", alias="SLUICE_IMPORT_STATE_MACHINE_ARN")
    user_pool_id: str = Field("", alias="SLUICE_USER_POOL_ID")
    user_pool_client_id: str = Field("", alias="SLUICE_USER_POOL_CLIENT_ID")
    # The largest file a dataset may have. Files over 5 GiB (the most one presigned POST
    # carries) go up as multipart uploads. The ingest's Distributed Maps keep their chunk
    # lists and results in S3, so the chunk count is not held to the 256 KB state limit.
    max_upload_bytes: int = Field(100 * GIB, alias="SLUICE_MAX_UPLOAD_BYTES", gt=0)
    chunk_bytes: int = Field(64 * MIB, alias="SLUICE_CHUNK_BYTES", ge=1)
    # Compressed uploads over this many bytes are decompressed by the preparer's Fargate
    # task, not the Prepare Lambda; None: by kind (ingest.prepare_step.LAMBDA_PREPARE_BYTES).
    prepare_task_bytes: int | None = Field(None, alias="SLUICE_PREPARE_TASK_BYTES", gt=0)
    # How many steps of a Map run at once, where that is a small fixed number (the local
    # system's worker processes); 0 where it is not (Lambda scales out). Chunks and
    # buckets then come in multiples of it, so that no worker idles through a last round.
    workers: int = Field(0, alias="SLUICE_WORKERS", ge=0)
    # How many children a Distributed Map runs at once where Lambda scales out (the
    # catalogue's MAP_CONCURRENCY); where ``workers`` is set, that many instead.
    map_concurrency: int = Field(1000, alias="SLUICE_MAP_CONCURRENCY", gt=0)
    # Model import jobs (issue 19): the largest file, and what one user may have pending
    # (queued or processing) at once. The import function unpacks into /tmp (512 MB).
    max_import_bytes: int = Field(200 * MIB, alias="SLUICE_MAX_IMPORT_BYTES", gt=0)
    max_pending_imports: int = Field(3, alias="SLUICE_MAX_PENDING_IMPORTS", gt=0)
    max_pending_import_bytes: int = Field(300 * MIB, alias="SLUICE_MAX_PENDING_IMPORT_BYTES", gt=0)
    upload_url_ttl_s: int = Field(3600, alias="SLUICE_UPLOAD_URL_TTL_S", gt=0)
    # The deployment's Glue database, where each ready dataset is a table (issue 23, item 8);
    # empty where no function registers tables (then none is registered).
    glue_database: str = Field("", alias="SLUICE_GLUE_DATABASE")


_validated: dict[tuple[tuple[str, str], ...], Settings] = {}


def settings() -> Settings:
    """The settings of this process, read afresh so tests and the local runtime can change
    them; validated once for each set of values (the steps ask for them per request, and
    pydantic's validation cost ~130 us a call, the environment's read ~10)."""
    values = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SLUICE_")))
    found = _validated.get(values)
    if found is None:
        if len(_validated) > 64:  # tests change them often: keep only the recent
            _validated.clear()
        found = _validated[values] = Settings.model_validate(dict(values))
    return found
