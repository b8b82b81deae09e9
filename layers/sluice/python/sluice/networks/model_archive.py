"""What an uploaded model file may be, checked before Keras reads a byte of it (pure).

A .zip must hold exactly one .keras or .h5 file; a .keras file is itself a zip (its
config, weights and metadata). Both are judged by their central directory first: entry
count, names that would leave the folder they unpack to (zip-slip), the sizes they
declare unpacked, and each entry's compression ratio. A zip bomb thus fails before
anything is inflated; what is then inflated (the one model file out of a .zip) is
streamed with a byte budget, so that a directory that lies about sizes is caught too.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from sluice.errors import Unprocessable
from sluice.networks.import_models import EXTENSIONS

MAX_ENTRIES = 1000
MAX_UNPACKED_BYTES = 200 * 1000 * 1000
MAX_RATIO = 100
"""The most an entry may inflate by. Weights of a trained model barely compress; a run of
zeros inflates ~1000x (deflate's limit), the signature of a bomb."""
RATIO_FLOOR = 1024 * 1024
"""Entries smaller than this unpacked are not held to the ratio (a JSON config may
compress 100x and is harmless)."""
_CHUNK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class ImportRefused(Unprocessable):
    """The file cannot be imported; ``code`` says why (the job's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def extension(filename: str) -> str:
    """The file's extension, lowercased, if an import takes it; 422 otherwise."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix not in EXTENSIONS:
        raise ImportRefused(
            "unsupported_extension",
            f"{filename!r}: an import takes {', '.join(EXTENSIONS)} files",
        )
    return suffix


def _unsafe(name: str) -> bool:
    """Whether an entry's name would unpack outside its folder (zip-slip)."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name).parts


def check_zip(path: Path, what: str) -> list[zipfile.ZipInfo]:
    """The archive's entries, once its directory passes every limit; ``ImportRefused``
    naming the limit (and the entry) otherwise."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused("bad_archive", f"{what} is not a readable zip: {exc}") from exc
    if len(entries) > MAX_ENTRIES:
        raise ImportRefused(
            "too_many_entries", f"{what} holds {len(entries)} entries; at most {MAX_ENTRIES}"
        )
    for entry in entries:
        if _unsafe(entry.filename):
            raise ImportRefused(
                "unsafe_path",
                f"{what}: the entry {entry.filename!r} would unpack outside its folder",
            )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(
            "too_large_unpacked",
            f"{what} unpacks to {unpacked:,} bytes; at most {MAX_UNPACKED_BYTES:,}",
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_FLOOR and ratio > MAX_RATIO:
            raise ImportRefused(
                "compression_ratio",
                f"{what}: the entry {entry.filename!r} inflates {ratio:,.0f}x "
                f"({entry.compress_size:,} to {entry.file_size:,} bytes); at most "
                f"{MAX_RATIO}x (a zip bomb?)",
            )
    return entries


def _model_entry(entries: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    models = [
        entry
        for entry in entries
        if not entry.is_dir()
        and PurePosixPath(entry.filename).parts[0] != "__MACOSX"
        and PurePosixPath(entry.filename).suffix.lower() in (".keras", ".h5")
    ]
    if len(models) != 1:
        names = ", ".join(repr(entry.filename) for entry in models) or "none"
        raise ImportRefused(
            "model_not_found" if not models else "several_models",
            f"the zip must hold exactly one .keras or .h5 file; it holds {names}",
        )
    return models[0]


def extract_model(archive_path: Path, folder: Path) -> Path:
    """The one .keras or .h5 file of a .zip, written into ``folder`` under a name of our
    own (nothing the archive names is used as a path), inflated within a byte budget."""
    entry = _model_entry(check_zip(archive_path, "the zip"))
    suffix = PurePosixPath(entry.filename).suffix.lower()
    target = folder / f"model{suffix}"
    budget = min(entry.file_size, MAX_UNPACKED_BYTES)
    written = 0
    with (
        zipfile.ZipFile(archive_path) as archive,
        archive.open(entry) as source,
        target.open("wb") as out,
    ):
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise ImportRefused(
                    "too_large_unpacked",
                    f"the zip's {entry.filename!r} inflates past the {budget:,} bytes "
                    "its directory declares",
                )
            out.write(chunk)
    return target


def check_model_file(path: Path, suffix: str) -> None:
    """A .keras must be a zip passing :func:`check_zip`, a .h5 an HDF5 file."""
    with path.open("rb") as file:
        head = file.read(8)
    if suffix == ".keras":
        if not head.startswith(ZIP_MAGIC):
            raise ImportRefused("not_a_model", "the .keras file is not a Keras v3 (zip) file")
        check_zip(path, "the .keras file")
    elif not head.startswith(HDF5_MAGIC):
        raise ImportRefused("not_a_model", "the .h5 file is not an HDF5 file")


def prepare(upload: Path, suffix: str, folder: Path) -> Path:
    """The model file to load from an upload with extension ``suffix``: the upload itself,
    or the one model file out of a zip; every check passed."""
    if suffix == ".zip":
        model = extract_model(upload, folder)
        suffix = model.suffix
    else:
        model = folder / f"model{suffix}"
        if upload != model:
            shutil.move(upload, model)
    check_model_file(model, suffix)
    return model
