"""Uploading a CSV: one presigned POST for a small file, parts in parallel for a large
one, resumed after an interruption (``sluice.client.resume``).

The bytes go straight to S3; the API only hands out the presigned POST or part URLs and
joins the parts. The ingest starts by itself once the file has landed:
``client.datasets.wait(id)`` follows it.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from urllib3 import encode_multipart_formdata

from sluice.client.datasets import Datasets
from sluice.client.errors import ApiError, ClientError
from sluice.client.http import Http
from sluice.client.resume import PartsUpload, ResumeStore
from sluice.client.transfer import TIMEOUT_S, CountingReader, OnBytes

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB
"""S3's smallest part (but the last)."""
DEFAULT_PART_BYTES = 64 * MIB


def default_part_bytes() -> int:
    """``SLUICE_PART_BYTES``, or 64 MiB."""
    return int(os.environ.get("SLUICE_PART_BYTES", DEFAULT_PART_BYTES))


@dataclass
class UploadOptions:
    """How a file goes up. A file larger than ``part_bytes`` goes in parts of that size,
    ``parallel`` at a time; each part (and the POST) is tried ``retries`` more times after
    a dropped connection or a 5xx."""

    part_bytes: int = field(default_factory=default_part_bytes)
    parallel: int = 4
    retries: int = 3
    resume: bool = True


@dataclass
class UploadStarted:
    """Told to ``on_start`` before any byte is sent."""

    dataset_id: str
    mode: str  # "post" or "parts"
    total_bytes: int
    sent_bytes: int = 0  # already sent by an earlier, interrupted run
    parts: int = 0
    parts_left: int = 0


class UploadInterrupted(ClientError):
    """Parts failed after their retries; what was sent is kept, and the same upload again
    resumes with the missing parts."""


def _s3_message(answer: requests.Response) -> str:
    found = re.search(r"<Message>(.*?)</Message>", answer.text, re.S)
    code = re.search(r"<Code>(.*?)</Code>", answer.text, re.S)
    words = " ".join(x.group(1) for x in (code, found) if x)
    return f"HTTP {answer.status_code}" + (f" {words}" if words else "")


def _retrying(
    action: Callable[[], requests.Response], retries: int, undo: Callable[[], None]
) -> requests.Response:
    """``action`` until S3 takes it; a 4xx is final (expired, refused), a 5xx or a dropped
    connection is tried again after a backoff."""
    for attempt in range(retries + 1):
        try:
            answer = action()
        except requests.RequestException as error:
            if attempt == retries:
                raise ClientError(f"S3 could not be reached: {error}") from error
        else:
            if answer.status_code < 500 or attempt == retries:
                return answer
        undo()
        time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def _put_part(url: str, data: bytes, on_bytes: OnBytes, retries: int) -> str:
    """PUT one part to its presigned URL; the ETag S3 answers."""
    reader = CountingReader(data, on_bytes)

    def send() -> requests.Response:
        reader.seek(0)
        reader.sent = 0
        return requests.put(url, data=reader, timeout=TIMEOUT_S)

    answer = _retrying(send, retries, lambda: on_bytes(-reader.sent))
    if answer.status_code != 200:
        on_bytes(-reader.sent)
        raise ClientError(f"S3 refused a part: {_s3_message(answer)}")
    return answer.headers["ETag"]


def post_file(
    upload: dict[str, Any],
    path: Path,
    content_type: str,
    on_bytes: OnBytes,
    retries: int = UploadOptions.retries,
    on_size: Callable[[int], None] | None = None,
) -> None:
    """Send ``path`` by the presigned POST ``upload`` (``{url, fields}``, as the API
    answers it), told of each chunk sent (``on_bytes``) and, first, of the request's whole
    size (``on_size``). A dropped connection or a 5xx is tried ``retries`` more times;
    :class:`ClientError` with S3's message when it refuses the file."""
    # The form's fields first and the file last, as S3 requires; built in memory
    # (a POST carries files up to the part size) and sent through a counting reader.
    fields: list[Any] = list(upload["fields"].items())
    fields.append(("file", (path.name, path.read_bytes(), content_type)))
    body, form_type = encode_multipart_formdata(fields)
    if on_size is not None:
        on_size(len(body))
    reader = CountingReader(body, on_bytes)

    def send() -> requests.Response:
        reader.seek(0)
        reader.sent = 0
        return requests.post(
            upload["url"], data=reader, headers={"Content-Type": form_type}, timeout=TIMEOUT_S
        )

    answer = _retrying(send, retries, lambda: on_bytes(-reader.sent))
    if answer.status_code not in (200, 201, 204):
        raise ClientError(f"S3 refused the upload: {_s3_message(answer)}")


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(size)


class Uploads:
    """Uploading files to datasets."""

    def __init__(self, http: Http, datasets: Datasets, store: ResumeStore | None = None) -> None:
        self.http = http
        self.datasets = datasets
        self.store = store or ResumeStore()

    def upload(
        self,
        file: str | Path,
        name: str | None = None,
        options: UploadOptions | None = None,
        on_start: Callable[[UploadStarted], None] | None = None,
        on_bytes: OnBytes | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Create a dataset (``name``: the file's stem by default; ``settings``: path,
        description, na_values, column_types, max_categories, tolerance) and send ``file``
        to it. The dataset as it is once the file has landed (its ingest then runs)."""
        path = Path(file)
        options = options or UploadOptions()
        if options.part_bytes < MIN_PART_BYTES:
            raise ClientError(
                f"part size {options.part_bytes}: S3's parts are {MIN_PART_BYTES} bytes or more"
            )
        size = path.stat().st_size
        started = on_start or (lambda _: None)
        counted = on_bytes or (lambda _: None)
        if size > options.part_bytes:
            state, dataset_id = self._resumable(path) if options.resume else (None, None)
            if state is None:
                if dataset_id is None:
                    dataset_id = self.datasets.create(name or path.stem, **settings)["dataset"][
                        "id"
                    ]
                state = self._begin_parts(path, dataset_id, options)
            return self._send_parts(path, state, options, started, counted)
        created = self.datasets.create(name or path.stem, **settings)
        return self._post(path, created, options, started, counted)

    # -- one presigned POST -------------------------------------------------------------

    def _post(
        self,
        path: Path,
        created: dict[str, Any],
        options: UploadOptions,
        on_start: Callable[[UploadStarted], None],
        on_bytes: OnBytes,
    ) -> dict[str, Any]:
        dataset_id, upload = created["dataset"]["id"], created["upload"]
        size = path.stat().st_size
        if size > upload.get("max_bytes", size):
            self.datasets.delete(dataset_id)
            raise ClientError(
                f"{path.name} is {size} bytes; the upload limit is {upload['max_bytes']}"
            )
        post_file(
            upload,
            path,
            "text/csv",
            on_bytes,
            options.retries,
            on_size=lambda size: on_start(UploadStarted(dataset_id, "post", size)),
        )
        return self.datasets.get(dataset_id)

    # -- parts --------------------------------------------------------------------------

    def _resumable(self, path: Path) -> tuple[PartsUpload | None, str | None]:
        """The interrupted upload of ``path`` to resume, if it still can be; else, when its
        part URLs expired but the file and the dataset are as they were, the dataset to
        send it to again (it has no file yet), so that a retry makes no second dataset."""
        state = self.store.load(self.http.api_url, path)
        if state is None:
            return None, None
        if state.matches(path) and not state.fresh and state.missing():
            state = self._presigned_again(state) or state
        # Completing needs no URL: an upload whose parts all landed completes at any time.
        usable = state.matches(path) and (state.fresh or not state.missing())
        if not usable:
            self._abort(state)  # its parts can never be completed now
            self.store.forget(state)
        try:
            self.datasets.get(state.dataset_id)
        except ApiError as error:
            if error.status != 404:
                raise
            self.store.forget(state)
            return None, None
        if usable:
            return state, state.dataset_id
        return None, (state.dataset_id if state.matches(path) else None)

    def _presigned_again(self, state: PartsUpload) -> PartsUpload | None:
        """``state`` with fresh URLs for its missing parts and every part S3 holds counted
        as sent; None when the upload is no longer open (aborted, or the dataset gone)."""
        try:
            renewal = self.http.request(
                "POST",
                f"/datasets/{state.dataset_id}/multipart-upload/parts",
                {"upload_id": state.upload_id, "numbers": [p["number"] for p in state.missing()]},
            )
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        urls = {part["number"]: part["url"] for part in renewal["parts"]}
        state.parts = [
            {**part, "url": urls.get(part["number"], part["url"])} for part in state.parts
        ]
        # A part whose answer was lost (the connection dropped after S3 took it) is kept.
        state.done.update({str(part["number"]): part["etag"] for part in renewal["landed"]})
        state.expires_at = time.time() + renewal["expires_in"]
        self.store.save(state)
        return state

    def _abort(self, state: PartsUpload) -> None:
        # Already ended, or the dataset is gone: then there is nothing left to drop.
        with contextlib.suppress(ClientError):
            self.http.request(
                "POST",
                f"/datasets/{state.dataset_id}/multipart-upload/abort",
                {"upload_id": state.upload_id},
            )

    def _begin_parts(self, path: Path, dataset_id: str, options: UploadOptions) -> PartsUpload:
        stat = path.stat()
        try:
            ticket = self.http.request(
                "POST",
                f"/datasets/{dataset_id}/multipart-upload",
                {"bytes": stat.st_size, "part_bytes": options.part_bytes},
            )
        except ApiError as error:
            if error.status == 413:  # over the limit: the dataset would stay empty
                self.datasets.delete(dataset_id)
            raise
        state = PartsUpload(
            api_url=self.http.api_url,
            file=str(path.resolve()),
            bytes=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            dataset_id=dataset_id,
            upload_id=ticket["upload_id"],
            part_bytes=ticket["part_bytes"],
            expires_at=time.time() + ticket["expires_in"],
            parts=ticket["parts"],
        )
        self.store.save(state)
        return state

    def _send_parts(
        self,
        path: Path,
        state: PartsUpload,
        options: UploadOptions,
        on_start: Callable[[UploadStarted], None],
        on_bytes: OnBytes,
    ) -> dict[str, Any]:
        missing = state.missing()
        sent = sum(part["bytes"] for part in state.parts if str(part["number"]) in state.done)
        on_start(
            UploadStarted(
                state.dataset_id, "parts", state.bytes, sent, len(state.parts), len(missing)
            )
        )

        def send(part: dict[str, Any]) -> None:
            data = _read(path, part["offset"], part["bytes"])
            etag = _put_part(part["url"], data, on_bytes, options.retries)
            state.done[str(part["number"])] = etag
            self.store.save(state)  # each part kept as soon as S3 took it

        failures: list[BaseException] = []
        pool = ThreadPoolExecutor(max(1, options.parallel), thread_name_prefix="sluice-part")
        try:
            futures = [pool.submit(send, part) for part in missing]
            for future in futures:
                if (error := future.exception()) is not None:
                    failures.append(error)
                    for other in futures:  # no new parts once one has failed
                        other.cancel()
        except BaseException:
            # Ctrl-C: no part starts after it (the ones in flight end, and are kept).
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        if failures:
            raise UploadInterrupted(
                f"upload interrupted after {len(state.done)} of {len(state.parts)} parts"
                f" ({failures[0]}); run the same upload again to send the rest"
            ) from failures[0]
        dataset: dict[str, Any] = self.http.request(
            "POST",
            f"/datasets/{state.dataset_id}/multipart-upload/complete",
            {"upload_id": state.upload_id, "parts": state.completed()},
        )
        self.store.forget(state)
        return dataset
