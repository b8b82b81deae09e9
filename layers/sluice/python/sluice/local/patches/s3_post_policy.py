"""Have moto's S3 check a presigned POST's policy and signature, as S3 does.

moto stores a browser-based (form) POST under whatever ``key`` its form names: it reads
neither the policy nor the signature. A presigned POST's fields could then be edited to
land a file at another dataset's upload key, of any size, after the policy expired.

``install()`` wraps ``S3Response._bucket_response_post`` so that a form POST (one with
form fields; a multi-object delete has none) is checked before moto stores anything, and
refused with S3's own answers:

- no policy and signature, SigV4 (or V2, which S3 still takes in its older regions),
  as for an anonymous POST to a bucket that is not public: 403 ``AccessDenied``; a
  malformed ``x-amz-credential``: 400 ``InvalidArgument``;
- an access key the embedded AWS does not know: 403 ``InvalidAccessKeyId``;
- a signature that is not the HMAC of the policy with the key's signing key (the secret,
  the credential's date, region and service; V2: the secret): 403 ``SignatureDoesNotMatch``;
- a policy that is not base64 JSON with an ``expiration``: 400 ``InvalidPolicyDocument``;
- an expired policy, a form field no condition covers, a condition that fails (``bucket``,
  ``{"field": value}``, ``eq``, ``starts-with``): 403 ``AccessDenied``, "Invalid according
  to Policy: ...";
- a file outside ``content-length-range``: 400 ``EntityTooLarge`` / ``EntityTooSmall``.

The secret of an access key is the one :func:`trust` registered, else the process's own
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``: the local system's clients presign
with those; moto keeps no secrets of its own).

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.s3.responses import S3Response

from sluice.local.patches.replace import replace_once, replaced, restore

ALGORITHM = "AWS4-HMAC-SHA256"

EXEMPT_FIELDS = frozenset({"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"})
"""Form fields a policy need not name (S3 also exempts those starting ``x-ignore-``)."""

_lock = threading.Lock()
_trusted: dict[str, str] = {}


def trust(access_key_id: str, secret_access_key: str) -> None:
    """Let POSTs presigned with this key pair in (besides the process's own)."""
    with _lock:
        _trusted[access_key_id] = secret_access_key


def secret_for(access_key_id: str) -> str | None:
    """The secret of an access key the embedded AWS knows, or None."""
    with _lock:
        if access_key_id in _trusted:
            return _trusted[access_key_id]
    if os.environ.get("AWS_ACCESS_KEY_ID") == access_key_id:
        return os.environ.get("AWS_SECRET_ACCESS_KEY")
    return None


def install() -> None:
    """Have moto check every form POST's policy and signature. Safe to call more than once."""
    replace_once(S3Response, "_bucket_response_post", _checked)


def uninstall() -> None:
    """Put moto back as it was (for tests comparing with moto's own answers)."""
    restore(S3Response, "_bucket_response_post")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(S3Response, "_bucket_response_post")


class Refused(Exception):
    """A POST S3 would refuse: its status, code, message and any further elements."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def answer(self) -> tuple[int, dict[str, str], str]:
        elements = {"Code": self.code, "Message": self.message, **self.extra}
        elements["RequestId"] = uuid.uuid4().hex[:16].upper()
        body = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in elements.items())
        return (
            self.status,
            {"Content-Type": "application/xml"},
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{body}</Error>',
        )


def _checked(post: Callable[..., Any]) -> Callable[..., Any]:
    def checked_post(self: S3Response, request: Any, bucket_name: str) -> Any:
        form = self.form_data
        if form:  # a browser-based upload (a multi-object delete sends XML, not a form)
            # The file as moto read it: bytes, or text when sent as a field without a filename.
            body = self.raw_body
            size = len(body.encode() if isinstance(body, str) else body or b"")
            try:
                check_post({name: form[name] for name in form}, bucket_name, size)
            except Refused as refused:
                return refused.answer()
        return post(self, request, bucket_name)

    return checked_post


def _denied(message: str) -> Refused:
    return Refused(403, "AccessDenied", message)


def _policy_failed(message: str) -> Refused:
    return _denied(f"Invalid according to Policy: {message}")


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's signing key for a day, region and service."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(
    fields: Mapping[str, str], bucket: str, size: int, now: datetime | None = None
) -> None:
    """Raise :class:`Refused` as S3 would answer a form POST of ``fields`` and a file of
    ``size`` bytes to ``bucket``; nothing if S3 would store it."""
    lowered = {name.lower(): value for name, value in fields.items()}
    policy_b64 = lowered.get("policy")
    if policy_b64 and "awsaccesskeyid" in lowered and "signature" in lowered:
        _check_v2_signature(policy_b64, lowered["awsaccesskeyid"], lowered["signature"])
    elif (
        policy_b64
        and lowered.get("x-amz-signature")
        and (lowered.get("x-amz-algorithm") == ALGORITHM)
    ):
        _check_v4_signature(policy_b64, lowered)
    else:
        raise _denied("Access Denied")
    policy = _policy(policy_b64)
    expiry = _expiry(policy)
    if expiry <= (now or datetime.now(UTC)):
        raise _policy_failed("Policy expired.")
    conditions = policy.get("conditions", [])
    if not isinstance(conditions, list):
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value.")
    named = {"bucket"}
    for condition in conditions:
        named |= _check_condition(condition, lowered, bucket, size)
    extra = [
        name
        for name in fields
        if name.lower() not in named | EXEMPT_FIELDS and not name.lower().startswith("x-ignore-")
    ]
    if extra:
        raise _policy_failed(f"Extra input fields: {', '.join(extra)}")


def _secret(access_key: str) -> str:
    secret = secret_for(access_key)
    if secret is None:
        raise Refused(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key,
        )
    return secret


def _mismatch(access_key: str) -> Refused:
    return Refused(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided."
        " Check your key and signing method.",
        AWSAccessKeyId=access_key,
    )


def _check_v4_signature(policy_b64: str, fields: Mapping[str, str]) -> None:
    credential = fields.get("x-amz-credential", "").split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        raise Refused(
            400,
            "InvalidArgument",
            "Invalid argument.",
            ArgumentName="x-amz-credential",
            ArgumentValue=fields.get("x-amz-credential", ""),
        )
    access_key, date, region, service = credential[:4]
    key = signing_key(_secret(access_key), date, region, service)
    expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        raise _mismatch(access_key)


def _check_v2_signature(policy_b64: str, access_key: str, signature: str) -> None:
    """Signature version 2, which S3 still takes for POSTs where it began before 2014."""
    digest = hmac.new(_secret(access_key).encode(), policy_b64.encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
        raise _mismatch(access_key)


def _policy(policy_b64: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError) as bad:
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from bad
    if not isinstance(policy, dict):
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    return policy


def _expiry(policy: Mapping[str, Any]) -> datetime:
    try:
        expiry = datetime.fromisoformat(str(policy["expiration"]))
    except (KeyError, ValueError) as bad:
        raise Refused(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value."
        ) from bad
    return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)


def _check_condition(condition: Any, fields: Mapping[str, str], bucket: str, size: int) -> set[str]:
    """Check one condition; the form fields (lowercase) it names."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        _check_eq(str(name).lower(), str(value), fields, bucket)
        return {str(name).lower()}
    if isinstance(condition, list) and len(condition) == 3:
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = _int(condition[1]), _int(condition[2])
            if size > high:
                raise Refused(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=size,
                    MaxSizeAllowed=high,
                )
            if size < low:
                raise Refused(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=size,
                    MinSizeAllowed=low,
                )
            return set()
        target, value = str(condition[1]), str(condition[2])
        if operator in ("eq", "starts-with") and target.startswith("$"):
            name = target[1:].lower()
            if operator == "eq":
                _check_eq(name, value, fields, bucket)
            else:
                actual = bucket if name == "bucket" else fields.get(name)
                if actual is None or not actual.startswith(value):
                    raise _policy_failed(
                        f'Policy Condition failed: ["starts-with", "{target}", "{value}"]'
                    )
            return {name}
    raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")


def _check_eq(name: str, value: str, fields: Mapping[str, str], bucket: str) -> None:
    actual = bucket if name == "bucket" else fields.get(name)
    if actual != value:
        raise _policy_failed(f'Policy Condition failed: ["eq", "${name}", "{value}"]')


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as bad:
        raise Refused(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid content-length-range."
        ) from bad


__all__ = ["Refused", "check_post", "install", "installed", "secret_for", "trust", "uninstall"]
