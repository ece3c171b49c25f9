"""The printed documents of the decision step: the decision with its lists (Mẫu số 02), the
household certificates (Mẫu số 03) and the refusal letters of the monthly review.

Each function builds the one template context of its document, whoever renders it: the
request (one certificate, one refusal letter) or a background export (the decision, every
certificate of a round: :mod:`server.exports.documents`).  The caller has already found the
round within the actor's scope (:func:`server.meetings.services.round_for`); a document that
does not exist is :class:`~server.errors.AppError` 404, as the page said before."""

from __future__ import annotations

from math import ceil

from sqlalchemy import select

from server.decisions.models import Certificate, Decision, Refusal
from server.decisions.services import decision_of
from server.documents.pdf import PrintDocument
from server.errors import AppError
from server.extensions import db
from server.meetings.exports import STATUS_VI
from server.meetings.missing import MISSING_REASONS, missing_households
from server.meetings.models import HouseholdCase, ReviewRound
from server.scoring.engine import CATEGORY_VI, Category
from server.scoring.models import HouseholdScore
from server.scoring.services import words_of_score
from server.scoring.wording import member_words

CATEGORY_TEXT = {c.value: CATEGORY_VI[c] for c in Category}
# Lists of the decision (Mẫu số 02), from the final category and the previous status.
DECISION_LISTS = (
    ("ngheo", "Danh sách hộ nghèo"),
    ("can_ngheo", "Danh sách hộ cận nghèo"),
    ("thoat_ngheo", "Danh sách hộ thoát nghèo"),
    ("thoat_can_ngheo", "Danh sách hộ thoát cận nghèo"),
)
# Rows of a list on an A4 portrait page (9 pt), for the page estimate of the progress bar; the
# decision's text takes about half the first page, a list's heading about three rows.
ROWS_PER_PAGE = 52
HEADING_ROWS = 25


def _not_found(what_vi: str, what_en: str) -> AppError:
    return AppError("document.not_found", 404, f"Không tìm thấy {what_vi}.", f"No {what_en}.")


def signed_decision(review: ReviewRound) -> Decision:
    decision = decision_of(review)
    if decision is None:
        raise _not_found("quyết định của đợt rà soát", "decision for this review")
    return decision


def decided_lists(review: ReviewRound) -> dict[str, list[HouseholdCase]]:
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id, HouseholdCase.stage == "decided")
        .order_by(HouseholdCase.village_id, HouseholdCase.household_code)
    ).all()
    lists: dict[str, list[HouseholdCase]] = {key: [] for key, _title in DECISION_LISTS}
    for case in cases:
        if case.final_category in ("ngheo", "can_ngheo"):
            lists[case.final_category].append(case)
        elif case.previous_status == "ngheo":
            lists["thoat_ngheo"].append(case)
        elif case.previous_status == "can_ngheo":
            lists["thoat_can_ngheo"].append(case)
    return lists


def decision_document(review: ReviewRound) -> PrintDocument:
    """The decision and its four lists (404 before it is signed)."""
    decision = signed_decision(review)
    lists = decided_lists(review)
    missing = missing_households(review)  # last year's households with no result, and why
    rows = HEADING_ROWS + sum(len(cases) + 3 for cases in lists.values()) + len(missing) + 3
    return PrintDocument(
        "decisions/decision_print.html",
        {
            "review": review,
            "decision": decision,
            "lists": lists,
            "titles": DECISION_LISTS,
            "missing": missing,
            "missing_reasons": MISSING_REASONS,
            "statuses": STATUS_VI,
        },
        f"quyet-dinh-{review.year}.pdf",
        pages=ceil(rows / ROWS_PER_PAGE),
    )


def _members(case: HouseholdCase) -> list[dict]:
    """The members as scored, each with its coded facts (ethnicity, relationship …) in the
    words of the questionnaire that recorded them (``words``)."""
    score = db.session.get(HouseholdScore, case.score_id)
    words = words_of_score(score)
    members = (score.result.get("inputs") or {}).get("members") or []
    return [{**m, "words": member_words(m, words)} for m in members]


def certificates_of(review: ReviewRound, certificate_id: int | None = None) -> list[Certificate]:
    """The certificates of the round's decision (or only ``certificate_id``); 404 if none."""
    decision = signed_decision(review)
    certificates = [
        c for c in decision.certificates if certificate_id is None or c.id == certificate_id
    ]
    if not certificates:
        raise _not_found("giấy chứng nhận", "certificate")
    return certificates


def certificates_document(review: ReviewRound, certificate_id: int | None = None) -> PrintDocument:
    """Every certificate of the round's decision (one page each), or only ``certificate_id``."""
    certificates = certificates_of(review, certificate_id)
    decision = certificates[0].decision
    return PrintDocument(
        "decisions/certificates_print.html",
        {
            "review": review,
            "decision": decision,
            "certificates": [(c, _members(c.case)) for c in certificates],
            "categories": CATEGORY_TEXT,
        },
        f"giay-chung-nhan-{review.year}"
        + (f"-{certificates[0].sequence}" if certificate_id else "")
        + ".pdf",
        pages=len(certificates),
    )


def refusal_document(review: ReviewRound, refusal: Refusal) -> PrintDocument:
    return PrintDocument(
        "decisions/refusal_print.html",
        {
            "review": review,
            "refusal": refusal,
            "categories": CATEGORY_TEXT,
            "statuses": STATUS_VI,
        },
        f"tra-loi-{refusal.id}.pdf",
    )
