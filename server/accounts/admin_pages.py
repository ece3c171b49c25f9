"""Account management for province administrators (``/admin/nguoi-dung``): the accounts of the
administrator's province with filters, creating an account (officer, reviewer, village head, or
another administrator of the same province), and each account's page: display name and
villages, deactivation, a new password, and the device tokens that configure ODK Collect with
one QR code (shown once, right after issuing).  Deactivating an account, giving it a new
password or changing its role, commune or villages ends its browser sessions; deactivation also
revokes its device tokens, which reactivation does not bring back.

The province is enforced in every query: an account outside it is "not found" (404) on every
route, whatever the method.  The services (:mod:`server.accounts.services`) validate, flush and
write the audit log; these views commit.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from server.accounts.labels import ROLE_LABELS
from server.accounts.models import DeviceToken, Role, User
from server.accounts.services import (
    IssuedToken,
    create_user,
    issue_device_token,
    revoke_device_token,
    set_active,
    set_password,
    set_role,
    update_user,
)
from server.accounts.sessions import SESSION_ID_KEY, live_sessions
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Village
from server.i18n import localized
from server.openrosa.qr import collect_settings, settings_qr
from server.web_forms import keep_typed, list_page

bp = Blueprint("user_admin", __name__, url_prefix="/admin/nguoi-dung")

PAGE_SIZE = 100
# Ids beyond a 32-bit integer column exist nowhere (and PostgreSQL refuses to compare them).
MAX_ID = 2**31 - 1
# Accounts that use ODK Collect and therefore get device tokens (a QR code for the phone).
COLLECT_ROLES = (Role.REVIEWER, Role.VILLAGE_HEAD)
# Accounts limited to villages of their commune (a reviewer optionally, a village head always).
VILLAGE_ROLES = (Role.REVIEWER, Role.VILLAGE_HEAD)


# --- scope ------------------------------------------------------------------------------------


def _in_province():
    """Accounts of a commune of the administrator's province, and that province's
    administrators (nothing at all for an administrator without a province)."""
    province_id = current_user.province_id
    if province_id is None:
        return false()
    return or_(
        User.commune_id.in_(select(Commune.id).where(Commune.province_id == province_id)),
        and_(User.role == Role.ADMIN, User.commune_id.is_(None), User.province_id == province_id),
    )


def _user_or_404(user_id: int) -> User:
    if user_id > MAX_ID:
        abort(404)
    user = db.session.scalar(select(User).where(User.id == user_id, _in_province()))
    if user is None:
        abort(404)
    return user


def _communes() -> list[Commune]:
    if current_user.province_id is None:
        return []
    return db.session.scalars(
        select(Commune)
        .where(Commune.province_id == current_user.province_id)
        .options(selectinload(Commune.villages))
        .order_by(Commune.code)
    ).all()


def _commune_from_form(code: str) -> Commune | None:
    """The commune of the administrator's province with this code (None when left empty)."""
    if not code:
        return None
    commune = db.session.scalar(
        select(Commune).where(
            Commune.code == code,
            Commune.province_id == current_user.province_id,
            Commune.province_id.is_not(None),
        )
    )
    if commune is None:
        raise AppError(
            "account.scope",
            400,
            f"Xã {code} không thuộc tỉnh của anh/chị.",
            f"Commune {code} is not in your province.",
        )
    return commune


def _villages_from_form() -> list[Village]:
    """The villages ticked in the form (ids), each of a commune of the province."""
    raw = request.form.getlist("villages")
    try:
        ids = {int(value) for value in raw}
        if not all(1 <= i <= MAX_ID for i in ids):
            raise ValueError(ids)
    except ValueError:
        raise AppError(
            "account.scope", 400, "Thôn đã chọn không hợp lệ.", "Invalid village."
        ) from None
    if not ids:
        return []
    villages = db.session.scalars(
        select(Village)
        .join(Commune, Commune.id == Village.commune_id)
        .where(
            Village.id.in_(ids),
            Commune.province_id == current_user.province_id,
            Commune.province_id.is_not(None),
        )
        .order_by(Village.code)
    ).all()
    if len(villages) != len(ids):
        raise AppError(
            "account.scope",
            400,
            "Thôn đã chọn không thuộc tỉnh của anh/chị.",
            "A chosen village is not in your province.",
        )
    return villages


def _error(error: AppError) -> None:
    flash(localized(error.message_vi, error.message_en), "error")


# --- list and create --------------------------------------------------------------------------


def _filters() -> dict:
    return {
        "role": request.args.get("role", "").strip(),
        "commune": request.args.get("commune", "").strip(),
    }


def _index_page(form: dict | None = None, status: int = 200):
    filters = _filters()
    live_tokens = (
        select(DeviceToken.user_id, func.count(DeviceToken.id).label("n"))
        .where(DeviceToken.revoked_at.is_(None))
        .group_by(DeviceToken.user_id)
        .subquery()
    )
    query = select(User, func.coalesce(live_tokens.c.n, 0)).outerjoin(
        live_tokens, live_tokens.c.user_id == User.id
    )
    query = query.where(_in_province())
    if filters["role"] in {r.value for r in Role}:
        query = query.where(User.role == Role(filters["role"]))
    if filters["commune"]:
        query = query.join(Commune, Commune.id == User.commune_id).where(
            Commune.code == filters["commune"]
        )
    listed = list_page(
        query.options(selectinload(User.commune), selectinload(User.villages)).order_by(
            User.username
        ),
        PAGE_SIZE,
    )
    body = render_template(
        "accounts/users.html",
        listed=listed,
        filters=filters,
        roles=ROLE_LABELS,
        communes=_communes(),
        form=form or {"role": "", "commune": "", "villages": set()},
    )
    return body, status


@bp.get("")
@staff_page(Role.ADMIN)
def index():
    return _index_page()


@bp.post("")
@staff_page(Role.ADMIN)
def create():
    form = {
        "username": request.form.get("username", "").strip(),
        "display_name": request.form.get("display_name", "").strip(),
        "role": request.form.get("role", ""),
        "commune": request.form.get("commune", "").strip(),
        "villages": set(request.form.getlist("villages")),
    }
    try:
        with write_transaction(db.session):
            try:
                role = Role(form["role"])
            except ValueError:
                raise AppError("account.role", 400, "Hãy chọn vai trò.", "Choose a role.") from None
            commune, villages = None, []
            # An administrator belongs to the province of the one creating it, not to a commune;
            # only reviewers and village heads are limited to villages.
            if role != Role.ADMIN:
                commune = _commune_from_form(form["commune"])
            if role in VILLAGE_ROLES:
                villages = _villages_from_form()
            user = create_user(
                username=form["username"],
                display_name=form["display_name"],
                role=role,
                password=request.form.get("password", ""),
                commune=commune,
                villages=villages,
                province=current_user.province,
            )
            user_id, username = user.id, user.username
    except AppError as error:
        _error(error)
        return _index_page(form, error.status)
    flash(_("Đã tạo tài khoản %(username)s.", username=username), "info")
    return redirect(url_for(".detail", user_id=user_id))


# --- one account ------------------------------------------------------------------------------


def _base_url() -> str:
    return current_app.config["EXTERNAL_URL"].rstrip("/") or (
        request.host_url.rstrip("/") + request.script_root
    )


def _detail_page(
    user: User, status: int = 200, issued: IssuedToken | None = None, form: dict | None = None
):
    """The account's page; ``form``: what was typed in the edit form when it was refused."""
    tokens = db.session.scalars(
        select(DeviceToken)
        .where(DeviceToken.user_id == user.id)
        .order_by(DeviceToken.created_at.desc(), DeviceToken.id.desc())
    ).all()
    collect_url = qr_svg = None
    if issued is not None:
        collect_url = f"{_base_url()}/key/{issued.token}"
        where = user.commune.name if user.commune else ""
        project = " — ".join(p for p in ("rasoat", where, user.username) if p)
        qr_svg = settings_qr(collect_settings(collect_url, project)).svg_inline(scale=4)
    body = render_template(
        "accounts/user_detail.html",
        user=user,
        roles=ROLE_LABELS,
        tokens=tokens,
        can_have_tokens=user.role in COLLECT_ROLES,
        has_villages=user.role in VILLAGE_ROLES and user.commune is not None,
        form=form
        or {"display_name": user.display_name, "villages": {str(v.id) for v in user.villages}},
        is_self=user.id == current_user.id,
        sessions=live_sessions(user),
        communes=_communes(),
        assignable_roles={r: ROLE_LABELS[r] for r in ROLE_LABELS if r != Role.NATIONAL},
        issued=issued,
        collect_url=collect_url,
        qr_svg=qr_svg,
    )
    response = make_response(body, status)
    if issued is not None:
        # The token is shown this once: no cache may keep the page.
        response.headers["Cache-Control"] = "no-store"
    return response


def _change(user_id: int, apply, done: str, form: dict | None = None, form_name: str | None = None):
    """Run ``apply(user)`` in a write transaction; on an AppError, the page again with the
    message (nothing stored) and what was typed into ``form_name``, else back to the page with
    ``done``."""
    try:
        with write_transaction(db.session):
            apply(_user_or_404(user_id))
    except AppError as error:
        _error(error)
        if form_name:
            keep_typed(form_name)
        return _detail_page(_user_or_404(user_id), error.status, form=form)
    flash(done, "info")
    return redirect(url_for(".detail", user_id=user_id))


@bp.get("/<int:user_id>")
@staff_page(Role.ADMIN)
def detail(user_id: int):
    return _detail_page(_user_or_404(user_id))


@bp.post("/<int:user_id>/sua")
@staff_page(Role.ADMIN)
def update(user_id: int):
    def apply(user: User) -> None:
        villages = _villages_from_form() if user.role in VILLAGE_ROLES else None
        update_user(user, display_name=request.form.get("display_name", ""), villages=villages)

    typed = {
        "display_name": request.form.get("display_name", ""),
        "villages": set(request.form.getlist("villages")),
    }
    return _change(user_id, apply, _("Đã lưu thông tin tài khoản."), typed)


@bp.post("/<int:user_id>/trang-thai")
@staff_page(Role.ADMIN)
def change_active(user_id: int):
    active = request.form.get("active") == "1"

    def apply(user: User) -> None:
        set_active(user, active, actor=current_user)

    done = (
        _("Đã mở lại tài khoản. Mã thiết bị cũ vẫn bị thu hồi: hãy cấp mã mới cho điện thoại.")
        if active
        else _("Đã khoá tài khoản. Các phiên đăng nhập và mã thiết bị của tài khoản đã bị thu hồi.")
    )
    return _change(user_id, apply, done)


@bp.post("/<int:user_id>/mat-khau")
@staff_page(Role.ADMIN)
def change_password(user_id: int):
    def apply(user: User) -> None:
        if request.form.get("password", "") != request.form.get("password_again", ""):
            raise AppError(
                "account.password_mismatch",
                400,
                "Hai lần nhập mật khẩu không giống nhau.",
                "The two passwords differ.",
            )
        # An administrator who sets their own password here stays logged in in this browser.
        keep = session.get(SESSION_ID_KEY) if user.id == current_user.id else None
        set_password(user, request.form.get("password", ""), keep_session=keep)

    return _change(user_id, apply, _("Đã đặt mật khẩu mới."))


@bp.post("/<int:user_id>/vai-tro")
@staff_page(Role.ADMIN)
def change_role(user_id: int):
    def apply(user: User) -> None:
        try:
            role = Role(request.form.get("role", ""))
        except ValueError:
            raise AppError("account.role", 400, "Hãy chọn vai trò.", "Choose a role.") from None
        if role == Role.NATIONAL:
            raise AppError("account.role", 400, "Hãy chọn vai trò.", "Choose a role.")
        code = request.form.get("commune", "").strip()
        commune = None if role == Role.ADMIN else _commune_from_form(code)
        villages = _villages_from_form() if role in VILLAGE_ROLES else []
        set_role(
            user,
            role,
            commune=commune,
            villages=villages,
            province=current_user.province,
            actor=current_user,
        )

    return _change(
        user_id,
        apply,
        _("Đã đổi vai trò; tài khoản phải đăng nhập lại."),
        form_name="role",
    )


@bp.post("/<int:user_id>/ma-thiet-bi")
@staff_page(Role.ADMIN)
def issue_token(user_id: int):
    try:
        with write_transaction(db.session):
            user = _user_or_404(user_id)
            if user.role not in COLLECT_ROLES:
                raise AppError(
                    "device_token.role",
                    400,
                    "Chỉ cấp mã thiết bị cho rà soát viên và trưởng thôn.",
                    "Device tokens are only for reviewers and village heads.",
                )
            if not user.active:
                raise AppError(
                    "device_token.inactive",
                    400,
                    "Tài khoản đang bị khoá; hãy mở lại trước khi cấp mã thiết bị.",
                    "The account is deactivated; reactivate it before issuing a device token.",
                )
            issued = issue_device_token(user, request.form.get("label", ""))
    except AppError as error:
        _error(error)
        keep_typed("token")
        return _detail_page(_user_or_404(user_id), error.status)
    flash(
        _(
            "Đã cấp mã thiết bị. Quét mã QR bên dưới trong ODK Collect ngay bây giờ: "
            "mã này chỉ hiện một lần."
        ),
        "info",
    )
    return _detail_page(_user_or_404(user_id), issued=issued)


@bp.post("/<int:user_id>/ma-thiet-bi/<int:token_id>/thu-hoi")
@staff_page(Role.ADMIN)
def revoke_token(user_id: int, token_id: int):
    with write_transaction(db.session):
        user = _user_or_404(user_id)
        token = db.session.scalar(
            select(DeviceToken).where(
                DeviceToken.id == min(token_id, MAX_ID), DeviceToken.user_id == user.id
            )
        )
        if token is None:
            abort(404)
        already = token.revoked_at is not None
        if not already:
            revoke_device_token(token)
    if already:
        flash(_("Mã thiết bị này đã bị thu hồi trước đó."), "info")
    else:
        flash(_("Đã thu hồi mã thiết bị; điện thoại dùng mã này không gửi được nữa."), "info")
    return redirect(url_for(".detail", user_id=user_id))
