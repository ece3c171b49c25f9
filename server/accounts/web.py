"""Staff login for the web pages (session cookie, CSRF-protected forms).

Devices never use this: ODK Collect keeps no cookies and authenticates every request
(:mod:`server.accounts.httpauth`).  Failed logins are throttled per username and per address
(:mod:`server.accounts.throttle`); logins, failures and lockouts are logged to ``rasoat.auth``.
"""

from __future__ import annotations

import math
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from server.accounts.models import READ_ONLY_ROLES, STAFF_ROLES, Role, User
from server.accounts.services import check_password, user_by_username
from server.accounts.throttle import (
    Lockout,
    audit,
    clear_failures,
    lockout_for,
    record_failure,
    username_key,
)
from server.db import utcnow
from server.extensions import db, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


@bp.app_context_processor
def _permissions() -> dict:
    """``read_only`` tells templates to hide every action (a village head only looks)."""
    # Outside a request (a background export renders templates too) there is no user.
    user = current_user if has_request_context() else None
    role = user.role if user is not None and user.is_authenticated else None
    return {"read_only": role in READ_ONLY_ROLES, "is_staff": role in STAFF_ROLES}


def staff_page(*roles: Role):
    """Require a logged-in staff member with one of ``roles`` (403 page otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _safe_next(target: str | None, user: User) -> str:
    """Only redirect within this site after login; by default to the user's first page."""
    if not target or urlsplit(target).netloc or not target.startswith("/"):
        if user.role == Role.NATIONAL:
            return url_for("forms_admin.index")
        return url_for("reports.index" if user.role in STAFF_ROLES else "review.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        ip = request.remote_addr or ""
        lockout = lockout_for(username, ip)
        if lockout is not None:
            return _refuse_locked_out(username, ip, lockout)
        user = user_by_username(username)
        if user is None:
            reason = "unknown username"
        elif user.role == Role.REVIEWER:
            reason = "reviewer account (reviewers use ODK Collect)"
        elif not check_password(user, request.form.get("password", "")):
            reason = "wrong password"
        else:
            clear_failures(username)
            login_user(user)
            session.permanent = True  # expires after SESSION_LIFETIME_HOURS
            audit.info("login: %r (%s) from %s", user.username, user.role.value, ip)
            return redirect(_safe_next(request.args.get("next"), user))
        audit.warning("login failed: username %r from %s: %s", username_key(username), ip, reason)
        record_failure(username, ip)
        flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
        return render_template("accounts/login.html", username=username), 401
    return render_template("accounts/login.html", username="")


def _refuse_locked_out(username: str, ip: str, lockout: Lockout):
    seconds = lockout.seconds_left(utcnow())
    audit.warning(
        "login refused: %s locked out for %d s more (username %r, ip %s)",
        lockout.scope,
        seconds,
        username_key(username),
        ip,
    )
    minutes = max(1, math.ceil(seconds / 60))
    flash(
        ngettext(
            "Đăng nhập sai quá nhiều lần nên tạm thời bị khoá. Hãy thử lại sau %(num)d phút.",
            "Đăng nhập sai quá nhiều lần nên tạm thời bị khoá. Hãy thử lại sau %(num)d phút.",
            minutes,
        ),
        "error",
    )
    response = make_response(render_template("accounts/login.html", username=username), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.info("logout: %r from %s", current_user.username, request.remote_addr)
    logout_user()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))
