"""Staff login for the web pages (session cookie, CSRF-protected forms).

Each login is a server-side session (:mod:`server.accounts.sessions`): the signed cookie holds
its random id, and a request counts as logged in only while that session is live, so logging
out (or a password change, a deactivation, a change of role) ends it for every copy of the
cookie.  Flask-Login's "remember me" cookie is never set, and could not log anyone in anyway:
the user loader also wants the session id.  A staff member changes their own password at
``/tai-khoan/mat-khau``.

Devices never use this: ODK Collect keeps no cookies and authenticates every request
(:mod:`server.accounts.httpauth`).  Failed logins are throttled per username and per address
(:mod:`server.accounts.throttle`); logins, failures and lockouts are logged to ``rasoat.auth``.
"""

from __future__ import annotations

import math
from functools import wraps

from flask import (
    Blueprint,
    abort,
    flash,
    g,
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

from server.accounts.identity import remember_identity
from server.accounts.models import READ_ONLY_ROLES, STAFF_ROLES, Role, User
from server.accounts.services import (
    change_own_password,
    check_password,
    check_password_of_nobody,
    user_by_username,
)
from server.accounts.sessions import (
    SESSION_ID_KEY,
    end_session,
    live_session,
    start_session,
    touch,
    touch_due,
)
from server.accounts.throttle import (
    Lockout,
    audit,
    clear_failures,
    lockout_for,
    record_failure,
    username_key,
)
from server.db import utcnow, write_transaction
from server.errors import AppError
from server.extensions import db, login_manager
from server.i18n import localized
from server.redirects import local_target

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The user of this request's session, only while its server-side session is live."""
    row = live_session(session.get(SESSION_ID_KEY), user_id)
    if row is None:
        return None
    if touch_due(row):
        g.staff_session_to_touch = row.id
    remember_identity(row.user)
    return row.user


@bp.after_app_request
def _touch_session(response):
    """Move the session's expiry on (at most every ``SESSION_TOUCH_SECONDS``), after the page's
    own work, in a transaction of its own."""
    session_id = g.pop("staff_session_to_touch", None)
    if session_id is not None:
        with write_transaction(db.session):
            touch(session_id)
    return response


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


def home_page(user: User) -> str:
    """The user's first page after login."""
    if user.role == Role.NATIONAL:
        return url_for("forms_admin.index")
    return url_for("reports.index" if user.role in STAFF_ROLES else "review.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        ip = request.remote_addr or ""
        lockout = lockout_for(username, ip)
        if lockout is not None:
            return _refuse_locked_out(username, ip, lockout)
        user = user_by_username(username)
        password = request.form.get("password", "")
        # One password verification whatever the outcome, so that the time taken does not tell
        # whether the username exists (unknown and deactivated accounts check a dummy hash).
        if user is None:
            check_password_of_nobody(password)
            reason = "unknown username"
        elif not check_password(user, password):
            reason = "wrong password"
        elif user.role == Role.REVIEWER:
            reason = "reviewer account (reviewers use ODK Collect)"
        else:
            clear_failures(username)
            with write_transaction(db.session):
                end_session(session.pop(SESSION_ID_KEY, None))  # a login over another one
                token = start_session(
                    user, ip=ip, user_agent=request.user_agent.string if request.user_agent else ""
                )
            login_user(user)
            session[SESSION_ID_KEY] = token
            session.permanent = True  # expires after SESSION_LIFETIME_HOURS
            audit.info("login: %r (%s) from %s", user.username, user.role.value, ip)
            return redirect(local_target(request.args.get("next"), home_page(user)))
        audit.warning("login failed: username %r from %s: %s", username_key(username), ip, reason)
        record_failure(username, ip)
        flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
        return render_template("accounts/login.html", username=username), 401
    return render_template("accounts/login.html", username="")


def _refuse_locked_out(
    username: str, ip: str, lockout: Lockout, template: str = "accounts/login.html"
):
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
    response = make_response(render_template(template, username=username), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.info("logout: %r from %s", current_user.username, request.remote_addr)
    with write_transaction(db.session):
        end_session(session.pop(SESSION_ID_KEY, None))
    logout_user()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/tai-khoan/mat-khau", methods=["GET", "POST"])
def own_password():
    """Any web user changes their own password; their other browser sessions end, this one
    stays."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method == "POST":
        # A wrong current password counts as a failed login: whoever holds a session cannot
        # guess the password here faster than on the login page.
        username, ip = current_user.username, request.remote_addr or ""
        lockout = lockout_for(username, ip)
        if lockout is not None:
            return _refuse_locked_out(username, ip, lockout, "accounts/own_password.html")
        try:
            with write_transaction(db.session):
                user = db.session.get(User, current_user.id)
                change_own_password(
                    user,
                    request.form.get("current_password", ""),
                    request.form.get("password", ""),
                    request.form.get("password_again", ""),
                    keep_session=session.get(SESSION_ID_KEY),
                )
        except AppError as error:
            if error.code == "account.wrong_password":
                audit.warning("password change refused: %r from %s", username, ip)
                record_failure(username, ip)
            flash(localized(error.message_vi, error.message_en), "error")
            return render_template("accounts/own_password.html"), error.status
        audit.info("password changed by %r from %s", current_user.username, request.remote_addr)
        flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác của anh/chị đã kết thúc."), "info")
        return redirect(url_for(".own_password"))
    return render_template("accounts/own_password.html")
