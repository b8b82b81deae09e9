"""Have botocore list a service's regions without keeping the service's whole model.

moto asks botocore which regions each service has: EC2 three times as it is imported
(once per partition, each from a new session), and every backend once per partition
from a session moto keeps. botocore answers from the endpoints' data, but first loads
the service's whole model to read one field of it, its endpoint prefix, and the kept
session keeps every model it loaded: ~40 MiB of Python objects in the embedded AWS's
process for the ten services the local system uses (EC2's alone is 14.5 MiB), 32 MiB
of its resident memory and ~0.4 s of CPU at each start (bench/README.md's logbook,
session 21).

Here each service's endpoint prefix is read once per process from the head of its
model's file (the ``metadata`` object opens every botocore model, and no other object
has the key), falling back to loading the model where the head does not hold it, and
every session answers from its own endpoints' resolver with it: the same lists botocore
gives (the prefix is not always the service's name: DocumentDB and Neptune resolve as
``rds``, so it is read, not guessed).

moto is pinned exactly (``pyproject.toml``) because this touches botocore's session as
moto calls it.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from botocore import loaders
from botocore.session import Session

from sluice.local.patches.replace import replace_once, replaced, restore

_HEAD_BYTES = 4096
# A key, not a documentation string's words: those are escaped (\"endpointPrefix\").
_PREFIX_KEY = re.compile(rb'"endpointPrefix"\s*:\s*"([^"\\]+)"')
# Where botocore's JSONFileLoader looks, in its order.
_OPENERS: dict[str, Callable[..., Any]] = {".json": open, ".json.gz": gzip.open}


def _prefix_in_head(loader: loaders.Loader, service_name: str) -> str | None:
    """The prefix at the head of the model file ``loader`` would load; None where the
    head does not hold it."""
    name = f"{service_name}/{loader.determine_latest_version(service_name, 'service-2')}"
    for folder in loader.search_paths:
        for extension, opener in _OPENERS.items():
            path = os.path.join(folder, name, "service-2" + extension)
            if os.path.isfile(path):
                with opener(path, "rb") as model:
                    found = _PREFIX_KEY.search(model.read(_HEAD_BYTES))
                return found.group(1).decode() if found else None
    return None


def endpoint_prefix(session: Session, service_name: str) -> str | None:
    """``service_name``'s endpoint prefix (as botocore reads it from the service's model),
    looked up once per process without keeping the model; None if botocore has no such
    service."""
    return _endpoint_prefix(session.get_config_variable("data_path"), service_name)


@cache
def _endpoint_prefix(data_path: str | None, service_name: str) -> str | None:
    loader = loaders.create_loader(data_path)
    if service_name not in loader.list_available_services("service-2"):
        return None
    prefix = _prefix_in_head(loader, service_name)
    if prefix is None:
        model = loader.load_service_model(service_name, "service-2")
        prefix = model["metadata"].get("endpointPrefix", service_name)
    return prefix


def _from_endpoints(get_available_regions: Callable[..., list[str]]) -> Callable[..., list[str]]:
    def get_available_regions_keeping_no_model(
        self: Session,
        service_name: str,
        partition_name: str = "aws",
        allow_non_regional: bool = False,
    ) -> list[str]:
        prefix = endpoint_prefix(self, service_name)
        if prefix is None:
            return []
        resolver: Any = self._get_internal_component("endpoint_resolver")
        regions: list[str] = resolver.get_available_endpoints(
            prefix, partition_name, allow_non_regional
        )
        return regions

    return get_available_regions_keeping_no_model


def install() -> None:
    """List regions without keeping models from now on. Safe to call more than once;
    before moto's EC2 is imported, it spares that import's three loads too."""
    replace_once(Session, "get_available_regions", _from_endpoints)


def uninstall() -> None:
    """Put botocore back as it was (for tests comparing with its own answers)."""
    restore(Session, "get_available_regions")


def installed() -> bool:
    """Whether ``install()`` has patched botocore in this process."""
    return replaced(Session, "get_available_regions")


__all__ = ["endpoint_prefix", "install", "installed", "uninstall"]
