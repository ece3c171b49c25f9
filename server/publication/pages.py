"""Staff pages: posting the results (with a printable notice, made by a background export:
:mod:`server.exports.documents`) and complaints with re-checks."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from server.access.services import case_households, record_access
from server.accounts.models import Role
from server.accounts.web import staff_page
from server.errors import AppError
from server.extensions import db
from server.i18n import vietnam_today
from server.meetings.methods import DISAGREE_LABEL, METHOD_LABELS, methods_of
from server.meetings.models import HouseholdCase
from server.meetings.services import round_for
from server.publication.documents import posting_of
from server.publication.services import (
    CATEGORIES,
    case_of,
    complaint_of,
    complaints_of,
    file_complaint,
    post_results,
    postings_of,
    record_recheck,
)
from server.scoring.labels import CATEGORY_LABELS
from server.web_forms import form_date, submit

bp = Blueprint("publication", __name__, url_prefix="/xa/ra-soat")
STAFF = (Role.OFFICER, Role.ADMIN)


def _round(round_id: int):
    try:
        return round_for(current_user, round_id)
    except AppError:
        abort(404)


def _run(round_id: int, apply, form_name: str) -> Response:
    """Run ``apply(review)``; refused, the page again with the reason and what was typed into
    ``form_name``."""
    again = submit(
        lambda: apply(_round(round_id)), form_name, lambda: index(round_id), _("Đã lưu.")
    )
    return again or redirect(url_for(".index", round_id=round_id))


@bp.get("/<int:round_id>/niem-yet")
@staff_page(*STAFF)
def index(round_id: int):
    review = _round(round_id)
    posted = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id, HouseholdCase.stage == "posted")
        .order_by(HouseholdCase.household_code)
    ).all()
    complaints = complaints_of(review)
    record_access(
        "list",
        case_households([*posted, *(c.case for c in complaints)], review.commune_id),
        ref=f"round:{review.id}/posting",
    )
    return render_template(
        "publication/index.html",
        review=review,
        postings=postings_of(review),
        complaints=complaints,
        posted=posted,
        categories=CATEGORY_LABELS,
        choices=CATEGORIES,
        today=vietnam_today(),
        methods=methods_of([c.score_id for c in posted] + [c.case.score_id for c in complaints]),
        method_labels=METHOD_LABELS,
        disagree_label=DISAGREE_LABEL,
    )


@bp.post("/<int:round_id>/niem-yet")
@staff_page(*STAFF)
def create_posting(round_id: int):
    form = request.form
    return _run(
        round_id,
        lambda review: post_results(
            current_user,
            review,
            form.get("places", ""),
            form_date(form.get("starts_on"), vietnam_today()),
            form_date(form.get("ends_on")),
        ),
        "posting",
    )


@bp.get("/<int:round_id>/niem-yet/<int:number>.pdf")
@staff_page(*STAFF)
def posting_pdf(round_id: int, number: int):
    """The notice is a background export (its list grows with the commune); this old address
    offers it, after the same checks as before."""
    review = _round(round_id)
    try:
        posting_of(review, number)
    except AppError:
        abort(404)
    return render_template(
        "exports/offer.html",
        kind="posting_pdf",
        params={"round_id": review.id, "number": number},
        label=_("Thông báo niêm yết (PDF)"),
        back=url_for(".index", round_id=review.id),
        back_label=_("Niêm yết và khiếu nại"),
    )


@bp.post("/<int:round_id>/khieu-nai")
@staff_page(*STAFF)
def create_complaint(round_id: int):
    form = request.form

    def apply(review):
        try:
            case_id = int(form.get("case_id", ""))
        except ValueError:
            raise AppError(
                "case.not_found", 400, "Chọn hộ bị khiếu nại.", "Pick a household."
            ) from None
        file_complaint(
            current_user,
            review,
            case_of(review, case_id),
            form_date(form.get("received_on"), vietnam_today()),
            form.get("complainant", ""),
            form.get("content", ""),
        )

    return _run(round_id, apply, "complaint")


@bp.post("/<int:round_id>/khieu-nai/<int:complaint_id>/phuc-tra")
@staff_page(*STAFF)
def recheck(round_id: int, complaint_id: int):
    form = request.form
    return _run(
        round_id,
        lambda review: record_recheck(
            current_user,
            review,
            complaint_of(review, complaint_id),
            form_date(form.get("rechecked_on"), vietnam_today()),
            form.get("rechecked_by", ""),
            form.get("result", ""),
            form.get("outcome", ""),
            form.get("new_category") or None,
        ),
        f"recheck-{complaint_id}",
    )
