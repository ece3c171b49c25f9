"""Staff pages: the decision (with what still blocks it), its PDF (Mẫu số 02), the household
certificates (Mẫu số 03) and, in the monthly review, refusals in writing.  The decision's PDF
and all the certificates are background exports (:mod:`server.exports.documents`); their old
addresses offer them; one certificate and a refusal letter are made in the request."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from server.access.services import Seen, case_households, record_access
from server.accounts.models import Role
from server.accounts.web import staff_page
from server.approvals.labels import STATE_LABELS as CONSULTATION_STATES
from server.approvals.services import consultation_of, needs_province_opinion
from server.db import write_transaction
from server.decisions.documents import (
    certificates_document,
    certificates_of,
    refusal_document,
    signed_decision,
)
from server.decisions.models import Refusal
from server.decisions.services import (
    days_left,
    decision_of,
    readiness,
    refusal_of,
    refuse,
    sign_decision,
)
from server.documents.pdf import PDF_MIMETYPE
from server.errors import AppError
from server.extensions import db
from server.i18n import vietnam_today
from server.meetings.methods import DISAGREE_LABEL, METHOD_LABELS, methods_of
from server.meetings.missing import missing_households
from server.meetings.models import HouseholdCase
from server.meetings.pages import LAST_STATUS_LABELS, MISSING_REASON_LABELS, STAGE_LABELS
from server.meetings.services import review_states, round_for
from server.meetings.settings import held_back
from server.publication.services import case_of
from server.review.services import REVIEW_WORDS
from server.scoring.labels import CATEGORY_LABELS
from server.web_forms import form_date, refused, submit

bp = Blueprint("decisions", __name__, url_prefix="/xa/ra-soat")
STAFF = (Role.OFFICER, Role.ADMIN)


def _round(round_id: int):
    try:
        return round_for(current_user, round_id)
    except AppError:
        abort(404)


@bp.get("/<int:round_id>/quyet-dinh")
@staff_page(*STAFF)
def index(round_id: int):
    return _index(round_id)


def _index(round_id: int, status: int = 200):
    """The decision page (what was typed into a refused form: :func:`server.web_forms.typed`)."""
    review = _round(round_id)
    decision = decision_of(review)
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id)
        .order_by(HouseholdCase.household_code)
    ).all()
    refusals = db.session.scalars(select(Refusal).where(Refusal.round_id == review.id)).all()
    methods = methods_of(c.score_id for c in cases)
    states = review_states(c.submission_id for c in cases)
    missing = missing_households(review)
    record_access(
        "list",
        case_households(cases, review.commune_id)
        + [Seen(m.household.id, m.household.code, review.commune_id) for m in missing],
        ref=f"round:{review.id}/decision",
    )
    return render_template(
        "decisions/index.html",
        review=review,
        decision=decision,
        missing=missing,
        missing_reasons=MISSING_REASON_LABELS,
        last_status_labels=LAST_STATUS_LABELS,
        check=None if decision else readiness(review),
        cases=cases,
        methods=methods,
        flagged=[c for c in cases if c.score_id in methods and methods[c.score_id].disagree],
        method_labels=METHOD_LABELS,
        disagree_label=DISAGREE_LABEL,
        refusals=refusals,
        categories=CATEGORY_LABELS,
        days_left=days_left(review, vietnam_today()),
        today=vietnam_today(),
        needs_opinion=needs_province_opinion(review.commune.province_id),
        consultation=consultation_of(review),
        opinion_states=CONSULTATION_STATES,
        review_states=states,
        review_words=REVIEW_WORDS,
        stages=STAGE_LABELS,
        approved_only=review.commune.meeting_lists_approved_only,
        held={
            c.id
            for c in cases
            if held_back(
                review.commune.meeting_lists_approved_only,
                c.stage,
                states.get(c.submission_id),
            )
        },
    ), status


@bp.post("/<int:round_id>/quyet-dinh")
@staff_page(*STAFF)
def sign(round_id: int):
    """Record the decision; refused, the page again with the reasons and what was typed."""
    form = request.form
    try:
        with write_transaction(db.session):
            sign_decision(
                current_user,
                _round(round_id),
                form.get("number", ""),
                _signed_date(form.get("signed_on")),
                form.get("signer_name", ""),
                form.get("signer_title", ""),
            )
    except AppError as error:
        return refused(error, "sign", lambda: _index(round_id))
    flash(_("Đã ghi quyết định công nhận."), "info")
    return redirect(url_for(".index", round_id=round_id))


def _signed_date(raw: str | None) -> date:
    """A required date: blank is as invalid as a malformed one."""
    found = form_date(raw)
    if found is None:
        raise AppError("date.invalid", 400, "Ngày không hợp lệ.", "Invalid date.")
    return found


def _pdf(document) -> Response:
    response = Response(document.pdf(), mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


def _found(find):
    try:
        return find()
    except AppError:
        abort(404)


def _offer(review, kind: str, label: str) -> str:
    """The address of a PDF now made in the background (a bookmark, an old link): the page
    that asks for it, after the same checks as before."""
    return render_template(
        "exports/offer.html",
        kind=kind,
        params={"round_id": review.id},
        label=label,
        back=url_for(".index", round_id=review.id),
        back_label=_("Quyết định công nhận"),
    )


@bp.get("/<int:round_id>/quyet-dinh.pdf")
@staff_page(*STAFF)
def decision_pdf(round_id: int):
    review = _round(round_id)
    _found(lambda: signed_decision(review))
    return _offer(review, "decision_pdf", _("Quyết định công nhận kèm danh sách (PDF)"))


@bp.get("/<int:round_id>/giay-chung-nhan.pdf")
@bp.get("/<int:round_id>/giay-chung-nhan/<int:certificate_id>.pdf")
@staff_page(*STAFF)
def certificates_pdf(round_id: int, certificate_id: int | None = None):
    """One certificate, a page, is made in the request (well under a second); all of them are
    a background export, which the old address offers."""
    review = _round(round_id)
    if certificate_id is not None:
        document = _found(lambda: certificates_document(review, certificate_id))
        record_access(
            "pdf",
            case_households(
                [c.case for c in certificates_of(review, certificate_id)], review.commune_id
            ),
            ref=f"certificate:{certificate_id}",
        )
        return _pdf(document)
    _found(lambda: certificates_of(review))
    return _offer(review, "certificates_pdf", _("Tất cả giấy chứng nhận (PDF)"))


@bp.post("/<int:round_id>/tu-choi")
@staff_page(*STAFF)
def create_refusal(round_id: int):
    form = request.form

    def apply():
        review = _round(round_id)
        try:
            case_id = int(form.get("case_id", ""))
        except ValueError:
            raise AppError("case.not_found", 400, "Chọn hộ.", "Pick a household.") from None
        refuse(
            current_user,
            review,
            case_of(review, case_id),
            form.get("reason", ""),
            _signed_date(form.get("answered_on")),
            form.get("signer_name", ""),
        )

    again = submit(apply, "refusal", lambda: _index(round_id), _("Đã ghi văn bản trả lời."))
    return again or redirect(url_for(".index", round_id=round_id))


@bp.get("/<int:round_id>/tu-choi/<int:refusal_id>.pdf")
@staff_page(*STAFF)
def refusal_pdf(round_id: int, refusal_id: int):
    review = _round(round_id)
    try:
        refusal = refusal_of(review, refusal_id)
    except AppError:
        abort(404)
    record_access(
        "pdf", case_households([refusal.case], review.commune_id), ref=f"refusal:{refusal.id}"
    )
    return _pdf(refusal_document(review, refusal))
