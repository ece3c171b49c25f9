"""State-changing operations on accounts.  They flush; the caller commits."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.accounts.models import DeviceToken, Role, User
from server.accounts.passwords import digest_ha1, hash_password, hasher, verify_password
from server.accounts.sessions import revoke_sessions
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Province, Village

# Collect encodes Basic credentials as ISO-8859-1 and Digest as UTF-8; keep device credentials
# to printable ASCII so both work the same.
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_DISPLAY_NAME_MAX = 200  # users.display_name
_TOKEN_LABEL_MAX = 200  # device_tokens.label


def _password_hasher():
    cfg = current_app.config
    return hasher(cfg["PASSWORD_HASH_TIME_COST"], cfg["PASSWORD_HASH_MEMORY_COST"])


def _validate_password(password: str) -> None:
    if len(password) < 8 or not password.isascii() or not password.isprintable():
        raise AppError(
            "account.weak_password",
            400,
            "Mật khẩu phải có ít nhất 8 ký tự ASCII (không dấu).",
            "The password must be at least 8 printable ASCII characters.",
        )


def create_user(
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    commune: Commune | None = None,
    villages: list[Village] | None = None,
    province: Province | None = None,
) -> User:
    """Create an account.

    :raises AppError: ``account.bad_username``, ``account.bad_display_name``,
        ``account.weak_password``,
        ``account.scope`` (a reviewer or officer without a commune, villages of another commune),
        ``account.exists``.
    """
    if not _USERNAME_RE.match(username):
        raise AppError(
            "account.bad_username",
            400,
            "Tên đăng nhập chỉ gồm chữ thường không dấu, số, '.', '_' hoặc '-' (2–100 ký tự).",
            "Usernames are 2–100 lowercase ASCII letters, digits, '.', '_' or '-'.",
        )
    display_name = _validate_display_name(display_name)
    _validate_password(password)
    _check_scope(role, commune, province)
    _check_villages(role, commune, villages or [])
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AppError(
            "account.exists", 409, f"Tên đăng nhập {username} đã tồn tại.", f"{username} exists."
        )
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        commune=commune,
        province_id=commune.province_id if commune else (province.id if province else None),
        villages=list(villages or []),
        password_hash="",
        digest_ha1="",
    )
    _set_password(user, password)
    db.session.add(user)
    db.session.flush()
    record(
        "user.create",
        "user",
        user.id,
        commune_id=user.commune_id,
        province_id=user.province_id,
        after={
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "commune": commune.code if commune else None,
            "villages": [v.code for v in user.villages],
            "province": province.code if province and not commune else None,
        },
    )
    return user


def _check_scope(role: Role, commune: Commune | None, province: Province | None) -> None:
    """A commune account has a commune; an administrator a province and no commune; a national
    administrator neither."""
    if role in (Role.OFFICER, Role.REVIEWER, Role.VILLAGE_HEAD) and commune is None:
        raise AppError(
            "account.scope",
            400,
            "Tài khoản này phải thuộc một xã.",
            "This account needs a commune.",
        )
    if role == Role.ADMIN and (province is None or commune is not None):
        raise AppError(
            "account.scope",
            400,
            "Quản trị viên cấp tỉnh phải thuộc một tỉnh (không thuộc xã nào).",
            "A province administrator needs a province and no commune.",
        )
    if role == Role.NATIONAL and (province is not None or commune is not None):
        raise AppError(
            "account.scope",
            400,
            "Quản trị viên trung ương không thuộc tỉnh hay xã nào.",
            "A national administrator belongs to no province or commune.",
        )


def _validate_display_name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if not name or len(name) > _DISPLAY_NAME_MAX:
        raise AppError(
            "account.bad_display_name",
            400,
            f"Họ và tên phải có từ 1 đến {_DISPLAY_NAME_MAX} ký tự.",
            f"The display name must be 1–{_DISPLAY_NAME_MAX} characters.",
        )
    return name


def _check_villages(role: Role, commune: Commune | None, villages: list[Village]) -> None:
    """A village head has at least one village; every village is of the account's commune."""
    if role == Role.VILLAGE_HEAD and not villages:
        raise AppError(
            "account.scope",
            400,
            "Tài khoản trưởng thôn phải gắn với ít nhất một thôn.",
            "A village head account needs at least one village.",
        )
    for village in villages:
        if commune is None or village.commune_id != commune.id:
            raise AppError(
                "account.scope",
                400,
                f"Thôn {village.name} không thuộc xã của tài khoản.",
                f"Village {village.name} is not in the account's commune.",
            )


def update_user(
    user: User, *, display_name: str | None = None, villages: list[Village] | None = None
) -> bool:
    """Change an account's display name and/or villages (None: leave as is).

    Returns whether anything changed (an audit record ``user.update`` is written only then).
    A change of villages ends the account's browser sessions (it logs in again, in its new
    scope).

    :raises AppError: ``account.bad_display_name``, ``account.scope`` (a village head without
        a village, a village of another commune).
    """
    before = {"display_name": user.display_name, "villages": [v.code for v in user.villages]}
    if display_name is not None:
        display_name = _validate_display_name(display_name)
    if villages is not None:
        villages = sorted(set(villages), key=lambda v: v.code)
        _check_villages(user.role, user.commune, villages)
    if display_name is not None:
        user.display_name = display_name
    if villages is not None:
        user.villages = villages
    after = {"display_name": user.display_name, "villages": [v.code for v in user.villages]}
    if after == before:
        return False
    db.session.flush()
    if after["villages"] != before["villages"]:
        revoke_sessions(user)
    record(
        "user.update",
        "user",
        user.id,
        commune_id=user.commune_id,
        province_id=user.province_id,
        before=before,
        after=after,
        note=user.username,
    )
    return True


def set_active(user: User, active: bool, *, actor: User | None = None) -> bool:
    """Deactivate an account (it can no longer log in or authenticate a phone; its browser
    sessions and device tokens are revoked; nothing it did is deleted) or reactivate it (which
    revives neither: it logs in again, and its phones need a new device token).  Returns whether
    it changed.

    :raises AppError: ``account.self_deactivate`` when ``actor`` deactivates their own account.
    """
    if not active and actor is not None and actor.id == user.id:
        raise AppError(
            "account.self_deactivate",
            400,
            "Không thể tự khoá tài khoản của chính mình.",
            "You cannot deactivate your own account.",
        )
    if user.active == active:
        return False
    before = user.active
    user.active = active
    db.session.flush()
    if not active:
        revoke_sessions(user)
        for token in db.session.scalars(
            select(DeviceToken).where(
                DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None)
            )
        ).all():
            revoke_device_token(token)
    record(
        "user.active",
        "user",
        user.id,
        commune_id=user.commune_id,
        province_id=user.province_id,
        before={"active": before},
        after={"active": active},
        note=user.username,
    )
    return True


def set_password(user: User, password: str, *, keep_session: str | None = None) -> None:
    """Give the account a new password and end its browser sessions, except ``keep_session``
    (the session id of the browser that changed its own password)."""
    _validate_password(password)
    _set_password(user, password)
    db.session.flush()
    revoke_sessions(user, keep=keep_session)
    record(
        "user.password",
        "user",
        user.id,
        commune_id=user.commune_id,
        province_id=user.province_id,
        note=user.username,
    )


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(_password_hasher(), password)
    user.digest_ha1 = digest_ha1(user.username, current_app.config["AUTH_REALM"], password)


def change_own_password(
    user: User, current: str, new: str, new_again: str, *, keep_session: str | None
) -> None:
    """The user's own password change: the current password must be right and the new one typed
    twice alike.  Every other browser session of the account ends; ``keep_session`` stays.

    :raises AppError: ``account.wrong_password``, ``account.password_mismatch``,
        ``account.weak_password``.
    """
    if not check_password(user, current):
        raise AppError(
            "account.wrong_password",
            400,
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
        )
    if new != new_again:
        raise AppError(
            "account.password_mismatch",
            400,
            "Hai lần nhập mật khẩu không giống nhau.",
            "The two passwords differ.",
        )
    set_password(user, new, keep_session=keep_session)


def set_role(
    user: User,
    role: Role,
    *,
    commune: Commune | None,
    villages: list[Village] | None = None,
    province: Province | None = None,
    actor: User | None = None,
) -> bool:
    """Change an account's role and commune (and villages: those of a village head or a
    reviewer limited to some).  Returns whether anything changed; then the account's browser
    sessions end, and so do its device tokens when it no longer uses ODK Collect or changes
    commune.

    :raises AppError: ``account.self_role`` when ``actor`` changes their own account,
        ``account.scope`` (as :func:`create_user`).
    """
    if actor is not None and actor.id == user.id:
        raise AppError(
            "account.self_role",
            400,
            "Không thể tự đổi vai trò của chính mình.",
            "You cannot change your own role.",
        )
    villages = sorted(set(villages or []), key=lambda v: v.code)
    if role not in (Role.REVIEWER, Role.VILLAGE_HEAD):
        villages = []
    _check_scope(role, commune, province if commune is None else None)
    _check_villages(role, commune, villages)
    before = {
        "role": user.role,
        "commune": user.commune.code if user.commune else None,
        "villages": [v.code for v in user.villages],
        "province_id": user.province_id,
    }
    old_commune_id = user.commune_id
    user.role = role
    user.commune = commune
    user.province_id = commune.province_id if commune else (province.id if province else None)
    user.villages = villages
    after = {
        "role": role,
        "commune": commune.code if commune else None,
        "villages": [v.code for v in villages],
        "province_id": user.province_id,
    }
    if after == before:
        return False
    db.session.flush()
    revoke_sessions(user)
    if role not in (Role.REVIEWER, Role.VILLAGE_HEAD) or user.commune_id != old_commune_id:
        for token in db.session.scalars(
            select(DeviceToken).where(
                DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None)
            )
        ).all():
            revoke_device_token(token)
    record(
        "user.role",
        "user",
        user.id,
        commune_id=user.commune_id or old_commune_id,
        province_id=user.province_id,
        before=before,
        after=after,
        note=user.username,
    )
    return True


def check_password(user: User, password: str) -> bool:
    return verify_password(_password_hasher(), user.password_hash, password)


def check_password_of_nobody(password: str) -> bool:
    """Verify ``password`` against a hash of no account, made with the same Argon2 parameters,
    so that a login for an unknown or deactivated username costs what a wrong password costs
    (the time does not tell whether an account exists).  Always False."""
    cfg = current_app.config
    dummy = _dummy_hash(cfg["PASSWORD_HASH_TIME_COST"], cfg["PASSWORD_HASH_MEMORY_COST"])
    verify_password(_password_hasher(), dummy, password)
    return False


@functools.cache
def _dummy_hash(time_cost: int, memory_cost: int) -> str:
    """A hash of a random password nobody knows (made once per process and parameters)."""
    return hash_password(hasher(time_cost, memory_cost), secrets.token_urlsafe(32))


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new device token; ``token`` is shown once and never stored."""

    token: str
    record: DeviceToken


def issue_device_token(user: User, label: str = "") -> IssuedToken:
    label = label.strip()
    if len(label) > _TOKEN_LABEL_MAX:
        raise AppError(
            "device_token.bad_label",
            400,
            f"Tên thiết bị dài tối đa {_TOKEN_LABEL_MAX} ký tự.",
            f"The device label is at most {_TOKEN_LABEL_MAX} characters.",
        )
    token = secrets.token_urlsafe(32)  # 256 bits, 43 URL-safe characters
    row = DeviceToken(user=user, token_sha256=_token_digest(token), label=label)
    db.session.add(row)
    db.session.flush()
    record(
        "device_token.issue",
        "device_token",
        row.id,
        commune_id=user.commune_id,
        province_id=user.province_id,
        after={"user": user.username, "label": label},
    )
    return IssuedToken(token=token, record=row)


def revoke_device_token(row: DeviceToken) -> None:
    before = row.revoked_at
    row.revoked_at = utcnow()
    db.session.flush()
    record(
        "device_token.revoke",
        "device_token",
        row.id,
        commune_id=row.user.commune_id,
        province_id=row.user.province_id,
        before={"revoked_at": before},
        after={"revoked_at": row.revoked_at},
        note=f"{row.user.username} {row.label}".strip(),
    )


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, inactive user)."""
    if not _TOKEN_RE.match(token):
        return None
    record = db.session.scalar(  # with its user in the same query: one per Collect request
        select(DeviceToken)
        .options(joinedload(DeviceToken.user))
        .where(DeviceToken.token_sha256 == _token_digest(token))
    )
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    return record.user


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
