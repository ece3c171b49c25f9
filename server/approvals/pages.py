"""Pages of the approval chain: the province administrator's rule and answers
(``/admin/phe-duyet``), and the commune asking for the province's opinion from its decision page
(``/xa/ra-soat/<round>/xin-y-kien``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from server.accounts.models import STAFF_ROLES, Role
from server.accounts.web import staff_page
from server.approvals.labels import STATE_LABELS
from server.approvals.services import (
    answer,
    consultation_for,
    consultations_for,
    needs_province_opinion,
    proposed_counts,
    request_opinion,
    set_rule,
)
from server.errors import AppError
from server.extensions import db
from server.geography.models import Province
from server.meetings.services import round_for
from server.scoring.labels import CATEGORY_LABELS
from server.web_forms import run_and_flash, submit

bp = Blueprint("approvals", __name__)


def _province() -> Province:
    province = db.session.get(Province, current_user.province_id or 0)
    if province is None:
        abort(404)
    return province


@bp.get("/admin/phe-duyet")
@staff_page(Role.ADMIN)
def index():
    province = _province()
    consultations = consultations_for(current_user)
    return render_template(
        "approvals/index.html",
        province=province,
        needs_opinion=needs_province_opinion(province.id),
        consultations=consultations,
        counts={c.id: proposed_counts(c.round) for c in consultations},
        states=STATE_LABELS,
        categories=CATEGORY_LABELS,
    )


@bp.post("/admin/phe-duyet/quy-trinh")
@staff_page(Role.ADMIN)
def change_rule():
    province = _province()
    needs = request.form.get("needs_province_opinion") == "yes"
    run_and_flash(lambda: set_rule(current_user, province, needs))
    return redirect(url_for(".index"))


@bp.post("/admin/phe-duyet/<int:consultation_id>")
@staff_page(Role.ADMIN)
def give_opinion(consultation_id: int):
    form = request.form
    again = submit(
        lambda: answer(
            current_user,
            consultation_for(current_user, consultation_id),
            form.get("opinion", ""),
            form.get("comment", ""),
        ),
        f"opinion-{consultation_id}",
        index,
        _("Đã ghi ý kiến của tỉnh."),
    )
    return again or redirect(url_for(".index"))


@bp.post("/xa/ra-soat/<int:round_id>/xin-y-kien")
@staff_page(*STAFF_ROLES)
def ask(round_id: int):
    def apply():
        try:
            review = round_for(current_user, round_id)
        except AppError:
            abort(404)
        request_opinion(current_user, review, request.form.get("note", ""))

    # The decision page (of the decisions package, which itself uses this one: looked up by
    # its endpoint, not imported) again when refused.
    page = current_app.view_functions["decisions.index"]
    again = submit(
        apply, "ask_opinion", lambda: page(round_id=round_id), _("Đã gửi xin ý kiến của tỉnh.")
    )
    return again or redirect(url_for("decisions.index", round_id=round_id))
