"""The durable state of ``sluice local --state-dir DIR``: what the embedded AWS holds,
saved to a folder and restored from it before the API answers.

moto keeps everything in memory and has no persistence of its own, so this saves the
parts of its backends that are data, and provisioning recreates the rest (roles,
functions, state machines, the buckets' CORS and notifications) as on any start:

- **Cognito**: the user pools themselves (users and their passwords, the app client,
  the tokens issued), pickled; the pool keeps its id and client id, so a token issued
  before a restart still passes the authorizer until it expires, and a refresh token
  still refreshes. moto signs every pool's tokens with one fixed key
  (``cognitoidp/resources/jwks-private.json``), which is not pickled but loaded again.
- **DynamoDB**: each catalogued table's items, pickled under the lock that has moto
  answer one DynamoDB request at a time (``patches.dynamodb_atomic``): a consistent copy.
- **Glue**: the tables of each catalogued database (every ready dataset's), pickled; the
  databases themselves provisioning makes again.
- **S3**: each object of the catalogued buckets in a file of its own under
  ``objects/``, written once (its name derives from the bucket, key, ETag, time and
  size), beside the key's metadata; a restore rebuilds the keys without an S3 event,
  so nothing is ingested twice.

``snapshot.pickle`` names all of it; it is written to a temporary file and renamed, so a
crash leaves the previous snapshot whole, and object files no snapshot names are then
removed. A :class:`Snapshotter` saves when something changed, every few seconds, and once
more on a clean stop: a crash (kill -9) loses at most the last interval.

What was running is not: moto's Step Functions executions live in its threads, and a
restart has none. :func:`restore` marks a dataset that was being ingested, a task or a
training job queued or running, and a model import processing ``failed`` with the error
``interrupted``; the owner uploads again (or repeats the change, or starts the task, the
training or the import again). A multipart upload not completed
before the stop is gone too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import logging
import os
import pickle
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import moto
from joserfc.jwk import RSAKey
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.glue.models import glue_backends
from moto.s3.models import FakeKey, s3_backends
from moto.settings import get_s3_default_key_buffer_size
from moto.utilities.utils import load_resource

from sluice.datasets.models import DatasetStatus
from sluice.datasets.repository import PREFIX as DATASET_PREFIX
from sluice.local.patches import dynamodb_atomic
from sluice.local.patches.s3_reads import BLOCK_BYTES, read_key_range
from sluice.networks.import_models import ImportStatus
from sluice.networks.import_repository import PREFIX as IMPORT_PREFIX
from sluice.tasks.models import TaskStatus
from sluice.tasks.repository import PREFIX as TASK_PREFIX
from sluice.training.models import OPEN_STATUSES as TRAINING_OPEN
from sluice.training.repository import PREFIX as TRAINING_PREFIX

logger = logging.getLogger(__name__)

SNAPSHOT = "snapshot.pickle"
OBJECTS = "objects"
LOCK = "lock"
FORMAT = 1
INTERVAL_S = 2.0
"""How often the state is saved while it changes: what a crash may lose."""

INTERRUPTED = "interrupted"
DATASET_INTERRUPTED = (
    "sluice local stopped while this dataset was being ingested; upload the file again "
    "(or repeat the change) to run it again"
)
TASK_INTERRUPTED = "sluice local stopped while this task ran; start it again"
IMPORT_INTERRUPTED = "sluice local stopped while this model was imported; import it again"
TRAINING_INTERRUPTED = "sluice local stopped while this network trained; start it again"

# Attributes of an S3 key that are not its metadata: its bytes, and what holds them.
_KEY_RUNTIME = frozenset({"_value_buffer", "lock", "value", "multipart"})


class StateError(Exception):
    """The state folder cannot be used (held by another process, or from another moto)."""


@dataclass(frozen=True)
class Scope:
    """What is saved: the deployment's tables and buckets, in ``account`` and ``region``."""

    tables: tuple[str, ...]
    buckets: tuple[str, ...]
    glue_databases: tuple[str, ...] = ()
    account: str = "123456789012"
    region: str = "us-east-1"


@dataclass
class Snapshot:
    """One saved state, as ``snapshot.pickle`` holds it."""

    cognito: bytes
    tables: dict[str, bytes]
    # bucket -> key -> (object file name, the key's pickled attributes)
    objects: dict[str, dict[str, tuple[str, bytes]]]
    aws_port: int = 0
    glue: dict[str, bytes] = field(default_factory=dict)  # database -> its tables, pickled
    saved_at: float = field(default_factory=time.time)
    moto_version: str = moto.__version__
    format: int = FORMAT

    def same_content(self, other: Snapshot | None) -> bool:
        return (
            other is not None
            and self.cognito == other.cognito
            and self.tables == other.tables
            and self.objects == other.objects
            and self.aws_port == other.aws_port
            and self.glue == other.glue
        )


class StateDir:
    """A state folder, held by this process (an exclusive lock) until :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        (self.path / OBJECTS).mkdir(parents=True, exist_ok=True)
        self._lock: BinaryIO | None = (self.path / LOCK).open("wb")
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise StateError(f"{self.path} is in use by another sluice local") from None

    @property
    def snapshot_path(self) -> Path:
        return self.path / SNAPSHOT

    @property
    def fresh(self) -> bool:
        """Whether nothing was ever saved here."""
        return not self.snapshot_path.exists()

    def object_path(self, name: str) -> Path:
        return self.path / OBJECTS / name

    def load(self) -> Snapshot | None:
        """The saved snapshot, or None where there is none."""
        if self.fresh:
            return None
        with self.snapshot_path.open("rb") as source:
            snapshot = _unpickle(source.read())
        if not isinstance(snapshot, Snapshot) or snapshot.format != FORMAT:
            raise StateError(f"{self.snapshot_path} is not a snapshot this version can read")
        if snapshot.moto_version != moto.__version__:
            raise StateError(
                f"{self.snapshot_path} was saved with moto {snapshot.moto_version}, this is "
                f"moto {moto.__version__}; start with another --state-dir (or --ephemeral)"
            )
        return snapshot

    def write(self, snapshot: Snapshot) -> None:
        """Replace the snapshot at once (temporary file, then rename), then remove the
        object files it no longer names."""
        data = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        _write_atomically(self.snapshot_path, data)
        named = {name for keys in snapshot.objects.values() for name, _ in keys.values()}
        for path in (self.path / OBJECTS).iterdir():
            if path.name not in named:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


def _unpickle(data: bytes) -> Any:
    """Only ever what this module pickled into the state folder, which a user names and
    owns (as its moto's memory, which it stands for): never data from elsewhere."""
    return pickle.loads(data)  # nosec B301


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


# --- Cognito -----------------------------------------------------------------------------


def _pool_key() -> RSAKey:
    """The key moto signs every pool's tokens with (what CognitoIdpUserPool loads)."""
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


class _PoolPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):  # cryptography's keys do not pickle; moto's is fixed
            return _pool_key, ()
        return NotImplemented


def _dumps_retrying(dump: Any) -> bytes:
    # moto's Cognito and S3 have no locks: a dict may change while it is walked.
    for attempt in range(10):
        try:
            result: bytes = dump()
            return result
        except RuntimeError:
            if attempt == 9:
                raise
            time.sleep(0.01)
    raise AssertionError("unreachable")


def _save_cognito(scope: Scope) -> bytes:
    pools = cognitoidp_backends[scope.account][scope.region].user_pools

    def dump() -> bytes:
        buffer = io.BytesIO()
        _PoolPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(dict(pools))
        return buffer.getvalue()

    return _dumps_retrying(dump)


def user_pool_ids(scope: Scope, pool_name: str, client_name: str) -> tuple[str, str]:
    """(pool id, client id) of the pool called ``pool_name`` and its client ``client_name``."""
    for pool in cognitoidp_backends[scope.account][scope.region].user_pools.values():
        if pool.name == pool_name:
            for client in pool.clients.values():
                if client.extended_config.get("ClientName") == client_name:
                    return pool.id, client.id
    raise StateError(f"the saved state has no user pool {pool_name} with client {client_name}")


# --- Glue --------------------------------------------------------------------------------


def _save_glue(scope: Scope, name: str) -> bytes:
    database = glue_backends[scope.account][scope.region].databases.get(name)
    tables = {} if database is None else database.tables
    return _dumps_retrying(lambda: pickle.dumps(dict(tables), protocol=pickle.HIGHEST_PROTOCOL))


# --- DynamoDB ----------------------------------------------------------------------------


def _save_table(scope: Scope, name: str) -> bytes:
    table = dynamodb_backends[scope.account][scope.region].get_table(name)
    with dynamodb_atomic.request_lock():
        return pickle.dumps(table.items, protocol=pickle.HIGHEST_PROTOCOL)


def _interrupted(item: Item) -> str | None:
    """The message for a record whose run a restart ended; None for any other record."""
    sort_key = item.range_key.value if item.range_key is not None else ""
    status = item.attrs.get("status")
    status_value = status.value if status is not None else None
    if str(sort_key).startswith(DATASET_PREFIX):
        running = "ingest_run" in item.attrs and not item.attrs["ingest_run"].is_null()
        if status_value == DatasetStatus.INFERRING or (
            status_value == DatasetStatus.UPLOADED and running
        ):
            return DATASET_INTERRUPTED
    if str(sort_key).startswith(TASK_PREFIX) and status_value in (
        TaskStatus.QUEUED,
        TaskStatus.RUNNING,
    ):
        return TASK_INTERRUPTED
    if str(sort_key).startswith(TRAINING_PREFIX) and status_value in TRAINING_OPEN:
        return TRAINING_INTERRUPTED  # its execution and its trainer's process are gone
    # A queued import still takes its upload after a restart; a processing one had its
    # execution, and would otherwise hold its user's pending quota for ever.
    if str(sort_key).startswith(IMPORT_PREFIX) and status_value == ImportStatus.PROCESSING:
        return IMPORT_INTERRUPTED
    return None


def mark_interrupted(items: Iterable[Item]) -> int:
    """Mark ``failed`` (error ``interrupted``) each dataset being ingested and each task
    queued or running: no execution of theirs survived the restart. Returns how many."""
    marked = 0
    for item in items:
        message = _interrupted(item)
        if message is None:
            continue
        item.attrs["status"] = DynamoType({"S": "failed"})
        item.attrs["error"] = DynamoType(
            {"M": {"code": {"S": INTERRUPTED}, "message": {"S": message}}}
        )
        marked += 1
    return marked


# --- S3 ----------------------------------------------------------------------------------


def _object_name(bucket: str, key: FakeKey, etag: str) -> str:
    identity = f"{bucket}\0{key.name}\0{etag}\0{key.last_modified.isoformat()}\0{key.size}"
    return hashlib.sha256(identity.encode()).hexdigest()


def _key_attributes(key: FakeKey) -> bytes:
    state = {name: value for name, value in vars(key).items() if name not in _KEY_RUNTIME}
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def _restore_key(attributes: bytes, source: Path) -> FakeKey:
    """A key with ``attributes`` and the bytes of ``source``, as moto would hold it."""
    key = cast(FakeKey, FakeKey.__new__(FakeKey))
    vars(key).update(_unpickle(attributes))
    key.multipart = None
    key.lock = threading.Lock()
    size = source.stat().st_size
    limit = getattr(key, "_max_buffer_size", None) or get_s3_default_key_buffer_size()
    buffer = tempfile.SpooledTemporaryFile(limit)  # noqa: SIM115 - the key's own file
    if size > limit:
        buffer.rollover()
    with source.open("rb") as data:
        while block := data.read(BLOCK_BYTES):
            buffer.write(block)
    key._value_buffer = buffer
    key.contentsize = size
    return key


# --- saving and restoring ----------------------------------------------------------------


class Snapshotter:
    """Saves the embedded AWS's state of ``scope`` into ``state``: at once (:meth:`save`),
    every ``interval`` seconds on a thread (:meth:`start`), and last at :meth:`stop`."""

    def __init__(
        self, state: StateDir, scope: Scope, aws_port: int = 0, interval: float = INTERVAL_S
    ) -> None:
        self.state = state
        self.scope = scope
        self.aws_port = aws_port
        self.interval = interval
        self._last: Snapshot | None = None
        # (bucket, key) -> (the key's identity, (object file, pickled attributes))
        self._objects: dict[tuple[str, str], tuple[tuple[Any, ...], tuple[str, bytes]]] = {}
        self._save_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def save(self) -> bool:
        """Save the state now if it changed since the last save; whether it was written."""
        with self._save_lock:
            snapshot = Snapshot(
                cognito=_save_cognito(self.scope),
                tables={name: _save_table(self.scope, name) for name in self.scope.tables},
                objects=self._save_objects(),
                aws_port=self.aws_port,
                glue={name: _save_glue(self.scope, name) for name in self.scope.glue_databases},
            )
            if snapshot.same_content(self._last):
                return False
            self.state.write(snapshot)
            self._last = snapshot
            return True

    def _save_objects(self) -> dict[str, dict[str, tuple[str, bytes]]]:
        backend = s3_backends[self.scope.account]["aws"]
        saved: dict[str, dict[str, tuple[str, bytes]]] = {}
        for bucket_name in self.scope.buckets:
            bucket = backend.buckets.get(bucket_name)
            if bucket is None:
                continue
            keys = saved.setdefault(bucket_name, {})
            for name, versions in dict(bucket.keys).items():
                key = versions[-1] if versions else None
                if not isinstance(key, FakeKey):
                    continue
                entry = self._save_object(bucket_name, name, key)
                if entry is not None:
                    keys[name] = entry
        return saved

    def _save_object(self, bucket: str, name: str, key: FakeKey) -> tuple[str, bytes] | None:
        identity = (id(key), key._etag, key.last_modified, key.contentsize)
        known = self._objects.get((bucket, name))
        if known is not None and known[0] == identity:
            return known[1]
        try:
            with key.lock:
                etag = key.etag
            file_name = _object_name(bucket, key, etag)
            path = self.state.object_path(file_name)
            if not path.exists() or path.stat().st_size != key.size:
                _write_key(key, path)
            entry = (file_name, _key_attributes(key))
        except ValueError:
            # moto closed the key's file: a newer value replaced it (saved next time).
            return known[1] if known is not None else None
        self._objects[(bucket, name)] = (identity, entry)
        return entry

    def start(self) -> Snapshotter:
        """Save every ``interval`` seconds until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sluice-state", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.save()
            except Exception:
                logger.exception("saving the local state failed; trying again")

    def stop(self) -> None:
        """Stop saving on the thread, then save once more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.save()


def _write_key(key: FakeKey, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    size = int(key.size)
    try:
        with temporary.open("wb") as out:
            for start in range(0, size, BLOCK_BYTES):
                out.write(read_key_range(key, start, min(BLOCK_BYTES, size - start)))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def restore(state: StateDir, snapshot: Snapshot, scope: Scope) -> int:
    """Put ``snapshot`` into the embedded AWS, whose tables and buckets of ``scope`` were
    just provisioned (and are empty); its user pools replace those there. Returns how many
    records were marked interrupted."""
    pools = _unpickle(snapshot.cognito)
    backend = cognitoidp_backends[scope.account][scope.region]
    backend.user_pools.clear()
    backend.user_pools.update(pools)

    tables = dynamodb_backends[scope.account][scope.region]
    marked = 0
    for name in scope.tables:
        if name in snapshot.tables:
            table = tables.get_table(name)
            with dynamodb_atomic.request_lock():
                table.items = _unpickle(snapshot.tables[name])
                marked += mark_interrupted(table.all_items())

    glue = glue_backends[scope.account][scope.region]
    # A snapshot from before Glue was saved has no such field.
    for name, tables in getattr(snapshot, "glue", {}).items():
        if name in scope.glue_databases and name in glue.databases:
            glue.databases[name].tables.update(_unpickle(tables))

    s3 = s3_backends[scope.account]["aws"]
    for bucket_name in scope.buckets:
        bucket = s3.buckets.get(bucket_name)
        if bucket is None:
            continue
        for name, (file_name, attributes) in snapshot.objects.get(bucket_name, {}).items():
            source = state.object_path(file_name)
            if not source.exists():
                logger.warning("the saved object %s/%s has no file; skipped", bucket_name, name)
                continue
            bucket.keys.setlist(name, [_restore_key(attributes, source)])
    return marked


__all__ = [
    "DATASET_INTERRUPTED",
    "INTERRUPTED",
    "INTERVAL_S",
    "TASK_INTERRUPTED",
    "Scope",
    "Snapshot",
    "Snapshotter",
    "StateDir",
    "StateError",
    "mark_interrupted",
    "restore",
    "user_pool_ids",
]
