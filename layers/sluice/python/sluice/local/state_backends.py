"""The parts of moto's Cognito, DynamoDB and Glue backends that ``sluice local`` saves
(:class:`Scope` says whose), each pickled as moto holds it; S3's objects are
:mod:`sluice.local.state_objects`'.

- **Cognito**: the user pools themselves (users and their passwords, the app client,
  the tokens issued); the pool keeps its id and client id, so a token issued before a
  restart still passes the authorizer until it expires, and a refresh token still
  refreshes. moto signs every pool's tokens with one fixed key
  (``cognitoidp/resources/jwks-private.json``), which is not pickled but loaded again.
- **DynamoDB**: each catalogued table's items, pickled under the lock that has moto
  answer one DynamoDB request at a time (``patches.dynamodb_atomic``): a consistent copy.
- **Glue**: the tables of each catalogued database (every ready dataset's); the
  databases themselves provisioning makes again.
"""

from __future__ import annotations

import io
import pickle
import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.glue.models import glue_backends
from moto.utilities.utils import load_resource

from sluice.local.patches import dynamodb_atomic
from sluice.local.state_folder import StateError


@dataclass(frozen=True)
class Scope:
    """What is saved: the deployment's tables and buckets, in ``account`` and ``region``."""

    tables: tuple[str, ...]
    buckets: tuple[str, ...]
    glue_databases: tuple[str, ...] = ()
    account: str = "123456789012"
    region: str = "us-east-1"


# --- Cognito -----------------------------------------------------------------------------


def pool_key() -> RSAKey:
    """The key moto signs every pool's tokens with (what CognitoIdpUserPool loads)."""
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


class _PoolPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):  # cryptography's keys do not pickle; moto's is fixed
            return pool_key, ()
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


def save_cognito(scope: Scope) -> bytes:
    """The user pools of ``scope``'s account and region, pickled."""
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


def save_glue(scope: Scope, name: str) -> bytes:
    """The tables of the Glue database ``name``, pickled (none if it does not exist)."""
    database = glue_backends[scope.account][scope.region].databases.get(name)
    tables = {} if database is None else database.tables
    return _dumps_retrying(lambda: pickle.dumps(dict(tables), protocol=pickle.HIGHEST_PROTOCOL))


# --- DynamoDB ----------------------------------------------------------------------------


def save_table(scope: Scope, name: str) -> bytes:
    """The items of the table ``name``, pickled while no DynamoDB request runs."""
    table = dynamodb_backends[scope.account][scope.region].get_table(name)
    with dynamodb_atomic.request_lock():
        return pickle.dumps(table.items, protocol=pickle.HIGHEST_PROTOCOL)


__all__ = ["Scope", "pool_key", "save_cognito", "save_glue", "save_table", "user_pool_ids"]
