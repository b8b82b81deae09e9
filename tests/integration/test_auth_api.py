"""POST /auth/token and /auth/refresh against the embedded Cognito."""

from __future__ import annotations

from typing import Any

import pytest
from sluice.local.system import DEMO_PASSWORD, DEMO_USER

from tests.support import call_api

pytestmark = pytest.mark.usefixtures("local")


def sign_in(password: str = DEMO_PASSWORD) -> tuple[int, Any]:
    return call_api(
        "POST", "/auth/token", {"username": DEMO_USER, "password": password}, owner=None
    )


def test_sign_in_returns_bearer_tokens() -> None:
    status, body = sign_in()
    assert status == 200
    assert set(body) == {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_a_wrong_password_is_401() -> None:
    status, body = sign_in("not-the-password-1")
    assert status == 401
    assert body == {"error": {"code": "unauthorized", "message": "wrong username or password"}}


def test_an_unknown_user_is_401() -> None:
    status, body = call_api(
        "POST", "/auth/token", {"username": "nobody", "password": "x"}, owner=None
    )
    assert status == 401
    assert body["error"]["message"] == "wrong username or password"


def test_sign_in_without_a_password_is_422() -> None:
    status, body = call_api("POST", "/auth/token", {"username": DEMO_USER}, owner=None)
    assert status == 422
    assert body["error"]["message"].startswith("password: Field required")


def test_refresh_returns_new_tokens_and_keeps_the_refresh_token() -> None:
    refresh_token = sign_in()[1]["refresh_token"]
    status, body = call_api("POST", "/auth/refresh", {"refresh_token": refresh_token}, owner=None)
    assert status == 200
    assert body["refresh_token"] == refresh_token
    assert body["id_token"] and body["access_token"]


def test_a_bad_refresh_token_is_401() -> None:
    status, body = call_api("POST", "/auth/refresh", {"refresh_token": "forged"}, owner=None)
    assert status == 401
    assert body["error"]["message"] == "the refresh token is invalid or expired"


NETWORK_MANIFESTS = ("layers", "optimizers", "losses", "metrics", "activations")


def test_openapi_document_lists_every_route() -> None:
    status, spec = call_api("GET", "/openapi.json", owner=None)
    assert status == 200
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/auth/token",
        "/auth/refresh",
        "/datasets",
        "/datasets/{dataset_id}",
        "/datasets/{dataset_id}/columns",
        "/datasets/{dataset_id}/columns/{column}/profile",
        "/datasets/{dataset_id}/upload",
        "/datasets/{dataset_id}/multipart-upload",
        "/datasets/{dataset_id}/multipart-upload/complete",
        "/datasets/{dataset_id}/multipart-upload/abort",
        "/datasets/{dataset_id}/multipart-upload/parts",
        "/datasets/tree",
        "/datasets/{dataset_id}/preferred-types",
        "/datasets/{dataset_id}/inference",
        "/datasets/{dataset_id}/rows",
        "/datasets/{dataset_id}/download",
        "/datasets/{dataset_id}/content",
        "/datasets/{dataset_id}/tasks",
        "/tasks",
        "/tasks/{task_id}",
        "/tasks/{task_id}/cancel",
        "/tasks/{task_id}/result",
        *(f"/networks/{kind}" for kind in NETWORK_MANIFESTS),
        *(f"/networks/{kind}/{{name}}" for kind in NETWORK_MANIFESTS),
        "/networks/graphs",
        "/networks/graphs/validate",
        "/networks/graphs/compile",
        "/networks/graphs/{graph_id}",
        "/networks/graphs/{graph_id}/compile",
        "/sessions",
        "/sessions/{session_id}",
        "/sessions/{session_id}/operations",
        "/sessions/{session_id}/operations/{operation_id}",
        "/operations",
        "/operations/{name}",
        "/networks/import-jobs",
        "/networks/import-jobs/{job_id}",
        "/networks/import-jobs/{job_id}/cancel",
        "/networks/import-jobs/{job_id}/create-graph",
        "/networks/graphs/{graph_id}/train",
        "/networks/training-jobs",
        "/networks/training-jobs/{job_id}",
        "/networks/training-jobs/{job_id}/cancel",
        "/networks/training-jobs/{job_id}/artifact",
        "/networks/training-jobs/{job_id}/predict",
        "/networks/training-jobs/{job_id}/predictions",
        "/networks/prediction-jobs/{prediction_id}",
        "/networks/prediction-jobs/{prediction_id}/cancel",
    }
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_docs_serve_swagger_ui_with_its_assets_inline() -> None:
    from tests.support import api_event, invoke

    response = invoke("api", api_event("GET", "/docs", owner=None))
    assert response["statusCode"] == 200
    assert "SwaggerUIBundle" in response["body"]
    assert "https://" not in response["body"].split("<script")[0]  # no CDN stylesheet
