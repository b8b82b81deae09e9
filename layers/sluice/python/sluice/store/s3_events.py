"""The parts of an S3 ObjectCreated notification's records that sluice reads: the
dataset uploads' (on_upload) and the model imports' (on_model_upload)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    key: str = Field(description="URL-encoded, as S3 notifications give it.")
    size: int = 0
    eTag: str = ""


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3Record(BaseModel):
    s3: S3Entity
