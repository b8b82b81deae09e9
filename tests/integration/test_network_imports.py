"""Model import jobs through the API on the embedded AWS: the presigned POST's upload
lands in S3, its notification starts the import state machine, and the TensorFlow
function turns the file into a graph; no other call is made."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sluice.config import settings
from sluice.networks import import_jobs
from sluice.networks.graph_models import GraphBody
from sluice.networks.import_jobs import TooManyPendingImports
from sluice.networks.import_models import ImportJob, ImportJobCreate, ImportStatus
from sluice.networks.import_repository import ImportJobRepository

from tests.model_files import MLP, TWO_INPUTS, bomb, save, zipped
from tests.support import call_api, put_unnoticed, wait_for

pytestmark = pytest.mark.usefixtures("local")
MIB = 1024 * 1024
UPLOADS = "sluice-uploads"


def new_owner() -> str:
    return str(uuid.uuid4())


def start(owner: str, filename: str, size: int, **body: Any) -> tuple[int, Any]:
    return call_api(
        "POST", "/networks/import-jobs", {"filename": filename, "bytes": size, **body}, owner=owner
    )


def post(upload: dict[str, Any], content: bytes) -> requests.Response:
    """Send the file with the presigned POST, as a browser would."""
    return requests.post(upload["url"], data=upload["fields"], files={"file": content}, timeout=60)


def job(owner: str, job_id: str) -> dict[str, Any]:
    status, body = call_api("GET", f"/networks/import-jobs/{job_id}", owner=owner)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def ended(owner: str, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        current = job(owner, job_id)
        return current if current["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(done, 120, f"import job {job_id} to end")


def upload_and_wait(owner: str, filename: str, content: bytes, **body: Any) -> dict[str, Any]:
    status, created = start(owner, filename, len(content), **body)
    assert status == 201, created
    assert created["job"]["status"] == "queued"
    assert post(created["upload"], content).status_code == 204
    return ended(owner, created["job"]["id"])


def graph_shape(graph: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    return (
        [(n["id"], n["type"], n["params"]) for n in graph["nodes"]],
        [(e["source"], e["target"]) for e in graph["edges"]],
    )


def expected(graph: Any) -> tuple[list[Any], list[Any]]:
    return graph_shape(graph.model_dump(mode="json"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The MLP as .keras and .h5 and zipped, and the two-input graph as .keras."""
    folder = tmp_path_factory.mktemp("models")
    save(MLP, folder / "mlp.keras")
    save(MLP, folder / "mlp.h5")
    save(TWO_INPUTS, folder / "two.keras")
    keras_file = (folder / "mlp.keras").read_bytes()
    return {
        "mlp.keras": keras_file,
        "mlp.h5": (folder / "mlp.h5").read_bytes(),
        "mlp.zip": zipped({"export/mlp.keras": keras_file, "README.txt": b"a model"}),
        "two.keras": (folder / "two.keras").read_bytes(),
    }


@pytest.mark.parametrize("filename", ["mlp.keras", "mlp.h5", "mlp.zip"])
def test_the_upload_alone_starts_the_import_and_the_job_holds_the_graph(
    files: dict[str, bytes], filename: str
) -> None:
    owner = new_owner()
    done = upload_and_wait(owner, filename, files[filename], graph_name="imported")
    assert (done["status"], done.get("error"), done.get("graph_id")) == ("succeeded", None, None)
    assert done["parameter_count"] == 161
    assert done["graph_payload"]["name"] == "imported"
    assert graph_shape(done["graph_payload"]) == expected(MLP)
    status, graphs = call_api("GET", "/networks/graphs", owner=owner)
    assert (status, graphs["items"]) == (200, [])


def test_create_graph_stores_the_graph_on_success_and_the_upload_is_removed(
    files: dict[str, bytes], local: Any
) -> None:
    owner = new_owner()
    done = upload_and_wait(owner, "two.keras", files["two.keras"], create_graph=True)
    assert done["status"] == "succeeded" and done["graph_payload"]["name"] == "two"
    status, graph = call_api("GET", f"/networks/graphs/{done['graph_id']}", owner=owner)
    assert status == 200
    assert graph_shape(graph) == expected(TWO_INPUTS)
    listed = local.client("s3").list_objects_v2(Bucket=UPLOADS, Prefix=done["upload_key"])
    assert listed["KeyCount"] == 0


def test_create_graph_afterwards_stores_the_jobs_graph(files: dict[str, bytes]) -> None:
    owner = new_owner()
    done = upload_and_wait(owner, "mlp.keras", files["mlp.keras"])
    status, graph = call_api(
        "POST", f"/networks/import-jobs/{done['id']}/create-graph", owner=owner
    )
    assert status == 201
    assert graph_shape(graph) == expected(MLP) and graph["name"] == "mlp"
    assert job(owner, done["id"])["graph_id"] == graph["id"]


def test_create_graph_before_success_is_409() -> None:
    owner = new_owner()
    _, created = start(owner, "m.keras", 100)
    status, body = call_api(
        "POST", f"/networks/import-jobs/{created['job']['id']}/create-graph", owner=owner
    )
    assert (status, body["error"]["code"]) == (409, "conflict")


def test_a_zip_slip_archive_fails_the_job_naming_the_entry(files: dict[str, bytes]) -> None:
    archive = zipped({"../../escape.keras": files["mlp.keras"]})
    done = upload_and_wait(new_owner(), "slip.zip", archive)
    assert (done["status"], done["error"]) == (
        "failed",
        {
            "code": "unsafe_path",
            "message": "the zip: the entry '../../escape.keras' would unpack outside its folder",
        },
    )
    assert done["graph_payload"] is None


def test_a_zip_bomb_fails_the_job_with_its_ratio() -> None:
    done = upload_and_wait(new_owner(), "bomb.zip", bomb())
    assert done["status"] == "failed" and done["error"]["code"] == "compression_ratio"
    assert done["error"]["message"].endswith("bytes); at most 100x (a zip bomb?)")


def test_a_file_that_is_no_model_fails_the_job() -> None:
    done = upload_and_wait(new_owner(), "junk.h5", b"this is not HDF5")
    assert done["error"] == {"code": "not_a_model", "message": "the .h5 file is not an HDF5 file"}


def test_a_wrong_extension_is_422_before_any_job() -> None:
    owner = new_owner()
    status, body = start(owner, "model.pkl", 100)
    assert (status, body["error"]["code"]) == (422, "unsupported_extension")
    assert body["error"]["message"] == "'model.pkl': an import takes .keras, .h5, .zip files"
    assert call_api("GET", "/networks/import-jobs", owner=owner)[1]["items"] == []


def test_a_file_over_the_size_limit_is_413_up_front() -> None:
    status, body = start(new_owner(), "big.keras", 200 * MIB + 1)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    assert body["error"]["details"] == {"field": "bytes", "limit": 200 * MIB}


def test_a_fourth_pending_job_is_429() -> None:
    owner = new_owner()
    for _ in range(3):
        assert start(owner, "m.keras", 100)[0] == 201
    status, body = start(owner, "m.keras", 100)
    assert (status, body["error"]["code"]) == (429, "too_many_pending_imports")
    assert body["error"]["details"] == {"pending": 3, "limit": 3}


class RacedOnce(ImportJobRepository):
    """Lands another create of the same owner, through the API, right after the first
    count of the owner's jobs: the moment two creates racing for one place collide."""

    raced = False

    def all(self, owner: str) -> list[ImportJob]:
        jobs = super().all(owner)
        if not self.raced:
            self.raced = True
            assert start(owner, "rival.keras", 100)[0] == 201
        return jobs


def test_two_creates_racing_for_the_last_place_land_one() -> None:
    owner = new_owner()
    for _ in range(2):
        assert start(owner, "m.keras", 100)[0] == 201
    with pytest.raises(TooManyPendingImports) as refused:
        import_jobs.create_job(
            settings(),
            RacedOnce(settings().table),
            owner,
            ImportJobCreate(filename="late.keras", bytes=100),
        )
    assert refused.value.details == {"pending": 3, "limit": 3}
    _, listed = call_api("GET", "/networks/import-jobs", owner=owner)
    assert sorted(j["filename"] for j in listed["items"]) == ["m.keras", "m.keras", "rival.keras"]


def test_pending_bytes_over_the_users_limit_are_429() -> None:
    owner = new_owner()
    assert start(owner, "a.keras", 200 * MIB)[0] == 201
    status, body = start(owner, "b.keras", 150 * MIB)
    assert (status, body["error"]["code"]) == (429, "pending_import_bytes")
    assert body["error"]["details"] == {"pending_bytes": 200 * MIB, "limit": 300 * MIB}


def test_a_cancelled_job_frees_its_place_and_its_upload_is_deleted_unread(
    files: dict[str, bytes], local: Any
) -> None:
    owner = new_owner()
    _, created = start(owner, "mlp.keras", len(files["mlp.keras"]))
    job_id = created["job"]["id"]
    status, cancelled = call_api("POST", f"/networks/import-jobs/{job_id}/cancel", owner=owner)
    assert (status, cancelled["status"]) == (200, "cancelled")
    assert post(created["upload"], files["mlp.keras"]).status_code == 204
    s3 = local.client("s3")
    key = created["job"]["upload_key"]
    wait_for(
        lambda: True if s3.list_objects_v2(Bucket=UPLOADS, Prefix=key)["KeyCount"] == 0 else None,
        30,
        "the cancelled job's upload to be deleted",
    )
    assert job(owner, job_id)["status"] == "cancelled"
    status, again = call_api("POST", f"/networks/import-jobs/{job_id}/cancel", owner=owner)
    assert (status, again["error"]["details"]) == (409, {"status": "cancelled"})


def test_jobs_are_listed_a_page_at_a_time() -> None:
    owner = new_owner()
    ids = {start(owner, f"m{i}.keras", 10)[1]["job"]["id"] for i in range(3)}
    status, first = call_api("GET", "/networks/import-jobs", owner=owner, query={"limit": "2"})
    assert status == 200 and len(first["items"]) == 2 and first["next_token"]
    _, rest = call_api(
        "GET",
        "/networks/import-jobs",
        owner=owner,
        query={"limit": "2", "next_token": first["next_token"]},
    )
    assert {j["id"] for j in first["items"] + rest["items"]} == ids


def test_another_users_job_is_404(files: dict[str, bytes]) -> None:
    owner, other = new_owner(), new_owner()
    _, created = start(owner, "m.keras", 100)
    job_id = created["job"]["id"]
    for method, path in [
        ("GET", f"/networks/import-jobs/{job_id}"),
        ("POST", f"/networks/import-jobs/{job_id}/cancel"),
        ("POST", f"/networks/import-jobs/{job_id}/create-graph"),
    ]:
        status, body = call_api(method, path, owner=other)
        assert (status, body["error"]["code"]) == (404, "not_found"), path
    assert call_api("GET", "/networks/import-jobs", owner=other)[1]["items"] == []
    assert job(owner, job_id)["status"] == "queued"


def test_a_post_of_another_size_than_declared_is_refused_by_s3() -> None:
    _, created = start(new_owner(), "m.keras", 100)
    answer = post(created["upload"], b"x" * 99)
    assert answer.status_code == 400
    assert b"<Code>EntityTooSmall</Code>" in answer.content


def test_a_queued_job_whose_upload_expired_fails_and_frees_its_place() -> None:
    owner = new_owner()
    ids = [start(owner, "m.keras", 100)[1]["job"]["id"] for _ in range(3)]
    long_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    ImportJobRepository(settings().table).set(owner, ids[0], {"upload_expires_at": long_ago})
    assert start(owner, "m.keras", 100)[0] == 201
    assert job(owner, ids[0])["error"] == {
        "code": "upload_expired",
        "message": "no file was uploaded in time",
    }
    assert job(owner, ids[0])["status"] == "failed"


def test_a_file_sent_again_while_the_first_is_imported_is_deleted_alone(local: Any) -> None:
    s3 = local.client("s3")
    owner = new_owner()
    _, created = start(owner, "m.keras", 100)
    job_id, key = created["job"]["id"], created["job"]["upload_key"]
    # The first file landed and claimed the job, as its notification would have, and its
    # import has not read it yet: put with the bucket's notifications off, so that no
    # import runs (and deletes it) while the test looks.
    first = put_unnoticed(s3, UPLOADS, key, b"a" * 100)
    claimed = ImportJobRepository(settings().table).move(
        owner, job_id, ImportStatus.QUEUED, ImportStatus.PROCESSING, {"execution": "first"}
    )
    assert claimed is not None
    assert post(created["upload"], b"b" * 100).status_code == 204

    def first_again() -> bool | None:
        found = s3.list_object_versions(Bucket=UPLOADS, Prefix=key).get("Versions", [])
        return True if [v["ETag"] for v in found] == [first["ETag"]] else None

    wait_for(first_again, 30, "the second file to be deleted, the first kept")
    assert s3.get_object(Bucket=UPLOADS, Key=key)["Body"].read() == b"a" * 100


def test_a_file_put_under_imports_at_a_key_never_issued_is_deleted(local: Any) -> None:
    s3 = local.client("s3")
    key = f"imports/{new_owner()}/{uuid.uuid4().hex}.keras"
    s3.put_object(Bucket=UPLOADS, Key=key, Body=b"PK\x03\x04 not issued")
    wait_for(
        lambda: True if s3.list_objects_v2(Bucket=UPLOADS, Prefix=key)["KeyCount"] == 0 else None,
        30,
        "the stray file to be deleted",
    )


def test_a_put_of_another_size_than_declared_fails_the_job(local: Any) -> None:
    owner = new_owner()
    _, created = start(owner, "m.keras", 100)
    local.client("s3").put_object(Bucket=UPLOADS, Key=created["job"]["upload_key"], Body=b"x" * 50)
    done = ended(owner, created["job"]["id"])
    assert (done["status"], done["error"]) == (
        "failed",
        {"code": "size_mismatch", "message": "50 bytes landed; 100 declared"},
    )


@pytest.mark.parametrize("graph", [MLP, TWO_INPUTS], ids=["mlp", "two_inputs"])
def test_round_trip_a_graph_from_the_api_compiled_saved_and_imported_is_the_same(
    graph: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    owner = new_owner()
    status, stored = call_api(
        "POST", "/networks/graphs", graph.model_dump(mode="json"), owner=owner
    )
    assert status == 201, stored
    status, compiled = call_api("POST", f"/networks/graphs/{stored['id']}/compile", owner=owner)
    assert status == 200, compiled
    # Saved by compile's own builder (networks.compile.build_model), from the stored graph.
    path = tmp_path_factory.mktemp("round_trip") / "model.keras"
    count = save(GraphBody.model_validate({k: stored[k] for k in ("name", "nodes", "edges")}), path)
    done = upload_and_wait(owner, "model.keras", path.read_bytes(), create_graph=True)
    assert done["status"] == "succeeded"
    assert graph_shape(done["graph_payload"]) == graph_shape(stored)
    assert done["parameter_count"] == count == compiled["parameter_count"]
    status, recompiled = call_api(
        "POST", f"/networks/graphs/{done['graph_id']}/compile", owner=owner
    )
    assert recompiled["parameter_count"] == compiled["parameter_count"]
    assert (recompiled["inputs"], recompiled["outputs"]) == (
        compiled["inputs"],
        compiled["outputs"],
    )
