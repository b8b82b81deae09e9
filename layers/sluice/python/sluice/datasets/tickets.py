"""Upload tickets: an upload lands only where it was issued.

Every upload of a dataset's file (a presigned POST, an upload in parts, the API's own put
of inline content) is issued under a fresh name, and its ticket is recorded on the
dataset (``Dataset.upload_tickets``) before the URLs are handed out, so that the S3
notification of the file, which comes after, always finds it. ``on_upload`` ingests a
file only if its key's name is a ticket of that dataset not used yet, and marks it used
in the same conditional write that claims the run; anything else landing under
``uploads/`` (a key changed in a POST's form, a put with other credentials, a second
file sent with one ticket) is deleted and logged, and the dataset is left as it was: the
uploads bucket keeps versions, and only the version that landed is deleted, so a second
file S3 wrote over the dataset's stored one leaves that as it was.

S3 checks each presigned POST's policy (its key, size range and expiry) and signature,
and each part URL's signature; the ticket is the second check, the one S3 cannot make:
that the name was issued for this dataset, and lets in one file.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sluice.datasets.models import Dataset, OpenUpload, UploadKind, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.errors import NotFound

NOTICE_GRACE = timedelta(minutes=15)
"""How long a ticket is kept past its URLs' expiry: a file sent just before then may
still be on its way, or its notification."""
PARTS_GRACE = timedelta(days=1)
"""How long after its part URLs expire an upload in parts may still be completed."""
MAX_TICKETS = 16
"""Tickets kept per dataset; issuing one more forgets the one that expires first."""


def new_upload_name() -> str:
    """A fresh name (12 hex digits) for an upload of a dataset's file."""
    return uuid.uuid4().hex[:12]


def ticket_for(kind: UploadKind, ttl_s: int, now: datetime | None = None) -> OpenUpload:
    """A ticket for an upload whose URLs last ``ttl_s`` seconds."""
    expires = (now or utcnow()) + timedelta(seconds=ttl_s)
    if kind == "parts":
        expires += PARTS_GRACE
    return OpenUpload(kind=kind, expires_at=expires)


def stale(tickets: dict[str, OpenUpload], now: datetime) -> list[str]:
    """The tickets to forget before one more is recorded: those past their expiry and
    grace, then, beyond :data:`MAX_TICKETS` less one, those expiring first."""
    expired = [name for name, ticket in tickets.items() if ticket.expires_at + NOTICE_GRACE < now]
    live = sorted(
        (name for name in tickets if name not in expired), key=lambda name: tickets[name].expires_at
    )
    return expired + live[: max(0, len(live) - (MAX_TICKETS - 1))]


def issue(repo: DatasetRepository, dataset: Dataset, kind: UploadKind, ttl_s: int) -> str:
    """Record a fresh ticket on ``dataset`` and return its upload's name (NotFound if the
    dataset was deleted meanwhile)."""
    name = new_upload_name()
    now = utcnow()
    drop = stale(dataset.upload_tickets, now)
    if (
        repo.open_ticket(dataset.owner, dataset.id, name, ticket_for(kind, ttl_s, now), drop)
        is None
    ):
        raise NotFound(f"dataset {dataset.id} not found")
    return name


def extend(repo: DatasetRepository, dataset: Dataset, name: str, ttl_s: int) -> None:
    """Give the open upload ``name`` of ``dataset`` the expiry of URLs presigned now
    (NotFound if the dataset was deleted meanwhile)."""
    now = utcnow()
    kind = dataset.upload_tickets[name].kind
    drop = [other for other in stale(dataset.upload_tickets, now) if other != name]
    if (
        repo.open_ticket(dataset.owner, dataset.id, name, ticket_for(kind, ttl_s, now), drop)
        is None
    ):
        raise NotFound(f"dataset {dataset.id} not found")
