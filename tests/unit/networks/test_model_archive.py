"""What an uploaded model file may be, judged from its zip directory before anything is
inflated (``sluice.networks.model_archive``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sluice.networks import model_archive
from sluice.networks.model_archive import ImportRefused, extension, prepare

from tests.model_files import bomb, zipped

KERAS_LIKE = zipped({"config.json": b"{}", "model.weights.h5": b"\x00" * 10})


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def refusal(upload: Path, suffix: str, folder: Path) -> tuple[str, str]:
    with pytest.raises(ImportRefused) as caught:
        prepare(upload, suffix, folder)
    return caught.value.code, caught.value.message


@pytest.mark.parametrize("name", ["model.keras", "MODEL.H5", "weights.zip"])
def test_the_three_extensions_are_taken(name: str) -> None:
    assert extension(name) == Path(name.lower()).suffix


@pytest.mark.parametrize("name", ["model.pkl", "model", "model.keras.exe", "model.tar.gz"])
def test_any_other_extension_is_refused(name: str) -> None:
    with pytest.raises(ImportRefused) as caught:
        extension(name)
    assert (caught.value.status, caught.value.code) == (422, "unsupported_extension")


def test_a_zip_slip_entry_is_refused_naming_it(tmp_path: Path) -> None:
    upload = write(tmp_path, "u.zip", zipped({"../../evil.keras": KERAS_LIKE}))
    assert refusal(upload, ".zip", tmp_path) == (
        "unsafe_path",
        "the zip: the entry '../../evil.keras' would unpack outside its folder",
    )
    assert not (tmp_path.parent / "evil.keras").exists()


@pytest.mark.parametrize("name", ["/abs/model.keras", "C:/model.keras", "a\\..\\model.keras"])
def test_absolute_and_backslashed_names_are_zip_slip_too(tmp_path: Path, name: str) -> None:
    upload = write(tmp_path, "u.zip", zipped({name: KERAS_LIKE}))
    assert refusal(upload, ".zip", tmp_path)[0] == "unsafe_path"


def test_a_zip_bomb_fails_from_its_directory_without_inflating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = write(tmp_path, "u.zip", bomb())
    assert upload.stat().st_size < 1_000_000
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *_, **__: pytest.fail("inflated"))
    code, message = refusal(upload, ".zip", tmp_path)
    assert code == "compression_ratio"
    assert message.startswith("the zip: the entry 'model.keras' inflates 1,0")
    assert message.endswith("to 149,946,368 bytes); at most 100x (a zip bomb?)")


def test_more_than_the_unpacked_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_archive, "MAX_UNPACKED_BYTES", 1000)
    upload = write(tmp_path, "u.zip", zipped({"model.keras": b"x" * 600, "b.txt": b"y" * 600}))
    assert refusal(upload, ".zip", tmp_path) == (
        "too_large_unpacked",
        "the zip unpacks to 1,200 bytes; at most 1,000",
    )


def test_more_than_1000_entries_are_refused(tmp_path: Path) -> None:
    entries = {f"f{i}.txt": b"" for i in range(1001)}
    upload = write(tmp_path, "u.zip", zipped(entries, zipfile.ZIP_STORED))
    assert refusal(upload, ".zip", tmp_path) == (
        "too_many_entries",
        "the zip holds 1001 entries; at most 1000",
    )


def test_a_zip_must_hold_exactly_one_model(tmp_path: Path) -> None:
    none = write(tmp_path, "n.zip", zipped({"readme.txt": b"hi"}))
    assert refusal(none, ".zip", tmp_path)[0] == "model_not_found"
    two = write(tmp_path, "t.zip", zipped({"a.keras": KERAS_LIKE, "b.h5": b"x"}))
    assert refusal(two, ".zip", tmp_path)[0] == "several_models"


def test_a_keras_file_is_itself_held_to_the_archive_limits(tmp_path: Path) -> None:
    upload = write(tmp_path, "u.keras", bomb(8_000_000))
    assert refusal(upload, ".keras", tmp_path)[0] == "compression_ratio"


def test_a_file_that_is_not_what_its_extension_says_is_refused(tmp_path: Path) -> None:
    upload = write(tmp_path, "u.h5", b"not hdf5 at all")
    assert refusal(upload, ".h5", tmp_path) == ("not_a_model", "the .h5 file is not an HDF5 file")


def test_the_model_comes_out_of_the_zip_under_our_own_name(tmp_path: Path) -> None:
    upload = write(tmp_path, "u.zip", zipped({"deep/dir/My Model.keras": KERAS_LIKE}))
    model = prepare(upload, ".zip", tmp_path)
    assert model == tmp_path / "model.keras"
    assert model.read_bytes() == KERAS_LIKE
