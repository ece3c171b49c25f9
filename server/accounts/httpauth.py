"""HTTP authentication as ODK Collect performs it.

Collect keeps no cookies and answers only the challenges it has registered: Digest always,
Basic only over https (``../shared/openrosa/protocol.md`` §1.9).  So:

* a request without credentials gets **401** with a ``Digest`` challenge (and a ``Basic`` one
  when the connection is https);
* Digest needs no session, and a captured ``Authorization`` header works **once**.  A nonce is
  its issue time, a random part and a signature with the server's secret key; each nonce issued
  is also a row of ``digest_nonces`` (:class:`server.accounts.models.DigestNonce`) holding the
  highest nonce count (``nc``) accepted with it.  A request is accepted only if its nonce is
  ours, younger than ``DIGEST_NONCE_SECONDS`` (300) and its ``nc`` greater than the stored one,
  raised by a single conditional UPDATE — so two workers or two app servers on the same database
  cannot both accept one ``nc``.  Collect (okhttp-digest) sends every request after the first
  with the cached nonce and ``nc`` + 1.  Right credentials with an expired, unknown or used
  nonce (a replay, or a phone's requests arriving out of order) get 401 with ``stale=true`` and a
  fresh challenge: okhttp-digest answers that by itself, whereas a 401 *without* ``stale`` after
  a Digest attempt makes it give up and Collect ask the user for the password;
* Basic is refused over plain http unless explicitly allowed for development.

Wrong credentials are throttled like the login page's (:mod:`server.accounts.throttle`, per
username only): after 5 failures in 15 minutes the username is refused with **429** and a
``Retry-After``, without a challenge (which would make Collect ask for the password again), until
the lockout ends — even with the right password, so guessing cannot go on.

Device tokens (``/key/<token>/…``) are checked by :func:`server.accounts.services.user_for_token`
and never reach this module.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

from flask import Request, current_app, g, jsonify, request
from sqlalchemy import delete, select, update

from server.accounts.identity import remember_identity
from server.accounts.models import DigestNonce, Role, User
from server.accounts.passwords import constant_time_equal
from server.accounts.services import (
    check_password,
    check_password_of_nobody,
    user_by_username,
)
from server.accounts.throttle import HTTP, Lockout, audit, lockout_for, record_failure, username_key
from server.db import utcnow, write_transaction
from server.errors import AppError
from server.extensions import db


class AuthStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    STALE = "stale"
    LOCKED = "locked"  # too many wrong passwords for this username lately


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: AuthStatus
    user: User | None = None
    # INVALID because the username or password was wrong (counted against guessing), as opposed
    # to a malformed header, a foreign nonce or Basic over http.
    wrong_credentials: bool = False
    lockout: Lockout | None = None

    def retry_after(self) -> int:
        """Seconds until a LOCKED username may try again."""
        return self.lockout.seconds_left(utcnow()) if self.lockout else 0


def is_secure(request: Request) -> bool:
    external = current_app.config["EXTERNAL_URL"]
    return request.is_secure or external.startswith("https://")


def authenticate(request: Request) -> AuthResult:
    auth = request.authorization
    if auth is None:
        return AuthResult(AuthStatus.MISSING)
    if auth.type == "digest":
        username = auth.parameters.get("username", "")
    elif auth.type == "basic":
        username = auth.username or ""
    else:
        return AuthResult(AuthStatus.INVALID)
    ip = request.remote_addr or ""
    if username:
        lockout = lockout_for(username, ip, by_ip=False)
        if lockout is not None:
            audit.warning(
                "%s auth refused: username %r locked out (ip %s)",
                auth.type,
                username_key(username),
                ip,
            )
            return AuthResult(AuthStatus.LOCKED, lockout=lockout)
    if auth.type == "digest":
        result = _check_digest(request, auth.parameters)
    else:
        result = _check_basic(request, username, auth.password or "")
    if result.wrong_credentials:
        audit.warning("%s auth failed: username %r from %s", auth.type, username_key(username), ip)
        started = record_failure(username, ip, HTTP)
        if started is not None:
            return AuthResult(AuthStatus.LOCKED, lockout=started)
    return result


def _check_basic(request: Request, username: str, password: str) -> AuthResult:
    if not (is_secure(request) or current_app.config["ALLOW_BASIC_OVER_HTTP"]):
        return AuthResult(AuthStatus.INVALID)
    user = user_by_username(username)
    # An unknown username costs one Argon2 verification too: the time does not tell.
    if user is None and not check_password_of_nobody(password):
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    if not check_password(user, password):
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    return AuthResult(AuthStatus.OK, user)


def challenge_headers(request: Request, *, stale: bool = False) -> list[tuple[str, str]]:
    realm = current_app.config["AUTH_REALM"]
    digest = (
        f'Digest realm="{realm}", qop="auth", algorithm=MD5, '
        f'nonce="{_issue_nonce()}", opaque="{_opaque()}"'
    )
    if stale:
        digest += ", stale=true"
    headers = [("WWW-Authenticate", digest)]
    if is_secure(request) or current_app.config["ALLOW_BASIC_OVER_HTTP"]:
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"'))
    return headers


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _nonce_mac(stamp: str, salt: str) -> str:
    message = f"nonce:{stamp}.{salt}".encode()
    return hmac.new(_secret(), message, hashlib.sha256).hexdigest()[:32]


def _issue_nonce() -> str:
    """A new nonce, recorded (committed at once) so that its counts can be tracked; expired
    nonces are deleted on the way, at most ``DIGEST_NONCE_PURGE_BATCH`` of them."""
    now = utcnow()
    stamp, salt = str(int(time.time())), secrets.token_urlsafe(12)
    nonce = f"{stamp}.{salt}.{_nonce_mac(stamp, salt)}"
    # Kept a minute beyond their lifetime, like the clock skew _nonce_age allows.
    cutoff = now - timedelta(seconds=int(current_app.config["DIGEST_NONCE_SECONDS"]) + 60)
    batch = int(current_app.config["DIGEST_NONCE_PURGE_BATCH"])
    with write_transaction(db.session):
        expired = (
            select(DigestNonce.nonce)
            .where(DigestNonce.issued_at < cutoff)
            .order_by(DigestNonce.issued_at)
            .limit(batch)
        )
        db.session.execute(delete(DigestNonce).where(DigestNonce.nonce.in_(expired)))
        db.session.add(DigestNonce(nonce=nonce, issued_at=now, last_nc=0))
    return nonce


def _nonce_age(nonce: str) -> int | None:
    """Seconds since the nonce was issued, or None if it is not one of ours."""
    try:
        stamp, salt, mac = nonce.split(".")
        issued_at = int(stamp)
    except ValueError:
        return None
    if not hmac.compare_digest(mac.encode(), _nonce_mac(stamp, salt).encode()):
        return None
    return int(time.time()) - issued_at


def _use_nonce(nonce: str, nc: int) -> bool:
    """Record that ``nc`` was used with ``nonce``: true only if the nonce is known and ``nc`` is
    greater than every count accepted with it so far.  One conditional UPDATE, committed at
    once: concurrent requests with the same count (other workers, other app servers) wait for
    the row and then see the raised count, so exactly one of them is accepted."""
    with write_transaction(db.session):
        used = db.session.execute(
            update(DigestNonce)
            .where(DigestNonce.nonce == nonce, DigestNonce.last_nc < nc)
            .values(last_nc=nc)
            .execution_options(synchronize_session=False)
        )
    return used.rowcount == 1


def _opaque() -> str:
    return hmac.new(_secret(), b"opaque", hashlib.sha256).hexdigest()[:32]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


_NC = re.compile(r"[0-9a-fA-F]{8}")


def _nonce_count(qop: str | None, params: dict[str, str]) -> int | None:
    """The request's nonce count, or None if the qop or the count is not one we accept."""
    if qop == "auth":
        nc = params.get("nc", "")
        if not _NC.fullmatch(nc) or not params.get("cnonce") or int(nc, 16) == 0:
            return None  # counts start at 00000001
        return int(nc, 16)
    if qop is None:
        return 1  # RFC 2069 style, without a count: the nonce can be used once
    return None


def _check_digest(request: Request, params: dict[str, str]) -> AuthResult:  # noqa: PLR0911
    username = params.get("username", "")
    nonce = params.get("nonce", "")
    uri = params.get("uri", "")
    response = params.get("response", "")
    qop = params.get("qop")
    realm = current_app.config["AUTH_REALM"]
    if params.get("realm") != realm or not (username and nonce and uri and response):
        return AuthResult(AuthStatus.INVALID)
    if params.get("algorithm", "MD5").upper() != "MD5":
        return AuthResult(AuthStatus.INVALID)
    # The digest covers the URI the client says it requested; make sure that is this request
    # (the path, ignoring how the query string was encoded), or a captured header could be
    # replayed against another URL.
    digest_path = unquote(uri.split("?", 1)[0])
    if digest_path not in (request.path, request.script_root + request.path):
        return AuthResult(AuthStatus.INVALID)
    count = _nonce_count(qop, params)
    if count is None:
        return AuthResult(AuthStatus.INVALID)
    user = user_by_username(username)
    if user is None:
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    ha2 = _md5(f"{request.method}:{uri}")
    if qop == "auth":
        nc, cnonce = params["nc"], params["cnonce"]
        expected = _md5(f"{user.digest_ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    else:
        expected = _md5(f"{user.digest_ha1}:{nonce}:{ha2}")
    if not constant_time_equal(expected, response):
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    age = _nonce_age(nonce)
    if age is None:
        return AuthResult(AuthStatus.INVALID)
    if age > int(current_app.config["DIGEST_NONCE_SECONDS"]) or age < -60:
        # Right password, old nonce: ask again without prompting the user.
        return AuthResult(AuthStatus.STALE)
    if not _use_nonce(nonce, count):
        # Right answer to one of our nonces, but this count was used already (a replayed
        # header, or requests overtaking each other) or the nonce was forgotten: a fresh
        # challenge, which the phone answers without asking the user; a replay goes no further.
        audit.info("digest nonce reused or unknown: username %r", username_key(username))
        return AuthResult(AuthStatus.STALE)
    return AuthResult(AuthStatus.OK, user)


def api_guard(*roles: Role, forbidden_vi: str = "Tài khoản không có quyền này."):
    """A ``before_request`` handler for a JSON API blueprint: HTTP authentication (Digest, or
    Basic over https), then the role check; the actor is put in ``g.actor``."""

    def guard():
        result = authenticate(request)
        if result.status == AuthStatus.LOCKED:
            response = jsonify(
                {
                    "code": "auth.locked",
                    "message": "Đăng nhập sai quá nhiều lần nên tạm thời bị khoá; hãy thử lại sau.",
                    "message_en": "Too many failed logins; try again later.",
                }
            )
            response.status_code = 429
            response.headers["Retry-After"] = str(result.retry_after())
            return response
        if result.status != AuthStatus.OK:
            response = jsonify(
                {"code": "auth.required", "message": "Cần đăng nhập.", "message_en": "Log in."}
            )
            response.status_code = 401
            for name, value in challenge_headers(request, stale=result.status == AuthStatus.STALE):
                response.headers.add(name, value)
            return response
        if result.user.role not in roles:
            raise AppError("auth.forbidden", 403, forbidden_vi, "Not allowed.")
        g.actor = result.user
        remember_identity(result.user)
        return None

    return guard
