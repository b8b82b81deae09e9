"""sluice.client without a system: tokens on disk, settings, errors, the short forms the
CLI parses, and what an interrupted upload in parts keeps and resumes."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import pytest
from sluice.client import ApiError, ClientError, Tokens, TokenStore
from sluice.client.errors import api_error
from sluice.client.resume import PartsUpload, ResumeStore
from sluice.client.sessions import parse_inputs
from sluice.client.settings import DEFAULT_API_URL, api_url, write_config
from sluice.client.tasks import aggregation
from sluice.client.uploads import UploadOptions, Uploads

API = "http://api.example"


def tokens(expires_in: float = 3600) -> Tokens:
    answer = {"id_token": "i", "access_token": "a", "refresh_token": "r", "expires_in": expires_in}
    return Tokens.from_answer(answer)


def test_tokens_are_kept_0600_per_api_and_forgotten(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cfg" / "tokens.json")
    store.save(API, tokens())
    store.save("http://other", tokens())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load(API + "/") == store.load(API)
    assert store.forget(API) and not store.forget(API)
    assert store.load(API) is None and store.load("http://other") is not None


def test_a_refresh_answer_keeps_the_refresh_token_and_expiry_has_a_margin() -> None:
    renewed = Tokens.from_answer({"id_token": "j", "access_token": "b", "expires_in": 3600}, "r")
    assert renewed.refresh_token == "r" and not renewed.expired
    assert tokens(expires_in=30).expired  # within the minute before expiry


def test_the_api_url_comes_from_the_flag_then_env_then_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("SLUICE_API_URL", raising=False)
    assert api_url() == DEFAULT_API_URL
    write_config(api_url="http://saved/")
    assert api_url() == "http://saved"
    monkeypatch.setenv("SLUICE_API_URL", "http://env")
    assert (api_url(), api_url("http://flag")) == ("http://env", "http://flag")


def test_errors_read_the_error_shape_and_anything_else() -> None:
    shaped = api_error(404, {"error": {"code": "not_found", "message": "no such"}}, "")
    assert (shaped.status, shaped.code, str(shaped)) == (
        404,
        "not_found",
        "no such (HTTP 404 not_found)",
    )
    assert api_error(403, {"message": "Forbidden"}, "").message == "Forbidden"
    assert api_error(502, None, "<html>bad gateway</html>").code == "http_error"


def test_the_short_forms_of_aggregations_and_inputs() -> None:
    body = aggregation(["region"], ["price:sum:revenue", "*:count"], "parquet", 2048)
    assert body["aggregations"] == [
        {"column": "price", "op": "sum", "name": "revenue"},
        {"column": "*", "op": "count"},
    ]
    assert body["output"] == {"format": "parquet", "max_file_bytes": 2048}
    with pytest.raises(ClientError, match="column:op"):
        aggregation([], ["price"])
    assert parse_inputs(["dataset=dataset:abc", "top=3", 'columns=["a"]', "how=left"]) == {
        "dataset": {"type": "dataset", "id": "abc"},
        "top": 3,
        "columns": ["a"],
        "how": "left",
    }


def parts_upload(file: Path, expires_at: float, done: dict[str, str]) -> PartsUpload:
    info = file.stat()
    parts = [{"number": n, "offset": (n - 1) * 10, "bytes": 10, "url": f"u{n}"} for n in (1, 2, 3)]
    return PartsUpload(
        API,
        str(file.resolve()),
        info.st_size,
        info.st_mtime_ns,
        "d" * 32,
        "up.1",
        10,
        expires_at,
        parts,
        done,
    )


def test_a_parts_upload_knows_what_is_missing_and_survives_a_reload(tmp_path: Path) -> None:
    file = tmp_path / "f.csv"
    file.write_bytes(b"x" * 30)
    state = parts_upload(file, time.time() + 3600, {"2": "e2", "1": "e1"})
    store = ResumeStore(tmp_path / "uploads")
    store.save(state)
    loaded = store.load(API, file)
    assert loaded is not None and loaded.fresh and loaded.matches(file)
    assert [p["number"] for p in loaded.missing()] == [3]
    assert loaded.completed() == [{"number": 1, "etag": "e1"}, {"number": 2, "etag": "e2"}]
    file.write_bytes(b"y" * 31)
    assert not loaded.matches(file)


class FakeHttp:
    """The API, with the upload still open (its parts presigned again) or not."""

    api_url = API

    def __init__(self, upload_open: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.upload_open = upload_open

    def request(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        self.calls.append((method, path))
        if path.endswith("/multipart-upload/parts"):
            if not self.upload_open:
                raise ApiError(404, "not_found", "no upload")
            return {
                "parts": [{"number": n, "url": f"fresh-{n}"} for n in body["numbers"]],
                "landed": [{"number": 1, "bytes": 10, "etag": "e1"}],
                "expires_in": 3600,
            }
        return {}


class FakeDatasets:
    def __init__(self, exists: bool) -> None:
        self.exists = exists

    def get(self, dataset_id: str) -> dict[str, Any]:
        if not self.exists:
            raise ApiError(404, "not_found", "gone")
        return {"id": dataset_id}


@pytest.mark.parametrize(
    ("expires_in", "exists", "upload_open", "expected"),
    [
        (3600, True, True, "resume"),  # fresh: only the missing parts
        (60, True, True, "resume"),  # URLs about to expire: presigned again
        (60, True, False, "same dataset"),  # and the upload gone: a new one, same record
        (3600, False, True, "afresh"),  # the dataset was deleted
    ],
)
def test_an_interrupted_upload_resumes_or_starts_again_on_its_dataset(
    tmp_path: Path, expires_in: float, exists: bool, upload_open: bool, expected: str
) -> None:
    file = tmp_path / "f.csv"
    file.write_bytes(b"x" * 30)
    http = FakeHttp(upload_open)
    uploads = Uploads(http, FakeDatasets(exists), ResumeStore(tmp_path / "uploads"))  # type: ignore[arg-type]
    uploads.store.save(parts_upload(file, time.time() + expires_in, {"1": "e1"}))
    state, dataset_id = uploads._resumable(file)
    outcome = "resume" if state else ("same dataset" if dataset_id else "afresh")
    assert outcome == expected
    aborted = ("POST", f"/datasets/{'d' * 32}/multipart-upload/abort") in http.calls
    assert aborted == (expected == "same dataset")
    assert (uploads.store.load(API, file) is not None) == (expected == "resume")


def test_parts_smaller_than_s3s_smallest_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "f.csv"
    file.write_bytes(b"x")
    uploads = Uploads(FakeHttp(), FakeDatasets(True), ResumeStore(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="5242880 bytes or more"):
        uploads.upload(file, options=UploadOptions(part_bytes=1024))


def test_expired_urls_are_presigned_again_for_the_missing_parts_only(tmp_path: Path) -> None:
    file = tmp_path / "f.csv"
    file.write_bytes(b"x" * 30)
    http = FakeHttp(upload_open=True)
    uploads = Uploads(http, FakeDatasets(True), ResumeStore(tmp_path / "uploads"))  # type: ignore[arg-type]
    uploads.store.save(parts_upload(file, time.time() - 1, {"1": "e1"}))
    state, _ = uploads._resumable(file)
    assert state is not None
    assert [p["url"] for p in state.parts] == ["u1", "fresh-2", "fresh-3"]  # 1 had landed
    assert state.done == {"1": "e1"}
    assert state.fresh
