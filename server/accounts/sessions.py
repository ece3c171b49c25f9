"""Server-side staff sessions: what makes a browser's login revocable.

The signed Flask session cookie carries a random session id (:data:`SESSION_ID_KEY`); the
database keeps its SHA-256 in :class:`server.accounts.models.StaffSession`.  The user loader
(:mod:`server.accounts.web`) accepts a request as logged in only while that row exists, is not
revoked, has not expired and its user is active, so a cookie copied before a logout, a password
change, a deactivation or a change of role or scope logs nobody in afterwards (the services in
:mod:`server.accounts.services` revoke the rows).

A session expires ``SESSION_LIFETIME_HOURS`` after it was last used; the row's
``last_seen_at``/``expires_at`` are moved on at most once every ``SESSION_TOUCH_SECONDS``, so a
page view does not cost a database write.  Rows past their expiry are deleted at each login.

Like the other services these flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from server.accounts.models import StaffSession, User
from server.db import utcnow
from server.extensions import db

# The key of the Flask session (the signed cookie) that holds the random session id.
SESSION_ID_KEY = "sid"
_TOKEN_RE_LEN = 43  # secrets.token_urlsafe(32)
_USER_AGENT_MAX = 200  # staff_sessions.user_agent


def _lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_LIFETIME_HOURS"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, ip: str = "", user_agent: str = "") -> str:
    """A new session for ``user``; returns its id, which goes into the cookie and nowhere else.

    Sessions past their expiry (anyone's) are deleted first, so the table holds only live and
    recently revoked logins.
    """
    now = utcnow()
    purge_expired(now)
    token = secrets.token_urlsafe(32)  # 256 bits
    db.session.add(
        StaffSession(
            user_id=user.id,
            token_sha256=_digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + _lifetime(),
            ip=(ip or "")[:45],
            user_agent=(user_agent or "")[:_USER_AGENT_MAX],
        )
    )
    db.session.flush()
    return token


def live_session(token: object, user_id: str | int) -> StaffSession | None:
    """The live session with this id belonging to user ``user_id`` (with its active user
    loaded), or None: unknown, revoked, expired, another user's, or the user is deactivated."""
    if not isinstance(token, str) or len(token) != _TOKEN_RE_LEN:
        return None
    row = db.session.scalar(  # with its user in the same query: one per page
        select(StaffSession)
        .options(joinedload(StaffSession.user))
        .where(StaffSession.token_sha256 == _digest(token))
    )
    if (
        row is None
        or str(row.user_id) != str(user_id)
        or row.revoked_at is not None
        or row.expires_at <= utcnow()
        or not row.user.active
    ):
        return None
    return row


def touch_due(row: StaffSession, now: datetime | None = None) -> bool:
    """Whether ``row`` was last seen long enough ago to be moved on (see :func:`touch`)."""
    now = now or utcnow()
    return now - row.last_seen_at >= timedelta(
        seconds=float(current_app.config["SESSION_TOUCH_SECONDS"])
    )


def touch(session_id: int) -> None:
    """Mark a session as used now: it expires ``SESSION_LIFETIME_HOURS`` from now."""
    now = utcnow()
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
        .values(last_seen_at=now, expires_at=now + _lifetime())
    )


def end_session(token: object) -> None:
    """Revoke the session with this id (a logout); nothing when there is none."""
    if isinstance(token, str):
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_sha256 == _digest(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def revoke_sessions(user: User, *, keep: object = None) -> int:
    """Revoke every live session of ``user`` except the one with id ``keep`` (the browser that
    made the change).  Returns how many were revoked."""
    query = update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None)
    )
    if isinstance(keep, str):
        query = query.where(StaffSession.token_sha256 != _digest(keep))
    result = db.session.execute(query.values(revoked_at=utcnow()))
    return result.rowcount


def purge_expired(now: datetime | None = None) -> None:
    """Delete the sessions past their expiry (revoked ones too: they expire like the others)."""
    db.session.execute(delete(StaffSession).where(StaffSession.expires_at < (now or utcnow())))


def live_sessions(user: User) -> list[StaffSession]:
    """The account's sessions that still log someone in, newest first (the account's page)."""
    return db.session.scalars(
        select(StaffSession)
        .where(
            StaffSession.user_id == user.id,
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > utcnow(),
        )
        .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
    ).all()
