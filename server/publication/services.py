"""Posting the results and handling complaints.  Services flush; callers commit; every change
is in the audit log."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from server.accounts.models import User
from server.audit.services import record
from server.db import utcnow
from server.errors import AppError
from server.extensions import db
from server.meetings.models import HouseholdCase, ReviewRound
from server.meetings.services import list_type_for
from server.publication.models import Complaint, Posting, PostingItem
from server.scoring.engine import Category

OUTCOMES = ("giu_nguyen", "thay_doi")
CATEGORIES = tuple(
    c.value for c in Category if c not in (Category.NOT_ASSESSED, Category.UNDETERMINED)
)


def _invalid(message_vi: str, message_en: str, errors: dict | None = None) -> AppError:
    return AppError("posting.invalid", 400, message_vi, message_en, errors or {})


def postings_of(review: ReviewRound) -> list[Posting]:
    return list(
        db.session.scalars(
            select(Posting).where(Posting.round_id == review.id).order_by(Posting.number)
        )
    )


def post_results(
    actor: User, review: ReviewRound, places: str, starts_on: date, ends_on: date | None = None
) -> Posting:
    """Post every household the village meetings approved (first posting), or, later, every
    household whose result a re-check changed (a further posting of the changes)."""
    places = "\n".join(line.strip() for line in (places or "").splitlines() if line.strip())
    if not places:
        raise _invalid(
            "Cần ghi ít nhất một nơi niêm yết (nhà văn hóa thôn, trụ sở UBND xã…).",
            "At least one posting place is required.",
            {"places": ["required"]},
        )
    ends_on = ends_on or starts_on + timedelta(days=review.posting_days)
    if ends_on < starts_on:
        raise _invalid(
            "Ngày kết thúc niêm yết phải sau ngày bắt đầu.",
            "The posting must end after it starts.",
            {"ends_on": ["before starts_on"]},
        )
    number = (
        db.session.scalar(select(func.max(Posting.number)).where(Posting.round_id == review.id))
        or 0
    ) + 1
    stage = "meeting_passed" if number == 1 else "changed"
    cases = db.session.scalars(
        select(HouseholdCase)
        .where(HouseholdCase.round_id == review.id, HouseholdCase.stage == stage)
        .order_by(HouseholdCase.village_id, HouseholdCase.household_code)
    ).all()
    if number > 1:  # households approved by a meeting held after the first posting, too
        cases += db.session.scalars(
            select(HouseholdCase).where(
                HouseholdCase.round_id == review.id, HouseholdCase.stage == "meeting_passed"
            )
        ).all()
    if not cases:
        raise _invalid(
            "Không có hộ nào cần niêm yết (chưa có hộ được họp dân thông qua, hoặc không có "
            "thay đổi sau phúc tra).",
            "Nothing to post.",
        )
    posting = Posting(
        round_id=review.id,
        number=number,
        places=places,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor.id,
    )
    db.session.add(posting)
    db.session.flush()
    for case in cases:
        db.session.add(
            PostingItem(posting_id=posting.id, case_id=case.id, category=case.proposed_category)
        )
        case.stage, case.updated_at = "posted", utcnow()
    db.session.flush()
    record(
        "posting.create",
        "posting",
        posting.id,
        commune_id=review.commune_id,
        after={
            "number": number,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "households": len(cases),
        },
        note=places,
        actor_id=actor.id,
    )
    return posting


def case_of(review: ReviewRound, case_id: int) -> HouseholdCase:
    case = db.session.scalar(
        select(HouseholdCase).where(
            HouseholdCase.id == case_id, HouseholdCase.round_id == review.id
        )
    )
    if case is None:
        raise AppError("case.not_found", 404, "Không tìm thấy hộ.", "Household not found.")
    return case


def file_complaint(
    actor: User,
    review: ReviewRound,
    case: HouseholdCase,
    received_on: date,
    complainant: str,
    content: str,
) -> Complaint:
    """A complaint about a posted household's result; its re-check is due after the round's
    complaint period."""
    errors = {}
    if case.stage != "posted":
        errors["case"] = ["Chỉ nhận khiếu nại về hộ đang được niêm yết."]
    if not (complainant or "").strip():
        errors["complainant"] = ["Cần ghi người khiếu nại."]
    if not (content or "").strip():
        errors["content"] = ["Cần ghi nội dung khiếu nại."]
    if errors:
        raise _invalid(
            "Khiếu nại chưa hợp lệ: " + " ".join(m for ms in errors.values() for m in ms),
            "Invalid complaint.",
            errors,
        )
    complaint = Complaint(
        round_id=review.id,
        case_id=case.id,
        received_on=received_on,
        complainant=complainant.strip(),
        content=content.strip(),
        recheck_due=received_on + timedelta(days=review.complaint_days),
        created_by_id=actor.id,
    )
    db.session.add(complaint)
    case.stage, case.updated_at = "complaint", utcnow()
    db.session.flush()
    record(
        "complaint.file",
        "complaint",
        complaint.id,
        commune_id=review.commune_id,
        after={"case": case.id, "household": case.household_code, "received_on": received_on},
        note=complaint.content,
        actor_id=actor.id,
    )
    return complaint


def record_recheck(
    actor: User,
    review: ReviewRound,
    complaint: Complaint,
    rechecked_on: date,
    rechecked_by: str,
    result: str,
    outcome: str,
    new_category: str | None = None,
) -> Complaint:
    """The re-check's result.  Unchanged: the household is posted as before.  Changed: its
    result becomes ``new_category`` and must be posted again before the decision."""
    errors = {}
    if complaint.outcome is not None:
        errors["complaint"] = ["Khiếu nại này đã được phúc tra."]
    if outcome not in OUTCOMES:
        errors["outcome"] = ["Chọn kết quả phúc tra: giữ nguyên hoặc thay đổi."]
    if outcome == "thay_doi" and new_category not in CATEGORIES:
        errors["new_category"] = ["Chọn phân loại mới của hộ."]
    if not (rechecked_by or "").strip() or not (result or "").strip():
        errors["result"] = ["Cần ghi người phúc tra và kết quả phúc tra."]
    if errors:
        raise _invalid(
            "Kết quả phúc tra chưa hợp lệ: " + " ".join(m for ms in errors.values() for m in ms),
            "Invalid re-check.",
            errors,
        )
    case = complaint.case
    before = {"stage": case.stage, "category": case.proposed_category}
    complaint.rechecked_on, complaint.rechecked_by = rechecked_on, rechecked_by.strip()
    complaint.recheck_result, complaint.outcome = result.strip(), outcome
    if outcome == "thay_doi" and new_category != case.proposed_category:
        complaint.new_category = new_category
        case.proposed_category = new_category
        case.list_type = list_type_for(case.previous_status, new_category)
        case.stage = "changed"
    else:
        case.stage = "posted"
    case.updated_at = utcnow()
    db.session.flush()
    record(
        "complaint.recheck",
        "complaint",
        complaint.id,
        commune_id=review.commune_id,
        before=before,
        after={"stage": case.stage, "category": case.proposed_category},
        note=complaint.recheck_result,
        actor_id=actor.id,
    )
    return complaint


def complaints_of(review: ReviewRound) -> list[Complaint]:
    return list(
        db.session.scalars(
            select(Complaint).where(Complaint.round_id == review.id).order_by(Complaint.id)
        )
    )


def complaint_of(review: ReviewRound, complaint_id: int) -> Complaint:
    found = db.session.scalar(
        select(Complaint).where(Complaint.id == complaint_id, Complaint.round_id == review.id)
    )
    if found is None:
        raise AppError(
            "complaint.not_found", 404, "Không tìm thấy khiếu nại.", "Complaint not found."
        )
    return found
