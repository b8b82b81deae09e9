"""S3 objects: presigned uploads, ranged reads, streaming and cleanup."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sluice import aws


def presigned_post(
    bucket: str, key: str, max_bytes: int, expires_in: int, min_bytes: int = 1
) -> dict[str, Any]:
    """A presigned POST for ``key`` whose policy refuses bodies under ``min_bytes`` or
    over ``max_bytes``."""
    post: dict[str, Any] = aws.client("s3").generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Conditions=[["content-length-range", min_bytes, max_bytes]],
        ExpiresIn=expires_in,
    )
    return post


def presigned_get(bucket: str, key: str, expires_in: int, filename: str | None = None) -> str:
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    url: str = aws.client("s3").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires_in
    )
    return url


def read_range(bucket: str, key: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of an object (a ranged GET)."""
    if end <= start:
        return b""
    body = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
    data: bytes = body["Body"].read()
    return data


def object_size(bucket: str, key: str) -> int | None:
    """The object's size, or None if there is no such object."""
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if _no_such_object(exc):
            return None
        raise
    size: int = head["ContentLength"]
    return size


def delete_object(bucket: str, key: str) -> None:
    """Delete ``key`` (in a versioned bucket, its versions stay: see
    ``delete_every_version``)."""
    aws.client("s3").delete_object(Bucket=bucket, Key=key)


def delete_prefix(bucket: str, prefix: str, *, versions: bool = False) -> int:
    """Delete every object under ``prefix``; returns how many. ``versions``: every version
    and delete marker too (a versioned bucket; in another, the same as without)."""
    s3 = aws.client("s3")
    deleted = 0
    if versions:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            found = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            deleted += _delete_versions(bucket, found)
        return deleted
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def delete_every_version(bucket: str, key: str) -> None:
    """Delete ``key`` and, in a versioned bucket, every version of it and its delete
    markers: nothing of it is left to pay for or to read back."""
    found = _versions_of(bucket, key)
    _delete_versions(bucket, [*found.get("Versions", []), *found.get("DeleteMarkers", [])])


def delete_landed(bucket: str, key: str, etag: str) -> None:
    """Delete the copy of ``key`` whose ETag is ``etag`` (a file that just landed and is
    refused), and only it: in a versioned bucket the version it was written over is the
    key's again. In an unversioned bucket this deletes the key."""
    wanted = etag.strip('"')
    landed = [
        version
        for version in _versions_of(bucket, key).get("Versions", [])
        if version["ETag"].strip('"') == wanted
    ]
    # The newest such copy: an older one with the same bytes is what was accepted.
    _delete_versions(bucket, sorted(landed, key=lambda v: v["LastModified"])[-1:])


def _versions_of(bucket: str, key: str) -> dict[str, Any]:
    """Every version and delete marker of exactly ``key`` (one page: a key has few)."""
    found: dict[str, Any] = aws.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return {
        kind: [v for v in found.get(kind, []) if v["Key"] == key]
        for kind in ("Versions", "DeleteMarkers")
    }


def _delete_versions(bucket: str, versions: list[dict[str, Any]]) -> int:
    for start in range(0, len(versions), 1000):  # DeleteObjects takes 1,000 at a time
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions[start:][:1000]]
        aws.client("s3").delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    return len(versions)


def put_json(bucket: str, key: str, data: Any) -> None:
    """Store ``data`` (JSON-ready, or a pydantic model) as a JSON object."""
    body = data.model_dump_json() if hasattr(data, "model_dump_json") else json.dumps(data)
    aws.client("s3").put_object(
        Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json"
    )


def get_json(bucket: str, key: str) -> Any:
    """A JSON object's content."""
    return json.loads(get_bytes(bucket, key))


def put_bytes(bucket: str, key: str, body: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def get_bytes(bucket: str, key: str) -> bytes:
    data: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def find_bytes(bucket: str, key: str) -> bytes | None:
    """An object's content, or None if there is no such object."""
    try:
        return get_bytes(bucket, key)
    except aws.client("s3").exceptions.ClientError as exc:
        if _no_such_object(exc):
            return None
        raise


def _no_such_object(error: Any) -> bool:
    return error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")


PARALLEL_GETS = 16
"""Requests in flight at once when a step fetches many small objects."""


def get_all(bucket: str, keys: list[str], threads: int = PARALLEL_GETS) -> list[bytes]:
    """The content of each of ``keys``, in order, fetched ``threads`` at a time (small
    objects, one per chunk or part: a GET each waits mostly on the round trip)."""
    return concurrently(lambda key: get_bytes(bucket, key), keys, threads)


T = TypeVar("T")
R = TypeVar("R")
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def concurrently(work: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    """``work`` of each item, in order, ``threads`` at a time, on threads kept for the
    process (a warm Lambda's next call reuses them; starting 8 threads costs ~45 ms)."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="s3")
    return list(pool.map(work, items))


def end_threads() -> None:
    """End the threads ``concurrently`` keeps (each pool's, once its work is done); a
    later call starts new ones. For an idle process giving its memory back: what a
    kept thread allocated stays in its allocators' per-thread caches until it ends."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True)


def _forget_pools() -> None:
    # A forked child has none of its parent's threads: it starts its own pools.
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools)


def list_keys(bucket: str, prefix: str) -> list[str]:
    return list(list_etags(bucket, prefix))


def list_etags(bucket: str, prefix: str) -> dict[str, str]:
    """Each object's key under ``prefix`` and its ETag (which changes with its content)."""
    s3 = aws.client("s3")
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        etags.update((o["Key"], o["ETag"]) for o in page.get("Contents", []))
    return etags


def list_folders(bucket: str, prefix: str) -> list[str]:
    """The immediate 'folders' (common prefixes) under ``prefix``."""
    s3 = aws.client("s3")
    folders: list[str] = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    for page in pages:
        folders.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return folders
