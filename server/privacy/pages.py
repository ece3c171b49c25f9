"""The province's personal-data page: the notice each household questionnaire opens with (read
and edited by the province administrator; a national administrator reads rasoat's default).
And a household's own data (its right of access): the page of everything held about it, its
PDF, and the corrections made at its request."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.access.pages import KIND_LABELS as ACCESS_KIND_LABELS
from server.access.pages import ROLE_LABELS
from server.accounts.models import ADMIN_ROLES, STAFF_ROLES
from server.accounts.web import staff_page
from server.audit.pages import TARGET_LABELS, action_label
from server.db import utcnow, write_transaction
from server.documents.pdf import PDF_MIMETYPE, PrintDocument
from server.errors import AppError
from server.extensions import db
from server.households.labels import STATUS_LABELS
from server.i18n import current_language, local_time, vietnam_today
from server.meetings.pages import KIND_LABELS as ROUND_KIND_LABELS
from server.meetings.pages import LIST_LABELS, STAGE_LABELS
from server.privacy.household import (
    ACCESS_SHOWN,
    CorrectionInput,
    household_data,
    note_produced,
    record_correction,
)
from server.privacy.notice import (
    TEXT_MAX,
    default_notice,
    notice_for,
    province_for_page,
    reset_notice,
    set_notice,
)
from server.retention.kinds import KIND_LABELS
from server.review.services import STATE_LABELS
from server.scoring.labels import CATEGORY_LABELS
from server.workspace.pages import HOUSEHOLD_COMMUNE, KIND_TITLES

bp = Blueprint("privacy_admin", __name__, url_prefix="/admin/du-lieu-ca-nhan")
# What a page keeps of a typed field (the service refuses anything longer with a message).
TEXT_LIMIT = 20_000


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


# A household's own data, from its page in the commune workspace.
household_bp = Blueprint("household_data", __name__, url_prefix="/xa/ho")
COMMUNE_ARG = HOUSEHOLD_COMMUNE


def _data(code: str):
    try:
        return household_data(
            current_user, code, request.args.get(COMMUNE_ARG, ""), current_language()
        )
    except AppError as error:
        if error.status == 404:
            abort(404)
        raise


def _household_labels() -> dict:
    return {
        "statuses": STATUS_LABELS,
        "categories": CATEGORY_LABELS,
        "kind_titles": KIND_TITLES,
        "states": STATE_LABELS,
        "stages": STAGE_LABELS,
        "list_types": LIST_LABELS,
        "round_kinds": ROUND_KIND_LABELS,
        "purged_labels": KIND_LABELS,
        "access_kinds": ACCESS_KIND_LABELS,
        "access_roles": ROLE_LABELS,
        "access_shown": ACCESS_SHOWN,
        "action_label": action_label,
        "target_label": lambda t: TARGET_LABELS.get(t, t),
    }


def _commune_arg() -> dict[str, str]:
    """The commune of the household (a province administrator's pages name it)."""
    chosen = request.args.get(COMMUNE_ARG, "")
    return {COMMUNE_ARG: chosen} if chosen else {}


def _household_page(code: str, typed: dict | None = None, error: AppError | None = None):
    data = _data(code)
    with write_transaction(db.session):
        note_produced(current_user, data, "page")
    return render_template(
        "privacy/household_data.html",
        data=data,
        typed=typed or {},
        error=error,
        today=vietnam_today(),
        commune_arg={COMMUNE_ARG: request.args[COMMUNE_ARG]}
        if request.args.get(COMMUNE_ARG)
        else {},
        **_household_labels(),
    )


@household_bp.get("/<code>/du-lieu")
@staff_page(*STAFF_ROLES)
def household_page(code: str):
    return _household_page(code)


@household_bp.get("/<code>/du-lieu.pdf")
@staff_page(*STAFF_ROLES)
def household_pdf(code: str):
    data = _data(code)
    with write_transaction(db.session):
        note_produced(current_user, data, "pdf")
    now = utcnow()
    document = PrintDocument(
        "privacy/household_data_print.html",
        {
            "data": data,
            "produced_at": now,
            "produced": local_time(now),
            "producer": current_user,
            **_household_labels(),
        },
        f"du-lieu-cua-ho-{data.view.code}.pdf",
    )
    response = Response(document.pdf(), mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


@household_bp.post("/<code>/sua-thong-tin")
@staff_page(*STAFF_ROLES)
def correction(code: str):
    typed = {
        key: request.form.get(key, "")[:TEXT_LIMIT]
        for key in ("requested_on", "requested_by", "request", "action")
    }
    try:
        with write_transaction(db.session):
            record_correction(
                current_user, code, CorrectionInput(**typed), request.args.get(COMMUNE_ARG, "")
            )
    except AppError as error:
        if error.status == 404:
            abort(404)
        return _household_page(code, typed, error), error.status
    flash("Đã ghi việc sửa thông tin theo đề nghị của hộ.", "info")
    return redirect(url_for(".household_page", code=code, **_commune_arg()) + "#corrections")
