"""The province's personal-data page: the notice each household questionnaire opens with (read
and edited by the province administrator; a national administrator reads rasoat's default)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.accounts.models import ADMIN_ROLES
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.privacy.notice import (
    TEXT_MAX,
    default_notice,
    notice_for,
    province_for_page,
    reset_notice,
    set_notice,
)

bp = Blueprint("privacy_admin", __name__, url_prefix="/admin/du-lieu-ca-nhan")


def _page(typed: dict | None = None, error: AppError | None = None) -> str:
    province = province_for_page(current_user)
    return render_template(
        "privacy/index.html",
        province=province,
        notice=notice_for(province.id if province else None),
        default=default_notice(),
        typed=typed,
        error=error,
        text_max=TEXT_MAX,
    )


@bp.get("")
@staff_page(*ADMIN_ROLES)
def index():
    return _page()


@bp.post("/thong-bao")
@staff_page(*ADMIN_ROLES)
def save_notice():
    typed = {
        "text_vi": request.form.get("text_vi", "")[: TEXT_MAX * 4],
        "text_en": request.form.get("text_en", "")[: TEXT_MAX * 4],
    }
    try:
        with write_transaction(db.session):
            if request.form.get("action") == "reset":
                changed = reset_notice(current_user)
                message = "Đã dùng lại lời thông báo mặc định của rasoat."
            else:
                changed = set_notice(current_user, typed["text_vi"], typed["text_en"])
                message = "Đã lưu thông báo; điện thoại nhận bản mới khi cập nhật biểu mẫu."
    except AppError as error:
        return _page(typed=typed, error=error), error.status
    flash(message if changed else "Không có gì thay đổi.", "info")
    return redirect(url_for(".index"))
