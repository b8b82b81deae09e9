"""Answer the embedded S3's plain object GETs without Flask and moto's request dispatch.

Every request to moto's server goes through Flask (a request context, URL routing, CORS's
after-request hook) and moto's generic set-up of a response object (the query string,
the body, the account, the region, a request id), then S3's own checks: about 0.7 ms of
the server's CPU for a GET whose answer is a few headers and a slice of a file (0.9 ms in
all, against 0.2 ms for the socket and HTTP framing alone). A part's column is read in
one ranged GET per row group, so an operation's reads are mostly such requests
(histogram: 159 of its ~204), and the server, one process, answers them one at a time.

``install()`` answers a GET here when it is the plain kind every SDK read sends, and
hands anything else to moto as before: no query string (no versionId, partNumber, acl,
response-* overrides), no body, no header beyond an SDK's signing and tracing headers
and a single ``Range`` (no conditional headers, no Origin, no SSE-C), SigV4 credentials
scoped to s3, a path-style URL on this machine (127.0.0.1 or localhost), a key of plain
characters (nothing percent-encoded), a bucket with no policy, logging or versioning and
a key outside the archive storage classes, moto's request authentication off and its
recorder off. Everything that then decides the answer is moto's own: the key's
``response_dict`` and metadata, ``_send_response`` (the request id, the default
Content-Type), ``_handle_range_header`` (206 and Content-Range, or 200, and which
headers go), ``flask.Response`` and its WSGI headers, and the one header Flask's CORS
adds; an unsatisfiable range goes back to moto, which builds the error.
tests/unit/local/test_s3_plain_gets.py holds the answers byte for byte against moto's
(status, headers in order, body), all but the per-request ids and Date.

moto, werkzeug and flask are pinned exactly (``pyproject.toml``): this reads their
internals.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.core.utils import extract_region_from_aws_authorization
from moto.iam.models import iam_backends
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import S3ClientError
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.s3.utils import ARCHIVE_STORAGE_CLASSES
from moto.settings import DISABLE_GLOBAL_CORS
from moto.utilities.utils import PARTITION_NAMES, get_partition

from sluice.local.patches import s3_reads
from sluice.local.patches.replace import replace_once, replaced, restore

DEFAULT_ACCOUNT_ID = "123456789012"
NO_ACCESS_KEY = "AKIAEXAMPLE"
"""The access key moto takes a request's to be when its own doesn't look like AWS's."""

_SDK_HEADERS = frozenset(
    {
        "HTTP_HOST",
        "HTTP_RANGE",
        "HTTP_AUTHORIZATION",
        "HTTP_X_AMZ_DATE",
        "HTTP_X_AMZ_CONTENT_SHA256",
        "HTTP_USER_AGENT",
        "HTTP_AMZ_SDK_INVOCATION_ID",
        "HTTP_AMZ_SDK_REQUEST",
        "HTTP_ACCEPT",
        "HTTP_ACCEPT_ENCODING",
        "HTTP_CONNECTION",
        "HTTP_X_AMZ_CHECKSUM_MODE",
        "HTTP_X_AMZ_API_VERSION",
    }
)
"""The request headers a plain GET may carry: what boto3 and Arrow's S3 client send."""

_LOCAL_HOST = re.compile(r"(?:127\.0\.0\.1|localhost)(?::\d+)?")
_PATH = re.compile(r"/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([A-Za-z0-9_.=/-]+)")
"""A path-style bucket and a key of characters no client percent-encodes (none a '+',
which some read as a space): the key is then the path as it came."""
_RANGE = re.compile(r"bytes=\d*-\d*")
_S3_SCOPE = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/,]+/\d{8}/[a-z0-9-]+/s3/aws4_request,")


def install() -> None:
    """Answer plain object GETs before Flask. Safe to call more than once; needs
    ``s3_reads`` (its lazy bodies) installed, else every GET goes to moto as before."""
    replace_once(DomainDispatcherApplication, "__call__", _plain_gets_first)


def uninstall() -> None:
    """Send every request to moto again (for tests comparing with moto's own answers)."""
    restore(DomainDispatcherApplication, "__call__")


def installed() -> bool:
    """Whether ``install()`` has patched moto's server in this process."""
    return replaced(DomainDispatcherApplication, "__call__")


def _plain_gets_first(call: Callable[..., Any]) -> Callable[..., Any]:
    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        response = plain_get(environ)
        if response is None:
            return call(self, environ, start_response)  # type: ignore[no-any-return]
        return response(environ, start_response)  # type: ignore[no-any-return]

    return __call__


def _plain_request(environ: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(bucket, key, access key, region) of a plain GET, else None."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
        return None
    if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
        return None
    if environ.get("CONTENT_TYPE") not in (None, "", "application/xml"):  # Arrow sends XML's
        return None
    for name in environ:
        if name.startswith("HTTP_") and name not in _SDK_HEADERS:
            return None
    if not _LOCAL_HOST.fullmatch(environ.get("HTTP_HOST", "")):
        return None
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not _S3_SCOPE.match(authorization):
        return None
    ranged = environ.get("HTTP_RANGE")
    if ranged is not None and not _RANGE.fullmatch(ranged):
        return None
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    path = environ.get("PATH_INFO", "")
    found = _PATH.fullmatch(path)
    if found is None or raw != path or "//" in path:
        return None
    region = extract_region_from_aws_authorization(authorization)
    if region is None:
        return None
    # BaseResponse.get_access_key: a key of AWS's shape, else moto's stand-in.
    access = BaseResponse.access_key_regex.search(authorization)
    return found.group(1), found.group(2), access.group(1) if access else NO_ACCESS_KEY, region


def _known_to_iam(access_key: str) -> bool:
    """Whether an IAM user holds ``access_key`` (moto then records its last use)."""
    for account in list(iam_backends.values()):
        for partition in PARTITION_NAMES:
            if access_key in account[partition].access_keys:
                return True
    return False


class _RangeRequest:
    """What moto's ``_handle_range_header`` reads of a request: its method and Range."""

    method = "GET"

    def __init__(self, ranged: str) -> None:
        self.headers = {"range": ranged}


def plain_get(environ: dict[str, Any]) -> Response | None:
    """moto's answer to a plain GET of an object, built without its dispatch; None for
    any other request (and for a plain GET moto answers with an error)."""
    if not s3_reads.installed() or recorder._user_enabled:
        return None
    if math.isfinite(settings.INITIAL_NO_AUTH_ACTION_COUNT):  # moto checks IAM: let it
        return None
    request = _plain_request(environ)
    if request is None:
        return None
    bucket_name, key_name, access_key, region = request
    if _known_to_iam(access_key) or "x-moto-account-id" in environ:
        return None
    account = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
    backend = s3_backends[account][get_partition(region)]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None or bucket.policy or bucket.logging or bucket.is_versioned:
        return None
    key = backend.get_object(bucket_name, key_name)
    if key is None or key.storage_class in ARCHIVE_STORAGE_CLASSES:
        return None
    ranged = environ.get("HTTP_RANGE")
    # S3Response.get_object, as moto answers a GET with none of the above.
    headers: dict[str, Any] = {}
    if key.version_id != "null":
        headers["x-amz-version-id"] = key.version_id
    headers.update(key.response_dict)
    if environ.get("HTTP_X_AMZ_CHECKSUM_MODE") == "ENABLED" and key.checksum_algorithm:
        checksum = key.checksum_value
        if key.checksum_type == "COMPOSITE":
            checksum = f"{key.checksum_value}-{key.checksum_parts}"
        headers[f"x-amz-checksum-{key.checksum_algorithm.lower()}"] = checksum
        if key.checksum_type:
            headers["x-amz-checksum-type"] = key.checksum_type
    headers.update(key.metadata)
    headers.update({"Accept-Ranges": "bytes"})
    mode = "range" if ranged else "stream"
    # A range or object of SENT_FROM_FILE_BYTES or more is a RangeBlocks, which the
    # server sends from the object's file (keep_alive), its bytes never in Python.
    body = s3_reads.lazy_value(key, mode, streams=True, stream_min=SENT_FROM_FILE_BYTES)
    # S3Response.key_response: the request id, the default Content-Type, then the range.
    status, headers, body = S3Response._send_response((200, headers, body))
    if ranged:
        try:
            status, headers, body = S3Response._handle_range_header(
                _RANGE_SELF, _RangeRequest(ranged), headers, body
            )
        except S3ClientError:
            return None  # moto's own error answer (InvalidRange)
    # Counted as moto counts every request while its authentication is off.
    ActionAuthenticatorMixin.request_count += 1
    # Passed through: the server gets the body itself (a RangeBlocks it may send from
    # the file), not werkzeug's iterator over it; the headers are the same, as moto's
    # range handling set the Content-Length.
    response = Response(response=body, status=status, headers=headers, direct_passthrough=True)
    streamed = isinstance(body, s3_reads.RangeBlocks | s3_reads.ObjectBytes)
    if streamed and len(body) < s3_reads.STREAM_MIN_BYTES:
        # moto sends a body this short as bytes, for which werkzeug sets the length
        # itself (in place, in its own spelling): as it would have.
        response.headers["Content-Length"] = str(len(body))
    if not DISABLE_GLOBAL_CORS:  # flask_cors's answer to a request without an Origin
        response.headers.add("Access-Control-Allow-Origin", "*")
    return response


SENT_FROM_FILE_BYTES = 256 * 1024
"""Ranges at least this large are sent from the object's file by ``sendfile``: a 3 MiB
range cost the server 1.3-1.5 ms read into Python and written, 0.7-1.1 ms sent so."""

_RANGE_SELF: Any = object.__new__(S3Response)
"""The S3Response ``_handle_range_header`` is called on: it reads nothing of it."""


__all__ = ["install", "installed", "plain_get", "uninstall"]
