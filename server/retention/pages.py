"""The province administrator's retention page (``/admin/luu-tru``): the rules (months after
the round's decision per kind of a submission's data; after the file was made for generated
export files; after the look for access records), the dry run of what a purge would delete
today (or on a chosen day) and what is held and why, and the legal holds (set and cleared
here, audited).

The purge itself runs only from the command line (``flask retention apply``), never in a web
request: it deletes files and may take long."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune, Province
from server.i18n import localized, vietnam_today
from server.meetings.models import ReviewRound
from server.retention.kinds import DEFAULT_NOTE, KIND_BASIS, KIND_LABELS, KINDS
from server.retention.services import (
    active_holds,
    clear_hold,
    plan,
    rules_for,
    set_hold,
    set_rules,
    unmatched_holds,
)
from server.web_forms import filter_date, run_and_flash

bp = Blueprint("retention", __name__)

MAX_FIELD = 1000


def _province() -> Province:
    province = db.session.get(Province, current_user.province_id or 0)
    if province is None:
        abort(404)
    return province


def _page(province: Province, typed: dict | None = None, hold_typed: dict | None = None):
    day = filter_date(request.args.get("ngay")) or vietnam_today()
    communes = db.session.scalars(
        select(Commune).where(Commune.province_id == province.id).order_by(Commune.name)
    ).all()
    rounds = db.session.scalars(
        select(ReviewRound)
        .where(ReviewRound.commune_id.in_([c.id for c in communes]))
        .order_by(ReviewRound.commune_id, ReviewRound.year.desc(), ReviewRound.month)
    ).all()
    return render_template(
        "retention/index.html",
        province=province,
        rules=rules_for(province.id),
        kinds=KINDS,
        labels=KIND_LABELS,
        basis=KIND_BASIS,
        default_note=DEFAULT_NOTE,
        typed=typed,
        hold_typed=hold_typed or {},
        plan=plan(day, province.id),
        day=day,
        holds=(holds := active_holds(province.id)),
        unmatched=unmatched_holds(holds),
        communes=communes,
        rounds=rounds,
    )


@bp.get("/admin/luu-tru")
@staff_page(Role.ADMIN)
def index():
    return _page(_province())


@bp.post("/admin/luu-tru/quy-tac")
@staff_page(Role.ADMIN)
def change_rules():
    province = _province()
    typed = {kind: request.form.get(kind, "")[:20] for kind in KINDS}
    try:
        with write_transaction(db.session):
            changed = set_rules(current_user, province, typed)
    except AppError as error:
        if error.status == 404:
            abort(404)
        return _error_page(province, error, typed=typed)

    flash(_("Đã lưu thời hạn lưu trữ.") if changed else _("Không có thay đổi."), "info")
    return redirect(url_for(".index"))


@bp.post("/admin/luu-tru/giu-lai")
@staff_page(Role.ADMIN)
def hold():
    province = _province()
    form = request.form
    typed = {
        name: form.get(name, "")[: MAX_FIELD + 1]
        for name in ("commune", "round_id", "household_code", "reason")
    }
    try:
        with write_transaction(db.session):
            set_hold(
                current_user,
                typed["commune"],
                typed["round_id"],
                typed["household_code"],
                typed["reason"],
            )
    except AppError as error:
        if error.status == 404:
            abort(404)
        return _error_page(province, error, hold_typed=typed)

    flash(_("Đã ghi lệnh giữ lại: dữ liệu này sẽ không bị xoá."), "info")
    return redirect(url_for(".index"))


@bp.post("/admin/luu-tru/giu-lai/<int:hold_id>/bo")
@staff_page(Role.ADMIN)
def release(hold_id: int):
    _province()
    run_and_flash(lambda: clear_hold(current_user, hold_id), _("Đã bỏ lệnh giữ lại."))
    return redirect(url_for(".index"))


def _error_page(province: Province, error: AppError, **typed):
    flash(localized(error.message_vi, error.message_en), "error")
    return _page(province, **typed), 400
