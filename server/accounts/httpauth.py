"""HTTP authentication as ODK Collect performs it.

Collect keeps no cookies and answers only the challenges it has registered: Digest always,
Basic only over https (``../shared/openrosa/protocol.md`` §1.9).  So:

* a request without credentials gets **401** with a ``Digest`` challenge (and a ``Basic`` one
  when the connection is https);
* Digest is **stateless**: the nonce is a timestamp signed with the server's secret key, so any
  gunicorn worker can check it and no session is needed.  An expired but genuine nonce gets
  ``stale=true``, which makes the client retry with a fresh nonce without asking the user;
* Basic is refused over plain http unless explicitly allowed for development.

Wrong credentials are throttled like the login page's (:mod:`server.accounts.throttle`, per
username only): after 5 failures in 15 minutes the username is refused with **429** and a
``Retry-After``, without a challenge (which would make Collect ask for the password again), until
the lockout ends — even with the right password, so guessing cannot go on.

Device tokens (``/key/<token>/…``) are checked by :func:`server.accounts.services.user_for_token`
and never reach this module.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import unquote

from flask import Request, current_app, g, jsonify, request

from server.accounts.models import Role, User
from server.accounts.passwords import constant_time_equal
from server.accounts.services import check_password, user_by_username
from server.accounts.throttle import HTTP, Lockout, audit, lockout_for, record_failure, username_key
from server.db import utcnow
from server.errors import AppError


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
    if user is None or not check_password(user, password):
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    return AuthResult(AuthStatus.OK, user)


def challenge_headers(request: Request, *, stale: bool = False) -> list[tuple[str, str]]:
    realm = current_app.config["AUTH_REALM"]
    digest = (
        f'Digest realm="{realm}", qop="auth", algorithm=MD5, '
        f'nonce="{_make_nonce(int(time.time()))}", opaque="{_opaque()}"'
    )
    if stale:
        digest += ", stale=true"
    headers = [("WWW-Authenticate", digest)]
    if is_secure(request) or current_app.config["ALLOW_BASIC_OVER_HTTP"]:
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"'))
    return headers


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _make_nonce(issued_at: int) -> str:
    stamp = str(issued_at)
    mac = hmac.new(_secret(), b"nonce:" + stamp.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{stamp}:{mac}".encode()).decode().rstrip("=")


def _nonce_age(nonce: str) -> int | None:
    """Seconds since the nonce was issued, or None if it is not one of ours."""
    try:
        padded = nonce + "=" * (-len(nonce) % 4)
        stamp, mac = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
        issued_at = int(stamp)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(_secret(), b"nonce:" + stamp.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(mac, expected):
        return None
    return int(time.time()) - issued_at


def _opaque() -> str:
    return hmac.new(_secret(), b"opaque", hashlib.sha256).hexdigest()[:32]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


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
    user = user_by_username(username)
    if user is None:
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    ha2 = _md5(f"{request.method}:{uri}")
    if qop == "auth":
        nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
        expected = _md5(f"{user.digest_ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    elif qop is None:
        expected = _md5(f"{user.digest_ha1}:{nonce}:{ha2}")
    else:
        return AuthResult(AuthStatus.INVALID)
    if not constant_time_equal(expected, response):
        return AuthResult(AuthStatus.INVALID, wrong_credentials=True)
    age = _nonce_age(nonce)
    if age is None:
        return AuthResult(AuthStatus.INVALID)
    if age > current_app.config["DIGEST_NONCE_SECONDS"] or age < -60:
        # Right password, old nonce: ask again without prompting the user.
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
        return None

    return guard
