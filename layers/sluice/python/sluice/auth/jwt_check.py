"""The JWT check of API Gateway's Cognito user pools authorizer, for the local gateway.

A token passes when it is an RS256 JWT signed by a key of the user pool's JWKS, not
expired, issued by the pool, an ID or access token, and issued to the app client.
The claims come back as strings, formatted the way API Gateway (REST API) puts them
in ``requestContext.authorizer.claims``, so a handler sees the same values locally
and in AWS.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import jwt

__all__ = ["CognitoJwtVerifier", "JwksUnavailable", "TokenRejected", "stringify_claims"]

# API Gateway formats these NumericDate claims as java.util.Date.toString() in UTC
# (e.g. "Tue Apr 04 18:39:39 UTC 2023"); auth_time stays a plain number.
_DATE_CLAIMS = frozenset({"exp", "iat", "nbf"})
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_JWKS_TIMEOUT_S = 5.0
_JWKS_SCHEMES = frozenset({"http", "https"})


class TokenRejected(Exception):
    """The token does not authorize the request; ``reason`` says why, for a 401 body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(Exception):
    """The user pool's signing keys could not be loaded (a server fault, not a bad token)."""


class CognitoJwtVerifier:
    """Verifies Cognito user pool JWTs as API Gateway's Cognito authorizer does.

    ``jwks_url`` is fetched on first use and cached; a token whose ``kid`` is not in
    the cached set makes it fetch once more (the pool may have rotated its keys).
    ``jwks`` gives the key set directly instead. ``leeway_s`` tolerates clock skew
    on ``exp``/``iat`` only; keep it to a few seconds. ``token_uses`` says which
    tokens pass: a Cognito authorizer with no OAuth scopes (ours) takes ID tokens only.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        leeway_s: float = 5.0,
        token_uses: frozenset[str] = frozenset({"id", "access"}),
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give exactly one of jwks_url and jwks")
        if jwks_url is not None and urllib.parse.urlsplit(jwks_url).scheme not in _JWKS_SCHEMES:
            # urlopen also reads file: and custom schemes; a key set comes over HTTP(S).
            raise ValueError(f"jwks_url must be an http or https URL, not {jwks_url!r}")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.jwks_url = jwks_url
        self.leeway_s = leeway_s
        self.token_uses = token_uses
        self._lock = threading.Lock()
        self._keys: jwt.PyJWKSet | None = None
        if jwks is not None:
            self._keys = _parse_jwks(jwks)

    def verify(self, token: str) -> dict[str, str]:
        """Return the token's claims as API Gateway strings, or raise ``TokenRejected``.

        Raises ``JwksUnavailable`` when the key set cannot be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenRejected("malformed token") from exc
        if header.get("alg") != "RS256":
            # Cognito signs with RS256 only; anything else (none, HS256) is forged.
            raise TokenRejected("unsupported signing algorithm")
        key = self._key_for(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("bad signature") from exc
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("token not yet valid") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("wrong issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"missing claim {exc.claim}") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("malformed token") from exc
        self._check_use_and_client(claims)
        return stringify_claims(claims)

    def _check_use_and_client(self, claims: Mapping[str, Any]) -> None:
        token_use = claims.get("token_use")
        if token_use in ("id", "access") and token_use not in self.token_uses:
            raise TokenRejected(f"{token_use} tokens are not accepted here; send the id_token")
        if token_use == "id":
            # An ID token names its app client in aud (a string in Cognito's tokens).
            aud = claims.get("aud")
            audiences = aud if isinstance(aud, list) else [aud]
            if self.client_id not in audiences:
                raise TokenRejected("token issued for another client")
        elif token_use == "access":
            # An access token has no aud; its app client is in client_id.
            if claims.get("client_id") != self.client_id:
                raise TokenRejected("token issued for another client")
        else:
            raise TokenRejected("token_use must be id or access")

    def _key_for(self, kid: Any) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise TokenRejected("unknown signing key")
        with self._lock:
            if self._keys is None:
                self._keys = self._fetch()
            key = _lookup(self._keys, kid)
            if key is None and self.jwks_url is not None:
                # The pool may have rotated its keys since the cached fetch.
                self._keys = self._fetch()
                key = _lookup(self._keys, kid)
        if key is None:
            raise TokenRejected("unknown signing key")
        return key

    def _fetch(self) -> jwt.PyJWKSet:
        url = self.jwks_url
        assert url is not None
        try:
            # B310 warns of file: and custom schemes, which __init__ refused.
            opened = urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT_S)  # nosec B310
            with opened as response:
                data = json.load(response)
        except (OSError, ValueError) as exc:
            raise JwksUnavailable(f"cannot load {url}: {exc}") from exc
        return _parse_jwks(data)


def _lookup(keys: jwt.PyJWKSet, kid: str) -> jwt.PyJWK | None:
    try:
        return keys[kid]
    except KeyError:
        return None


def _parse_jwks(data: Any) -> jwt.PyJWKSet:
    if not isinstance(data, Mapping):
        raise JwksUnavailable("the JWKS is not a JSON object")
    try:
        return jwt.PyJWKSet.from_dict(dict(data))
    except jwt.PyJWTError as exc:
        raise JwksUnavailable(f"unusable JWKS: {exc}") from exc


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Format claim values as API Gateway's Cognito authorizer does (REST API, v1 events).

    Dates become Java ``Date.toString()`` text, booleans ``true``/``false``, lists
    (``cognito:groups``) comma-joined, nested objects compact JSON.
    """
    out: dict[str, str] = {}
    for name, value in claims.items():
        if value is None:
            continue
        if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = _java_date(value)
        else:
            out[name] = _claim_text(value)
    return out


def _java_date(epoch: float) -> str:
    # Spelled out rather than strftime("%a %b"), which follows the process locale.
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
    )


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(_claim_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
