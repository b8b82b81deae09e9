"""Have moto's EC2 load its instance-type offerings for the local system's region only.

moto's EC2 reads, when it is imported, which instance types each of ~30 regions offers,
by region, zone and zone id: ~90 MB of Python objects held for the process's life (the
embedded AWS's imports grow from 64 to 153 MiB with EC2, 106 without the other regions).
The local system imports EC2 for ECS (the training's container tasks) and provisions
subnets in one region (``provision.REGION``); moto answers offerings, spot prices and
an instance's type check from the request's region only, so the other regions' lists
are never read.

``install()`` must run before moto's EC2 is first imported to spare the load (the
patches package calls it first); installed later it drops the other regions' lists from
the loaded ones, which gives back less (fragments of the heap stay).

moto is pinned exactly (``pyproject.toml``) because this touches its internals.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from moto.utilities import utils

from sluice.local.patches.replace import replace_once, replaced, restore
from sluice.local.provision import REGION

_OFFERINGS = "ec2/resources/instance_type_offerings/"
_LOADED = "moto.ec2.models.instance_types"


def _other_region(resource: str) -> bool:
    """Whether ``resource`` is an offerings file of a region other than ours."""
    if not resource.startswith(_OFFERINGS):
        return False
    return resource.rsplit("/", 1)[-1].split(".")[0] != REGION


def _ours_only(load_resource: Callable[[str], Any]) -> Callable[[str], Any]:
    def load_resource_of_our_region(resource: str) -> Any:
        return [] if _other_region(resource) else load_resource(resource)

    return load_resource_of_our_region


def install() -> None:
    """Load offerings of our region only from now on, and drop the others' where loaded.
    Safe to call more than once."""
    replace_once(utils, "load_resource", _ours_only)
    loaded = sys.modules.get(_LOADED)
    if loaded is not None:
        for regions in loaded.INSTANCE_TYPE_OFFERINGS.values():
            for region in [name for name in regions if name != REGION]:
                regions[region] = []


def uninstall() -> None:
    """Put moto's loader back (offerings already loaded stay as they are)."""
    restore(utils, "load_resource")


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return replaced(utils, "load_resource")


__all__ = ["install", "installed", "uninstall"]
