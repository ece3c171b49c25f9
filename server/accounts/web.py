"""Staff login for the web pages (session cookie, CSRF-protected forms).

Devices never use this: ODK Collect keeps no cookies and authenticates every request
(:mod:`server.accounts.httpauth`).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from server.accounts.models import Role, User
from server.accounts.services import check_password, user_by_username
from server.extensions import db, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


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


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login."""
    if not target or urlsplit(target).netloc or not target.startswith("/"):
        return url_for("status.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = user_by_username(username)
        if (
            user is not None
            and user.role != Role.REVIEWER
            and check_password(user, request.form.get("password", ""))
        ):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
        return render_template("accounts/login.html", username=username), 401
    return render_template("accounts/login.html", username="")


@bp.post("/logout")
def logout():
    logout_user()
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))
