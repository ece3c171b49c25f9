"""Staff pages for the review procedure (``/xa/ra-soat``): rounds, village lists (page, print,
PDF, XLSX), the village meeting record with its votes, and the minutes (PDF, two copies).  The
PDFs are background exports (:mod:`server.exports.documents`); their old addresses offer them."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from server.access.services import Seen, lists_households, record_access
from server.accounts.models import STAFF_ROLES, VIEWER_ROLES
from server.accounts.web import staff_page
from server.db import write_transaction
from server.errors import AppError
from server.extensions import db
from server.geography.models import Commune
from server.i18n import current_language, localized, vietnam_today
from server.meetings.documents import village_rows
from server.meetings.exports import lists_xlsx
from server.meetings.methods import (
    DISAGREE_LABEL,
    METHOD_LABELS,
)
from server.meetings.missing import MISSING_REASONS, NOTE_MAX, missing_households, record_reason
from server.meetings.requests import requests_for
from server.meetings.services import (
    MeetingInput,
    compile_lists,
    disagreement_counts,
    meeting_for,
    meetings_of,
    open_round,
    record_meeting,
    round_for,
    rounds_for,
    stage_counts,
    village_of,
    villages_of,
)
from server.meetings.settings import HELD_BACK, set_approved_only
from server.review.services import REVIEW_WORDS
from server.submissions.scope import commune_scope
from server.web_forms import form_date, run_and_flash, submit

bp = Blueprint("meetings", __name__, url_prefix="/xa/ra-soat")
STAFF = STAFF_ROLES
VIEWERS = VIEWER_ROLES  # village heads look at their villages' lists and minutes

STAGE_LABELS = {
    "listed": _l("Chờ họp dân"),
    "meeting_passed": _l("Họp dân đã thông qua"),
    "resurvey": _l("Rà soát lại"),
    "posted": _l("Đang niêm yết"),
    "complaint": _l("Có khiếu nại"),
    "changed": _l("Thay đổi sau phúc tra"),
    "decided": _l("Đã có quyết định"),
    "refused": _l("Đã trả lời không công nhận"),
}
KIND_LABELS = {"dinh_ky": _l("Rà soát định kỳ"), "thuong_xuyen": _l("Rà soát thường xuyên")}
LIST_LABELS = {
    "moi_ngheo": _l("Hộ nghèo mới (phát sinh, tái nghèo, từ cận nghèo)"),
    "moi_can_ngheo": _l("Hộ cận nghèo mới (phát sinh, tái cận nghèo)"),
    "thoat_ngheo": _l("Hộ thoát nghèo"),
    "thoat_can_ngheo": _l("Hộ thoát cận nghèo"),
    "con_ngheo": _l("Hộ nghèo tiếp tục"),
    "con_can_ngheo": _l("Hộ cận nghèo tiếp tục"),
    "khong_thuoc_dien": _l("Không thuộc diện nghèo, cận nghèo (không biểu quyết)"),
    "chua_du_ket_qua": _l("Chưa đủ kết quả (không biểu quyết)"),
}
# The reasons a household of last year's lists has no result (server.meetings.missing).
MISSING_REASON_LABELS = {
    "moved": _l("Chuyển đi nơi khác"),
    "merged_split": _l("Nhập hộ hoặc tách hộ"),
    "died_out": _l("Hộ không còn người"),
    "not_reviewed": _l("Chưa rà soát được"),
    "other": _l("Lý do khác"),
}
LAST_STATUS_LABELS = {"ngheo": _l("Hộ nghèo"), "can_ngheo": _l("Hộ cận nghèo")}
assert set(MISSING_REASON_LABELS) == set(MISSING_REASONS)


def missing_context(review, village=None, typed=None) -> dict:
    """What ``meetings/_missing.html`` needs: the missing households (of the village when
    given, else of the user's villages), the reasons' labels and what was typed into a refused
    form."""
    visible = {v.id for v in villages_of(review, current_user)}
    missing = [m for m in missing_households(review, village) if m.household.village_id in visible]
    if missing:  # names and last year's status: a look at those households
        record_access(
            "list",
            [Seen(m.household.id, m.household.code, review.commune_id) for m in missing],
            ref=f"round:{review.id}/missing",
        )
    return {
        "missing": missing,
        "missing_village": village,
        "missing_reasons": MISSING_REASON_LABELS,
        "last_status_labels": LAST_STATUS_LABELS,
        "note_max": NOTE_MAX,
        "missing_typed": typed or {},
    }


def _fail(error: AppError):
    if error.status == 404:
        abort(404)
    flash(localized(error.message_vi, error.message_en), "error")


@bp.get("")
@staff_page(*VIEWERS)
def index():
    communes = db.session.scalars(
        select(Commune).where(commune_scope(current_user)).order_by(Commune.code)
    ).all()
    return render_template(
        "meetings/rounds.html",
        rounds=rounds_for(current_user),
        communes=communes,
        kinds=KIND_LABELS,
        this_year=vietnam_today().year,
    )


@bp.post("/cai-dat")
@staff_page(*STAFF)
def change_settings():
    """A commune's rule for its meeting lists (form fields ``commune`` and ``approved_only``:
    "1" only approved results, anything else every result)."""
    form = request.form
    approved_only = form.get("approved_only") == "1"
    run_and_flash(
        lambda: set_approved_only(current_user, form.get("commune", ""), approved_only),
        _("Đã lưu: chỉ đưa hộ đã duyệt ra họp dân.")
        if approved_only
        else _("Đã lưu: đưa mọi hộ có kết quả ra họp dân."),
    )
    return redirect(url_for(".index"))


@bp.post("")
@staff_page(*STAFF)
def create():
    """Open a round; refused, the list of rounds again with the reason and what was typed."""
    form = request.form
    commune = db.session.scalar(
        select(Commune).where(Commune.code == form.get("commune", ""), commune_scope(current_user))
    )
    if commune is None:
        abort(404)
    opened = []

    def apply():
        try:
            year, month = int(form.get("year", "0")), int(form.get("month") or 0)
        except ValueError:
            raise AppError(
                "round.invalid", 400, "Năm hoặc tháng không hợp lệ.", "Invalid year or month."
            ) from None
        new = open_round(
            current_user,
            commune,
            year,
            form.get("kind", ""),
            month or None,
            form_date(form.get("started_on")),
        )
        opened.append(new.id)

    again = submit(apply, "open_round", index, _("Đã mở đợt rà soát."))
    if again is not None:
        return again
    return redirect(url_for(".round_page", round_id=opened[0]))


@bp.get("/<int:round_id>")
@staff_page(*VIEWERS)
def round_page(round_id: int):
    return _round_page(round_id)


def _round_page(round_id: int, typed: dict | None = None, status: int = 200):
    try:
        review = round_for(current_user, round_id)
    except AppError:
        abort(404)
    return render_template(
        "meetings/round.html",
        **missing_context(review, None, typed),
        review=review,
        counts=stage_counts(review),
        disagreements=disagreement_counts(review),
        villages=villages_of(review, current_user),
        requests=requests_for(review, current_user, current_language()),
        today=vietnam_today(),
        stages=STAGE_LABELS,
        kinds=KIND_LABELS,
    ), status


@bp.post("/<int:round_id>/ho-chua-co-ket-qua")
@staff_page(*STAFF)
def missing_reason(round_id: int):
    """Record why a household of last year's lists has no result (form fields ``household``,
    ``reason``, ``note``; ``village``: the village page it was sent from).  A refused reason
    shows the page again with the message and what was typed (4xx)."""
    form = request.form
    village_code = form.get("village") or None
    typed = {
        "household": form.get("household", ""),
        "reason": form.get("reason", ""),
        "note": form.get("note", ""),
    }
    try:
        household_id = int(typed["household"])
    except ValueError:
        abort(404)
    try:
        with write_transaction(db.session):
            review = round_for(current_user, round_id)
            record_reason(current_user, review, household_id, typed["reason"], typed["note"])
    except AppError as error:
        if error.status == 404:
            abort(404)
        flash(localized(error.message_vi, error.message_en), "error")
        if village_code:
            return _village_page(round_id, village_code, typed, error.status)
        return _round_page(round_id, typed, error.status)
    flash(_("Đã ghi lý do."), "info")
    if village_code:
        return redirect(
            url_for(".village_page", round_id=round_id, village_code=village_code) + "#missing"
        )
    return redirect(url_for(".round_page", round_id=round_id) + "#missing")


@bp.post("/<int:round_id>/lap-danh-sach")
@staff_page(*STAFF)
def compile_page(round_id: int):
    try:
        with write_transaction(db.session):
            review = round_for(current_user, round_id)
            result = compile_lists(current_user, review)
    except AppError as error:
        _fail(error)
        return redirect(url_for(".round_page", round_id=round_id))
    flash(
        _(
            "Đã lập danh sách: %(added)d hộ mới, %(updated)d hộ cập nhật, %(back)d hộ rà soát "
            "lại đưa ra họp lần nữa.",
            added=result.added,
            updated=result.updated,
            back=result.back_from_resurvey,
        ),
        "info",
    )
    return redirect(url_for(".round_page", round_id=round_id))


def _village_context(round_id: int, village_code: str):
    try:
        review = round_for(current_user, round_id)
        village = village_of(review, village_code, current_user)
    except AppError:
        abort(404)
    lists, rows = village_rows(review, village)
    return review, village, lists, rows


@bp.get("/<int:round_id>/thon/<village_code>")
@staff_page(*VIEWERS)
def village_page(round_id: int, village_code: str):
    return _village_page(round_id, village_code)


def _village_page(
    round_id: int,
    village_code: str,
    typed: dict | None = None,
    status=200,
    meeting_typed: dict | None = None,
):
    """The village's lists and meeting form; ``typed`` / ``meeting_typed``: what was typed in
    a missing-household reason / the meeting record that was refused, shown again."""
    review, village, lists, rows = _village_context(round_id, village_code)
    record_access(
        "list",
        lists_households(lists, review.commune_id),
        ref=f"round:{review.id}/village:{village.code}",
    )
    return render_template(
        "meetings/village.html",
        meeting_typed=meeting_typed,
        **missing_context(review, village, typed),
        review=review,
        village=village,
        lists=lists,
        rows=rows,
        list_labels=LIST_LABELS,
        stages=STAGE_LABELS,
        kinds=KIND_LABELS,
        meetings=meetings_of(review, village),
        today=vietnam_today(),
        method_labels=METHOD_LABELS,
        disagree_label=DISAGREE_LABEL,
        held_back=HELD_BACK,
        review_words=REVIEW_WORDS,
    ), status


def _offer(kind: str, params: dict, label: str, back: str) -> str:
    """The address of a PDF now made in the background (a bookmark, an old link): the page
    that asks for it, after the same checks as before."""
    return render_template(
        "exports/offer.html",
        kind=kind,
        params=params,
        label=label,
        back=back,
        back_label=_("Danh sách họp dân"),
    )


@bp.get("/<int:round_id>/thon/<village_code>/danh-sach.pdf")
@staff_page(*VIEWERS)
def village_pdf(round_id: int, village_code: str):
    """The village's lists as PDF are a background export; this old address offers it."""
    try:
        review = round_for(current_user, round_id)
        village = village_of(review, village_code, current_user)
    except AppError:
        abort(404)
    return _offer(
        "village_lists_pdf",
        {"round_id": review.id, "village_code": village.code},
        _("Danh sách họp dân của thôn (PDF)"),
        url_for(".village_page", round_id=review.id, village_code=village.code),
    )


@bp.get("/<int:round_id>/thon/<village_code>/danh-sach.xlsx")
@staff_page(*VIEWERS)
def village_xlsx(round_id: int, village_code: str):
    review, village, lists, _rows = _village_context(round_id, village_code)
    record_access(
        "xlsx",
        lists_households(lists, review.commune_id),
        ref=f"round:{review.id}/village:{village.code}",
    )
    return _download(
        lists_xlsx(review, lists),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"danh-sach-{review.year}-{village.code}.xlsx",
    )


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _meeting_input(form) -> MeetingInput:
    def number(name: str) -> int:
        try:
            return int(form.get(name, ""))
        except ValueError:
            return -1

    try:
        held_on = date.fromisoformat(form.get("held_on", ""))
    except ValueError:
        raise AppError(
            "meeting.invalid", 400, "Ngày họp không hợp lệ.", "Invalid meeting date."
        ) from None
    agree = {
        int(key.removeprefix("agree_")): number(key)
        for key in form
        if key.startswith("agree_") and key.removeprefix("agree_").isdigit()
    }
    return MeetingInput(
        held_on=held_on,
        place=form.get("place", ""),
        chair=form.get("chair", ""),
        secretary=form.get("secretary", ""),
        attendees=number("attendees"),
        fatherland_front_present=form.get("fatherland_front_present") == "yes",
        fatherland_front_representative=form.get("fatherland_front_representative"),
        notes=form.get("notes"),
        agree=agree,
    )


@bp.post("/<int:round_id>/thon/<village_code>/hop-dan")
@staff_page(*STAFF)
def meeting_create(round_id: int, village_code: str):
    back = url_for(".village_page", round_id=round_id, village_code=village_code)
    try:
        with write_transaction(db.session):
            review = round_for(current_user, round_id)
            village = village_of(review, village_code, current_user)
            meeting = record_meeting(current_user, review, village, _meeting_input(request.form))
            failed = sum(1 for v in meeting.votes if not v.passed)
            passed = len(meeting.votes) - failed
    except AppError as error:  # the page again, every typed field still filled
        _fail(error)
        typed = {k: v[:2000] for k, v in request.form.items() if k != "csrf_token"}
        return _village_page(round_id, village_code, status=error.status, meeting_typed=typed)
    flash(
        _(
            "Đã ghi biên bản họp dân: %(passed)d hộ được thông qua, %(failed)d hộ phải rà soát "
            "lại.",
            passed=passed,
            failed=failed,
        ),
        "info",
    )
    return redirect(back)


@bp.get("/<int:round_id>/hop-dan/<int:meeting_id>/bien-ban.pdf")
@staff_page(*VIEWERS)
def minutes_pdf(round_id: int, meeting_id: int):
    """The minutes as PDF are a background export; this old address offers it."""
    try:
        review = round_for(current_user, round_id)
        meeting = meeting_for(review, meeting_id, current_user)
    except AppError:
        abort(404)
    return _offer(
        "minutes_pdf",
        {"round_id": review.id, "meeting_id": meeting.id},
        _("Biên bản họp dân (PDF, 2 bản)"),
        url_for(".village_page", round_id=review.id, village_code=meeting.village.code),
    )
