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
removed (:mod:`sluice.local.state_folder`). A :class:`Snapshotter` saves when something
changed, every few seconds, and once more on a clean stop: a crash (kill -9) loses at most
the last interval.

What was running is not: moto's Step Functions executions live in its threads, and a
restart has none. :func:`restore` marks a dataset that was being ingested, a task or a
training job queued or running, and a model import processing ``failed`` with the error
``interrupted``; the owner uploads again (or repeats the change, or starts the task, the
training or the import again). A multipart upload not completed
before the stop is gone too.

Here: what is saved when, and the restore. The folder and its snapshot are
:mod:`sluice.local.state_folder`'s, Cognito, DynamoDB and Glue
:mod:`sluice.local.state_backends`', the S3 objects :mod:`sluice.local.state_objects`',
and what a restart ended :mod:`sluice.local.state_interrupted`'s.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.glue.models import glue_backends
from moto.s3.models import FakeKey, s3_backends

from sluice.local.patches import dynamodb_atomic
from sluice.local.state_backends import (
    Scope,
    pool_key,
    save_cognito,
    save_glue,
    save_table,
    user_pool_ids,
)
from sluice.local.state_folder import Snapshot, StateDir, StateError, unpickle
from sluice.local.state_interrupted import mark_interrupted
from sluice.local.state_objects import key_attributes, object_name, restore_key, write_key

logger = logging.getLogger(__name__)

INTERVAL_S = 2.0
"""How often the state is saved while it changes: what a crash may lose."""

# A snapshot saved before this module was split names ``Snapshot`` and ``_pool_key`` here
# (pickle stores a class or function by its module's path): both stay importable from
# here, so that such a state folder still loads.
_pool_key = pool_key


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
                cognito=save_cognito(self.scope),
                tables={name: save_table(self.scope, name) for name in self.scope.tables},
                objects=self._save_objects(),
                aws_port=self.aws_port,
                glue={name: save_glue(self.scope, name) for name in self.scope.glue_databases},
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
            file_name = object_name(bucket, key, etag)
            path = self.state.object_path(file_name)
            if not path.exists() or path.stat().st_size != key.size:
                write_key(key, path)
            entry = (file_name, key_attributes(key))
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


def restore(state: StateDir, snapshot: Snapshot, scope: Scope) -> int:
    """Put ``snapshot`` into the embedded AWS, whose tables and buckets of ``scope`` were
    just provisioned (and are empty); its user pools replace those there. Returns how many
    records were marked interrupted."""
    pools = unpickle(snapshot.cognito)
    backend = cognitoidp_backends[scope.account][scope.region]
    backend.user_pools.clear()
    backend.user_pools.update(pools)

    tables = dynamodb_backends[scope.account][scope.region]
    marked = 0
    for name in scope.tables:
        if name in snapshot.tables:
            table = tables.get_table(name)
            with dynamodb_atomic.request_lock():
                table.items = unpickle(snapshot.tables[name])
                marked += mark_interrupted(table.all_items())

    glue = glue_backends[scope.account][scope.region]
    # A snapshot from before Glue was saved has no such field.
    for name, tables in getattr(snapshot, "glue", {}).items():
        if name in scope.glue_databases and name in glue.databases:
            glue.databases[name].tables.update(unpickle(tables))

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
            bucket.keys.setlist(name, [restore_key(attributes, source)])
    return marked


__all__ = [
    "INTERVAL_S",
    "Scope",
    "Snapshot",
    "Snapshotter",
    "StateDir",
    "StateError",
    "restore",
    "user_pool_ids",
]
