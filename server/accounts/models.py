"""Accounts and device tokens.

A user has one role.  A commune officer, a reviewer and a village head belong to one commune; a
reviewer may be limited further to some villages of it, a village head is always limited to theirs
(they see those villages read-only on the web, :mod:`server.submissions.scope`).  A province
administrator belongs to a province; a national administrator to none.
Device tokens let a phone talk to the server through a ``/key/<token>/`` URL (ODK Central's
"app user" model), so one QR code configures it; only the token's SHA-256 is stored.
Failed web logins are kept for a short while to throttle password guessing
(:mod:`server.accounts.throttle`).
A staff login in a browser is a row of ``staff_sessions`` (only its id's SHA-256 is stored, the id
itself is in the signed session cookie), so that logging out, a password change, deactivation or
a change of role or scope ends it on the server, whatever copy of the cookie is left somewhere.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, str_enum, utcnow
from server.geography.models import Commune, Province, Village


class Role(enum.StrEnum):
    ADMIN = "admin"  # quản trị viên cấp tỉnh
    OFFICER = "officer"  # công chức cấp xã
    REVIEWER = "reviewer"  # rà soát viên (ODK Collect)
    # trưởng thôn: ODK Collect like a reviewer, and read-only web pages limited to their villages
    VILLAGE_HEAD = "village_head"
    # quản trị viên trung ương: belongs to no province; manages what is national (the shipped
    # questionnaires, national B1 tables) and reads every province's audit log.  Created with
    # ``flask users create --role national`` only.
    NATIONAL = "national"


# Who may open the staff web pages: officers and administrators change things; village heads only
# look at their villages (the pages hide every action from them and their POSTs get 403).
STAFF_ROLES = (Role.OFFICER, Role.ADMIN)
READ_ONLY_ROLES = (Role.VILLAGE_HEAD,)
VIEWER_ROLES = (*STAFF_ROLES, *READ_ONLY_ROLES)
# Who manages questionnaires, B1 tables and reads the audit log: each within what it owns
# (:mod:`server.accounts.ownership`).
ADMIN_ROLES = (Role.ADMIN, Role.NATIONAL)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    # Argon2id hash for Basic over https and web login.
    password_hash: Mapped[str] = mapped_column(String(200))
    # MD5(username:realm:password), needed to answer HTTP Digest, which Collect uses over http.
    digest_ha1: Mapped[str] = mapped_column(String(32))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id"), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    province: Mapped[Province | None] = relationship()
    commune: Mapped[Commune | None] = relationship()
    villages: Mapped[list[Village]] = relationship(
        secondary="user_villages", order_by="Village.code"
    )
    device_tokens: Mapped[list[DeviceToken]] = relationship(back_populates="user")
    sessions: Mapped[list[StaffSession]] = relationship(back_populates="user", passive_deletes=True)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot log in
        return self.active


class UserVillage(Base):
    __tablename__ = "user_villages"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), primary_key=True)


class DeviceToken(Base):
    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="device_tokens")


class LoginFailure(Base):
    """One failed staff login, kept for the throttling window and the lockout after it.

    Stored in the database (not in a worker's memory) so every gunicorn worker sees the same
    count.  ``username`` is the name as typed, folded to lower case, whether or not such an
    account exists; ``ip`` is the client address (``X-Forwarded-For`` only from
    ``TRUSTED_PROXIES``); ``channel`` is ``web`` (the login page) or ``http`` (HTTP Digest/Basic
    from ODK Collect or an API client).
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(10), default="web", server_default="web")


class StaffSession(Base):
    """One staff login in one browser (:mod:`server.accounts.sessions`).

    The cookie carries a random id; only its SHA-256 is stored, so a copy of this table logs
    nobody in.  A request is logged in only while the row exists, is not revoked, has not expired
    (``expires_at``: ``SESSION_LIFETIME_HOURS`` after it was last seen) and its user is active.
    ``last_seen_at``/``expires_at`` are moved on at most every ``SESSION_TOUCH_SECONDS``;
    ``ip`` and ``user_agent`` are those of the login, for the account's page.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(back_populates="sessions")


class DigestNonce(Base):
    """A nonce this server put in an HTTP Digest challenge, and the highest nonce count (``nc``)
    accepted with it (:mod:`server.accounts.httpauth`).

    In the database, not in a worker's memory, so every gunicorn worker and every app server
    sees the same count: a request is accepted only if its ``nc`` is greater than ``last_nc``,
    which a single conditional UPDATE raises, so a captured ``Authorization`` header works once.
    Rows are deleted a while after ``DIGEST_NONCE_SECONDS``.
    """

    __tablename__ = "digest_nonces"

    nonce: Mapped[str] = mapped_column(String(100), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_nc: Mapped[int] = mapped_column(BigInteger, default=0)
