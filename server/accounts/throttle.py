"""Throttling of logins against password guessing: the staff login page and HTTP Digest/Basic
(ODK Collect, API clients).

``LOGIN_MAX_FAILURES_PER_USER`` (5) failed logins for one username, or
``LOGIN_MAX_FAILURES_PER_IP`` (20) from one address, within ``LOGIN_FAILURE_WINDOW_SECONDS``
(15 minutes) lock that username or address out for ``LOGIN_LOCKOUT_SECONDS`` (15 minutes) from
the failure that reached the limit.  While locked out, attempts are refused before the password
is checked (even a right one) and are not counted, so the lockout does not grow.  A successful
login forgets the username's failures (not the address's: one's own account must not reset the
count of guesses at others').

Failures are rows of ``login_failures`` so all gunicorn workers share them.  The check (a read)
and the record (a write after the password check) are separate transactions, so that SQLite's
write lock is never held during the Argon2 verification; a burst of simultaneous attempts can
therefore overshoot the limit by the number of attempts in flight, once.

HTTP Digest/Basic failures (``channel="http"``, :mod:`server.accounts.httpauth`) count towards the
username's limit whatever the channel, but an address is locked out only by failures on the web
login page: phones reach the server through carrier-grade NAT, where one address is shared by
many reviewers, and one phone with a wrong saved password must not lock out the others.  Only
wrong credentials count (not a missing ``Authorization`` header, which is how every Collect
request starts, nor an expired Digest nonce).  A successful HTTP login does not clear the
username's failures (that would be a write on every request); they age out with the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from server.accounts.models import LoginFailure
from server.db import utcnow, write_transaction
from server.extensions import db

# Logins, failures and lockouts go to this logger (an audit log will read them later).
audit = logging.getLogger("rasoat.auth")

WEB, HTTP = "web", "http"  # LoginFailure.channel
_USERNAME_LENGTH = 100
_IP_LENGTH = 45


def username_key(username: str) -> str:
    return username.strip().lower()[:_USERNAME_LENGTH]


def ip_key(ip: str | None) -> str:
    return (ip or "unknown")[:_IP_LENGTH]


@dataclass(frozen=True, slots=True)
class Lockout:
    scope: str  # "username" or "ip"
    until: datetime

    def seconds_left(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


def _settings() -> tuple[timedelta, timedelta, int, int]:
    cfg = current_app.config
    return (
        timedelta(seconds=int(cfg["LOGIN_FAILURE_WINDOW_SECONDS"])),
        timedelta(seconds=int(cfg["LOGIN_LOCKOUT_SECONDS"])),
        int(cfg["LOGIN_MAX_FAILURES_PER_USER"]),
        int(cfg["LOGIN_MAX_FAILURES_PER_IP"]),
    )


def _locked_until(times: list[datetime], limit: int, window: timedelta, lockout: timedelta):
    """When the latest lockout implied by ``times`` (ascending) ends, or None.

    A lockout starts at a failure that is the ``limit``-th within ``window`` (counting itself).
    """
    until = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window:
            until = times[i] + lockout
    return until


def lockout_for(
    username: str, ip: str, now: datetime | None = None, *, by_ip: bool = True
) -> Lockout | None:
    """The lockout in force for this username or (``by_ip``) address, if any."""
    now = now or utcnow()
    window, lockout, per_user, per_ip = _settings()
    since = now - window - lockout
    user, address = username_key(username), ip_key(ip)
    who = LoginFailure.username == user
    if by_ip:
        who = or_(who, and_(LoginFailure.ip == address, LoginFailure.channel == WEB))
    rows = db.session.execute(
        select(LoginFailure.username, LoginFailure.ip, LoginFailure.channel, LoginFailure.at)
        .where(LoginFailure.at > since, who)
        .order_by(LoginFailure.at, LoginFailure.id)
    ).all()
    checks = [("username", [r.at for r in rows if r.username == user], per_user)]
    if by_ip:
        ip_times = [r.at for r in rows if r.ip == address and r.channel == WEB]
        checks.append(("ip", ip_times, per_ip))
    found = []
    for scope, times, limit in checks:
        until = _locked_until(times, limit, window, lockout)
        if until is not None and until > now:
            found.append(Lockout(scope, until))
    return max(found, key=lambda lock: lock.until, default=None)


def record_failure(username: str, ip: str, channel: str = "web") -> Lockout | None:
    """Count a failed login (committed at once); return the lockout it started, if any."""
    now = utcnow()
    window, lockout, _, _ = _settings()
    with write_transaction(db.session):
        db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window - lockout))
        db.session.add(
            LoginFailure(username=username_key(username), ip=ip_key(ip), at=now, channel=channel)
        )
        db.session.flush()
        started = lockout_for(username, ip, now, by_ip=channel == WEB)
    if started is not None:
        audit.warning(
            "login lockout: %s %r locked out until %s UTC (username %r, ip %s)",
            started.scope,
            username_key(username) if started.scope == "username" else ip_key(ip),
            started.until.isoformat(timespec="seconds"),
            username_key(username),
            ip_key(ip),
        )
    return started


def clear_failures(username: str) -> None:
    """Forget a username's failures after it logged in successfully (committed at once)."""
    with write_transaction(db.session):
        db.session.execute(
            delete(LoginFailure).where(LoginFailure.username == username_key(username))
        )
