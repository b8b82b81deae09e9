"""What the API does with sessions: create, update (appending input data), delete."""

from __future__ import annotations

import uuid

from sluice.config import Settings
from sluice.datasets.models import utcnow
from sluice.operations.validation import refuse
from sluice.sessions import runs
from sluice.sessions.models import InputItem, Session, SessionChanges, SessionCreate, SessionUpdate
from sluice.sessions.references import Stores, check_items
from sluice.sessions.repository import SessionRepository


def _checked(stores: Stores, owner: str, items: list[InputItem]) -> None:
    problems = check_items(stores, owner, items)
    if problems:
        raise refuse(problems)


def create_session(
    sessions: SessionRepository, stores: Stores, owner: str, body: SessionCreate
) -> Session:
    """Record a new session; a 422 naming each input item that refers to nothing of the
    caller's (another user's id included: it is not found)."""
    _checked(stores, owner, body.input_data)
    now = utcnow()
    session = Session(
        id=uuid.uuid4().hex,
        owner=owner,
        name=body.name,
        input_data=_unique(body.input_data),
        created_at=now,
        updated_at=now,
    )
    sessions.create(session)
    return session


def _unique(items: list[InputItem]) -> list[InputItem]:
    seen: set[str] = set()
    kept = []
    for item in items:
        text = item.model_dump_json()
        if text not in seen:
            seen.add(text)
            kept.append(item)
    return kept


def update_session(
    sessions: SessionRepository, stores: Stores, owner: str, session_id: str, body: SessionUpdate
) -> Session:
    """Rename it and append new input items (Datalab's update); items already there stay
    once. Every new item is checked first: a bad one changes nothing."""
    session = sessions.get(owner, session_id)
    changes = SessionChanges()
    if body.name is not None:
        changes.name = body.name
    if body.input_data:
        # The problems name the items by their place in the request.
        _checked(stores, owner, body.input_data)
        changes.input_data = _unique([*session.input_data, *body.input_data])
    if not changes.model_fields_set:
        return session
    updated = sessions.update(owner, session_id, changes)
    return updated if updated is not None else sessions.get(owner, session_id)


def delete_session(
    cfg: Settings, sessions: SessionRepository, stores: Stores, owner: str, session_id: str
) -> None:
    """Delete the session and its operations (stopping those that run, removing what
    they wrote)."""
    sessions.get(owner, session_id)
    token: str | None = None
    while True:
        page, token = stores.operations.list(owner, session_id, 100, token)
        for operation in page:
            runs.delete_operation(cfg, stores, owner, session_id, operation.id)
        if not token:
            break
    sessions.delete(owner, session_id)
