"""Store a presigned POST's file as the form parser wrote it, never whole in memory.

moto's server parses a form POST with werkzeug, which writes the form's file to a
temporary file as the request comes in (in memory up to 500 KB, then in the temporary
folder on disk). moto then read that file into one bytes object, and storing the object
copied those bytes into the object's own file: a dataset's upload (up to S3's 5 GiB POST
limit) was held whole in the system's process (572 MiB for a 572 MiB file), besides
going through the disk once.

``install()`` changes two things, and keeps every answer moto's (the same stored bytes,
ETag, policy checks and notifications):

- werkzeug writes a form's file where a stored object of its size lives
  (:func:`~sluice.local.patches.s3_spool.spooled_file`: in memory up to moto's buffer
  size, then in tmpfs while the machine's memory allows, else on disk);
- an S3 POST keeps that file as a :class:`PostedFile` instead of reading it, and storing
  the object adopts the file as the object's buffer (``s3_writes``), as a completed
  upload in parts adopts its joined parts.

moto and werkzeug are pinned exactly (``pyproject.toml``): this touches their internals.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

from moto.core.request import Request
from moto.s3.responses import S3Response
from moto.settings import get_s3_default_key_buffer_size

from sluice.local.patches.replace import replace_once, replaced, restore
from sluice.local.patches.s3_spool import spooled_file

FILE_FIELD = "file"
"""The form field an S3 POST's object comes in."""


class PostedFile:
    """A POST's file, in the file the form parser wrote it to: its size, and the file."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file: Any = file
        self.file.seek(0, os.SEEK_END)
        self._size = self.file.tell()
        self.file.seek(0)

    def __len__(self) -> int:
        return self._size


def install() -> None:
    """Patch werkzeug's file streams for moto's requests and moto's S3 POSTs. Safe to
    call more than once."""
    replace_once(Request, "_get_file_stream", _spooled_as_objects)
    replace_once(S3Response, "setup_class", _posted_file_kept)


def uninstall() -> None:
    """Put moto and werkzeug back as they were."""
    restore(S3Response, "setup_class")
    restore(Request, "_get_file_stream")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(Request, "_get_file_stream") and replaced(S3Response, "setup_class")


def _spooled_as_objects(get_file_stream: Any) -> Any:
    def file_stream(
        self: Request,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # The request's length bounds its file's: a file that will be an object is
        # written where an object of that size is kept, so storing it copies nothing.
        size = content_length or total_content_length or 0
        file: IO[bytes] = spooled_file(get_s3_default_key_buffer_size(), size)
        return file

    return file_stream


def _posted_file_kept(setup_class: Any) -> Any:
    def setup(self: S3Response, request: Request, *args: Any, **kwargs: Any) -> None:
        uploaded = _posted_file(request)
        if uploaded is None:
            setup_class(self, request, *args, **kwargs)
            return
        file = uploaded.stream
        # moto reads the form's file whole (and closes it): it reads an empty one instead,
        # which stays in the form, so that closing the request leaves the object's file.
        uploaded.stream = io.BytesIO()
        setup_class(self, request, *args, **kwargs)
        self.body = self.raw_body = PostedFile(file)

    return setup


def _posted_file(request: Request) -> Any:
    """The file of an S3 POST form (``key``, the policy fields, ``file``), or None."""
    if request.method != "POST" or request.mimetype != "multipart/form-data":
        return None
    if "key" not in request.form or list(request.files) != [FILE_FIELD]:
        return None
    return request.files[FILE_FIELD]


__all__ = ["PostedFile", "install", "installed", "uninstall"]
