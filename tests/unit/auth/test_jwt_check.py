"""CognitoJwtVerifier: the local stand-in for API Gateway's Cognito authorizer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer
from sluice.auth.jwt_check import CognitoJwtVerifier, TokenRejected, stringify_claims

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
CLIENT_ID = "client123"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


def make_token(
    key: rsa.RSAPrivateKey, kid: str = "k1", alg: str = "RS256", **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": "alice",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def verifier(key: rsa.RSAPrivateKey) -> CognitoJwtVerifier:
    return CognitoJwtVerifier(ISSUER, CLIENT_ID, jwks={"keys": [jwk_of(key, "k1")]})


def rejection(verifier: CognitoJwtVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        verifier.verify(token)
    return caught.value.reason


def test_valid_id_token_returns_claims_as_api_gateway_strings(verifier, key) -> None:
    token = make_token(key, auth_time=1680629979, iat=1680629979, exp=4102444800)
    assert verifier.verify(token) == {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": "alice",
        "auth_time": "1680629979",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "exp": "Fri Jan 01 00:00:00 UTC 2100",
    }


def test_valid_access_token_is_matched_on_client_id(verifier, key) -> None:
    token = make_token(key, aud=None, token_use="access", client_id=CLIENT_ID, username="alice")
    claims = verifier.verify(token)
    assert (claims["token_use"], claims["client_id"], claims["username"]) == (
        "access",
        CLIENT_ID,
        "alice",
    )


def test_list_bool_and_object_claims_are_stringified_like_api_gateway() -> None:
    claims = {"cognito:groups": ["admin", "users"], "email_verified": True, "x": {"a": 1}}
    assert stringify_claims(claims) == {
        "cognito:groups": "admin,users",
        "email_verified": "true",
        "x": '{"a":1}',
    }


def test_expired_token_is_rejected(verifier, key) -> None:
    expired = make_token(key, iat=int(time.time()) - 3700, exp=int(time.time()) - 60)
    assert rejection(verifier, expired) == "token expired"


def test_wrong_issuer_is_rejected(verifier, key) -> None:
    token = make_token(key, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other")
    assert rejection(verifier, token) == "wrong issuer"


def test_id_token_for_another_client_is_rejected(verifier, key) -> None:
    assert rejection(verifier, make_token(key, aud="other")) == "token issued for another client"


def test_access_token_for_another_client_is_rejected(verifier, key) -> None:
    token = make_token(key, aud=None, token_use="access", client_id="other")
    assert rejection(verifier, token) == "token issued for another client"


def test_token_signed_by_another_key_is_rejected(verifier, other_key) -> None:
    assert rejection(verifier, make_token(other_key)) == "bad signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_token_is_rejected(verifier, token) -> None:
    assert rejection(verifier, token) == "malformed token"


def test_token_use_other_than_id_or_access_is_rejected(verifier, key) -> None:
    assert rejection(verifier, make_token(key, token_use="refresh")) == (
        "token_use must be id or access"
    )


def test_token_without_token_use_is_rejected(verifier, key) -> None:
    assert rejection(verifier, make_token(key, token_use=None)) == "missing claim token_use"


def test_unknown_kid_is_rejected(verifier, key) -> None:
    assert rejection(verifier, make_token(key, kid="k9")) == "unknown signing key"


def test_hs256_token_is_rejected(verifier) -> None:
    token = make_token(b"a shared secret of at least 32 bytes!!", alg="HS256")  # type: ignore[arg-type]
    assert rejection(verifier, token) == "unsupported signing algorithm"


class JwksServer:
    """Serves a JWKS that a test may change, counting fetches."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"


@pytest.fixture
def jwks_server(key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer([jwk_of(key, "k1")])
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_jwks_url_is_fetched_lazily_once(jwks_server, key) -> None:
    verifier = CognitoJwtVerifier(ISSUER, CLIENT_ID, jwks_url=jwks_server.url)
    assert jwks_server.fetches == 0
    verifier.verify(make_token(key))
    verifier.verify(make_token(key))
    assert jwks_server.fetches == 1


def test_unknown_kid_refetches_the_jwks_once(jwks_server, key, other_key) -> None:
    verifier = CognitoJwtVerifier(ISSUER, CLIENT_ID, jwks_url=jwks_server.url)
    verifier.verify(make_token(key))
    jwks_server.keys = [jwk_of(key, "k1"), jwk_of(other_key, "k2")]  # the pool rotates
    assert verifier.verify(make_token(other_key, kid="k2"))["sub"] == "user-1"
    assert rejection(verifier, make_token(other_key, kid="k3")) == "unknown signing key"
    assert jwks_server.fetches == 3


def test_tokens_issued_by_moto_cognito_verify() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pool_id = idp.create_user_pool(PoolName="sluice")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="api",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool_id, Username="alice")
        idp.admin_set_user_password(
            UserPoolId=pool_id, Username="alice", Password="Secret-pass-1", Permanent=True
        )
        tokens = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Secret-pass-1"},
        )["AuthenticationResult"]
        verifier = CognitoJwtVerifier(
            f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}",
            client_id,
            jwks_url=f"{endpoint}/{pool_id}/.well-known/jwks.json",
        )

        id_claims = verifier.verify(tokens["IdToken"])
        access_claims = verifier.verify(tokens["AccessToken"])
    finally:
        server.stop()
    assert (id_claims["token_use"], id_claims["aud"], id_claims["cognito:username"]) == (
        "id",
        client_id,
        "alice",
    )
    assert (access_claims["token_use"], access_claims["client_id"]) == ("access", client_id)
    assert access_claims["username"] == "alice"
    assert id_claims["sub"] == access_claims["sub"]


def test_an_id_only_verifier_rejects_access_tokens(key) -> None:  # type: ignore[no-untyped-def]
    id_only = CognitoJwtVerifier(
        ISSUER, CLIENT_ID, jwks={"keys": [jwk_of(key, "k1")]}, token_uses=frozenset({"id"})
    )
    token = make_token(key, aud=None, token_use="access", client_id=CLIENT_ID)
    with pytest.raises(TokenRejected, match="access tokens are not accepted here"):
        id_only.verify(token)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/jwks.json", "jwks.json"])
def test_a_jwks_url_other_than_http_or_https_is_refused(url: str) -> None:
    # urlopen would read a file: (or any registered scheme) URL as readily as an https one.
    with pytest.raises(ValueError, match="http or https"):
        CognitoJwtVerifier(ISSUER, CLIENT_ID, jwks_url=url)
