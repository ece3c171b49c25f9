"""Writing the audit log.  Call :func:`record` in the same transaction as the change it
describes, so the log and the data can never disagree."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.extensions import db
from server.geography.models import Commune

# ``province_id`` not given: the commune's province, else the acting account's.
DERIVE: Any = object()


def record(
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    commune_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    actor_id: int | None = None,
    province_id: int | None = DERIVE,
) -> AuditEvent:
    """Add an audit entry (flushed, not committed).  The actor is, unless given, the account
    a JSON API request authenticated (``g.actor``), else the logged-in user, else None (the
    system: commands, background work); only the keys whose value changed are kept when both
    ``before`` and ``after`` are given.

    ``province_id`` is whose event it is (who may read it, :mod:`server.audit.pages`): give it
    for what a province or the nation owns (a form, a table, a rule; None = national); by
    default the commune's province, else the acting account's."""
    if actor_id is None:
        actor_id = current_actor_id()
    if province_id is DERIVE:
        province_id = _province_of(commune_id, actor_id)
    before, after = _plain(before), _plain(after)
    if before is not None and after is not None:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    event = AuditEvent(
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        commune_id=commune_id,
        province_id=province_id,
        actor_id=actor_id,
        before=before,
        after=after,
        note=note,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _province_of(commune_id: int | None, actor_id: int | None) -> int | None:
    if commune_id is not None:
        return db.session.scalar(select(Commune.province_id).where(Commune.id == commune_id))
    if actor_id is not None:
        return db.session.scalar(select(User.province_id).where(User.id == actor_id))
    return None


def current_actor_id() -> int | None:
    """Who is making the change in this request (None outside a request)."""
    if not has_request_context():
        return None
    actor = g.get("actor")
    if actor is not None:
        return actor.id
    if current_user.is_authenticated:
        return current_user.id
    return None


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-safe copies of enum, date and other values."""
    if values is None:
        return None

    def plain(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [plain(v) for v in value]
        return value

    return {str(k): plain(v) for k, v in values.items()}
